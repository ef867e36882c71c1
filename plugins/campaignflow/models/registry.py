"""The model registry in the lake: versioned artifacts and a point-in-time champion pointer.

* A version is ``models/<name>/dt=V/`` (V = training date): the estimator's files, the calibration
  map, the feature list with its schema hash, metrics, pictures; the manifest's meta holds the
  training window, metrics and code version. Loading checks every file against the manifest's
  SHA-256, so a truncated or edited file is refused, never half-loaded.
* The champion is ``registry/churn_champion/dt=D/champion.json``: from D on, this model serves.
  The champion *at* D is the newest pointer dated on or before D, so backfills use the model that
  served then. A rollback writes a pointer restoring the champion that served before the current
  one was promoted (``origin`` remembers which promotion a pointer restores, so repeated rollbacks
  walk further back).
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from campaignflow.errors import ConfigError, CorruptModel, MissingPartition
from campaignflow.io import datasets
from campaignflow.io.lake import Lake
from campaignflow.settings import CHURN_CANDIDATES as CANDIDATES
from campaignflow.settings import RECOMMENDER_CANDIDATES

log = logging.getLogger(__name__)

CHAMPION_FILE = "champion.json"
TASKS: dict[str, tuple[str, ...]] = {"churn": CANDIDATES, "recommender": RECOMMENDER_CANDIDATES}


@dataclass(frozen=True)
class Champion:
    name: str
    version: str
    since: str  # the pointer's date
    origin: str  # the date of the promotion this pointer stands for
    reason: str

    def label(self) -> str:
        return f"{self.name}@{self.version}"


def schema_hash(columns: list[str]) -> str:
    """A short hash of the ordered model columns: scoring refuses features that do not match it."""
    return hashlib.sha256("\n".join(columns).encode()).hexdigest()[:16]


def code_version() -> str:
    """The package version, plus the git commit when running from a checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        out = version("campaignflow")
    except PackageNotFoundError:
        out = "unknown"
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{out}+{sha}" if sha else out


def save_version(lake: Lake, name: str, version: str, files: dict[str, bytes], rows: int, meta: dict[str, Any]) -> None:
    lake.write_files(datasets.model(name).at(version), files, rows, {**meta, "code_version": code_version()})


def read_version(lake: Lake, name: str, version: str) -> tuple[dict[str, bytes], dict[str, Any]]:
    """A version's files (each checked against its manifest checksum) and its manifest meta.

    Raises:
        MissingPartition: no such committed version.
        CorruptModel: a file is missing or its bytes differ from what was committed.
    """
    ref = datasets.model(name).at(version)
    if not lake.is_committed(ref):
        raise MissingPartition(f"no model {name} version {version} in {lake.uri}")
    manifest = lake.manifest(ref)
    files: dict[str, bytes] = {}
    for entry in manifest["files"]:
        key = f"{ref.key}/{entry['name']}"
        try:
            data = lake.store.read_bytes(key)
        except FileNotFoundError as err:
            raise CorruptModel(f"{lake.store.full_uri(key)} is missing from the registered model") from err
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise CorruptModel(
                f"{lake.store.full_uri(key)}: {len(data)} bytes whose checksum differs from the "
                f"{entry['bytes']} bytes registered (truncated or changed after it was written)"
            )
        files[entry["name"]] = data
    return files, dict(manifest["meta"])


def versions(lake: Lake, name: str, end: str | None = None) -> list[str]:
    return lake.committed_dates(datasets.model(name), end=end)


def last_training(lake: Lake, ds: str, task: str = "churn") -> str | None:
    """The newest training date on or before ``ds`` of any candidate of ``task``."""
    dates = [v for name in TASKS[task] for v in versions(lake, name, end=ds)]
    return max(dates) if dates else None


def training_due(lake: Lake, ds: str, task: str, retrain_days: int, force: bool) -> tuple[Champion | None, str | None]:
    """The champion of ``task`` serving at ``ds`` and why not to train now (None: train).

    Raises:
        ConfigError: the champion's version is ``ds`` itself; retraining would overwrite it.
    """
    current = champion(lake, ds, task)
    last = last_training(lake, ds, task)
    age = (date.fromisoformat(ds) - date.fromisoformat(last)).days if last else None
    if current and not force and age is not None and age < retrain_days:
        return current, f"newest model is {age} day(s) old"
    if current and current.version == ds:
        raise ConfigError(
            f"{current.label()} serves as the {task} champion: retraining at {ds} would overwrite it "
            "(train at a later date, or roll back first)"
        )
    return current, None


def champion(lake: Lake, ds: str, task: str = "churn") -> Champion | None:
    """The model of ``task`` serving at ``ds``: the newest pointer dated on or before it."""
    dates = lake.committed_dates(datasets.champion(task), end=ds)
    return _pointer(lake, dates[-1], task) if dates else None


def history(lake: Lake, task: str = "churn") -> list[Champion]:
    return [_pointer(lake, d, task) for d in lake.committed_dates(datasets.champion(task))]


def _pointer(lake: Lake, dt: str, task: str) -> Champion:
    ref = datasets.champion(task).at(dt)
    return Champion(**json.loads(lake.store.read_bytes(f"{ref.key}/{CHAMPION_FILE}")))


def task_of(name: str) -> str:
    """The task a model name belongs to."""
    for task, names in TASKS.items():
        if name in names:
            return task
    raise ConfigError(f"unknown model {name!r}; registered kinds: {[n for ns in TASKS.values() for n in ns]}")


def set_champion(lake: Lake, ds: str, name: str, version: str, reason: str, origin: str | None = None) -> Champion:
    """Point the registry of ``name``'s task at ``name@version`` from ``ds`` on (replacing one written at ``ds``).

    Raises:
        ConfigError: the version does not exist or was trained after ``ds`` (it would see the future).
    """
    task = task_of(name)
    if version > ds:
        raise ConfigError(f"{name}@{version} was trained after {ds}; a model cannot serve before it exists")
    if not lake.is_committed(datasets.model(name).at(version)):
        raise ConfigError(f"no model {name}@{version} in the registry (campaignflow models list shows them)")
    pointer = Champion(name, version, ds, origin or ds, reason)
    data = json.dumps(asdict(pointer), indent=2).encode()
    lake.write_files(datasets.champion(task).at(ds), {CHAMPION_FILE: data}, 1, asdict(pointer))
    log.info("%s champion from %s: %s (%s)", task, ds, pointer.label(), reason)
    return pointer


def rollback(lake: Lake, ds: str, task: str = "churn") -> Champion:
    """Restore, from ``ds`` on, the champion of ``task`` that served before the current one was promoted.

    Raises:
        ConfigError: there is no current champion, or it is the first one ever promoted.
    """
    current = champion(lake, ds, task)
    if current is None:
        raise ConfigError(f"no {task} champion serves at {ds}: nothing to roll back")
    before = (date.fromisoformat(current.origin) - timedelta(days=1)).isoformat()
    previous = champion(lake, before, task)
    if previous is None:
        raise ConfigError(f"{current.label()} is the first champion (promoted {current.origin}): nothing to restore")
    reason = f"rollback from {current.label()} to {previous.label()}"
    return set_champion(lake, ds, previous.name, previous.version, reason, origin=previous.origin)


def record_training_run(lake: Lake, task: str, ds: str, result: dict[str, Any]) -> dict[str, Any]:
    """Commit what the training of ``task`` decided at ``ds`` (one partition per date); ``result`` back.

    Scoring for D waits for this record, so a date's champion is settled before anything is scored.
    A re-run of a date that trained finds its own model "not due" (0 days old): the record of the
    training, with its metrics and the reason for the promotion, is kept, and returned instead.
    """
    recorded = training_decision(lake, ds, task)
    if recorded and recorded.get("trained") and not result.get("trained"):
        return recorded
    data = json.dumps(result, indent=2, sort_keys=True, default=str).encode()
    lake.write_files(datasets.training_run(task).at(ds), {"decision.json": data}, 0, json.loads(data))
    return result


def training_recorded(lake: Lake, ds: str, task: str) -> bool:
    """Whether the training of ``task`` has decided for ``ds``."""
    return lake.is_committed(datasets.training_run(task).at(ds))


def training_decision(lake: Lake, ds: str, task: str) -> dict[str, Any] | None:
    """What the training of ``task`` decided for ``ds`` (:func:`record_training_run`), or None."""
    ref = datasets.training_run(task).at(ds)
    return lake.manifest(ref)["meta"] if lake.is_committed(ref) else None


def no_model_yet(lake: Lake, ds: str) -> str | None:
    """Why no churn model serves at ``ds``, when its training refused for lack of history (a young
    shop: scoring and campaigns are skipped); None when a model serves or no refusal is recorded."""
    if champion(lake, ds) is not None:
        return None
    refused = (training_decision(lake, ds, "churn") or {}).get("refused")
    return str(refused) if refused else None


LISTED_METRICS = {"churn": ("auc", "ece", "log_loss"), "recommender": ("recall@10", "ndcg@10", "coverage@10")}


def listing(lake: Lake, task: str = "churn") -> dict[str, Any]:
    """Every registered version of ``task`` with its test metrics, and the champion history."""
    out: dict[str, Any] = {"versions": [], "champions": [asdict(c) for c in history(lake, task)]}
    for name in TASKS[task]:
        for v in versions(lake, name):
            meta = lake.manifest(datasets.model(name).at(v))["meta"]
            test = meta.get("metrics", {}).get("test", {})
            row = {"model": name, "version": v, **{k: test.get(k) for k in LISTED_METRICS[task]}}
            out["versions"].append({**row, "decision": meta.get("decision")})
    return out
