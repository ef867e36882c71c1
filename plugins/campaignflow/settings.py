"""Runtime settings: where the lake, landing zone and exports live, and pipeline parameters.

Everything comes from the environment (or Airflow connections in a deployment), never from code.
One setting, ``CAMPAIGNFLOW_LAKE``, moves the whole pipeline to a new location.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ENV_PREFIX = "CAMPAIGNFLOW_"
# The earliest logical date the pipeline processes and the earliest order date an import accepts:
# older dates in a shop's log are placeholders (1970-01-01, 1900-01-01), not orders.
EARLIEST_DATE = date(1980, 1, 1)


def project_root() -> Path:
    """The repository root (this package lives in ``plugins/campaignflow``)."""
    return Path(__file__).resolve().parents[2]


def default_home() -> Path:
    return project_root() / "var"


CHURN_CANDIDATES = (
    "churn_lgbm",
    "churn_torch",
    "churn_rfm",
    "churn_bgnbd",
)  # the churn estimators (campaignflow.models.churn.ESTIMATORS)
# campaignflow.recommend.bpr.NAME, and a baseline chosen to serve (campaignflow.recommend.serving.BASELINE_NAME)
RECOMMENDER_CANDIDATES = ("recommender_bpr", "recommender_baseline")


@dataclass(frozen=True)
class Settings:
    """Pipeline settings; build with :meth:`from_env`.

    Attributes:
        lake_uri: root of the lake (raw, features, scores, audiences, models): a directory or s3://.
        landing_uri: where the shop's nightly exports arrive (defaults to ``<lake>/landing``).
        exports_uri: where audience files are published (defaults to ``<lake>/exports``).
        s3_endpoint_url: endpoint of an S3-compatible store (None: AWS).
        s3_encryption: server-side encryption asked for on every S3 put ("AES256", "aws:kms"; None:
            the bucket's default, for stores that refuse the header).
        churn_horizon_days: a customer is churned at D if no order in (D, D+H].
        campaigns_dir: folder of campaign YAML specs.
        seed: seed for every random choice the pipeline makes (splits, model training).
        segment_period_days: how long one fitted k-means segment model serves before a refit.
        retrain_days: a new churn model is trained when the newest is this many days old.
        snapshot_step_days: days between the training snapshots (as-of dates).
        snapshot_count: how many snapshots a training set spans (test, validation, train).
        promotion_margin: test-AUC margin a challenger must beat the champion by.
        churn_candidates: the churn models trained and compared at each retrain.
        backfill_ahead_days: in a backfill, how many following dates (raw validated) a feature build
            also builds in its Spark session, and a segments build segments (features committed)
            (0: each date by its own run only).
    """

    lake_uri: str
    landing_uri: str
    exports_uri: str
    s3_endpoint_url: str | None = None
    s3_encryption: str | None = "AES256"
    churn_horizon_days: int = 90
    campaigns_dir: str = field(default_factory=lambda: str(project_root() / "campaigns"))
    seed: int = 7
    segment_period_days: int = 28
    retrain_days: int = 7
    snapshot_step_days: int = 28
    snapshot_count: int = 6
    promotion_margin: float = 0.005
    churn_candidates: tuple[str, ...] = CHURN_CANDIDATES
    recommend_k: int = 10
    recommend_horizon_days: int = 28
    recommend_exclude_bought_days: int = 0  # 0: recommend what they bought before, too (buy again)
    global_control_fraction: float = 0.0  # share of customers held out of every campaign (0: none)
    backfill_ahead_days: int = 10

    @classmethod
    def under(cls, root: str | Path, **overrides: Any) -> Settings:
        """Defaults with the lake, landing zone and exports in folders of one ``root`` (tests, benchmarks)."""
        root = Path(root).resolve()
        folders = {f"{name}_uri": str(root / name) for name in ("lake", "landing", "exports")}
        return cls(**{**folders, **overrides})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get(f"{ENV_PREFIX}HOME", str(default_home()))).resolve()
        lake = _absolute(env.get(f"{ENV_PREFIX}LAKE", str(home / "lake")))
        horizon = int(env.get(f"{ENV_PREFIX}CHURN_HORIZON_DAYS", "90"))
        if horizon < 1:
            from campaignflow.errors import ConfigError

            raise ConfigError(f"{ENV_PREFIX}CHURN_HORIZON_DAYS must be >= 1, got {horizon}")
        return cls(
            lake_uri=lake,
            landing_uri=_absolute(env.get(f"{ENV_PREFIX}LANDING", join_uri(lake, "landing"))),
            exports_uri=_absolute(env.get(f"{ENV_PREFIX}EXPORTS", join_uri(lake, "exports"))),
            s3_endpoint_url=env.get(f"{ENV_PREFIX}S3_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL") or None,
            s3_encryption=_encryption(env.get(f"{ENV_PREFIX}S3_ENCRYPTION", "AES256")),
            churn_horizon_days=horizon,
            campaigns_dir=env.get(f"{ENV_PREFIX}CAMPAIGNS_DIR", str(project_root() / "campaigns")),
            seed=int(env.get(f"{ENV_PREFIX}SEED", "7")),
            segment_period_days=int(env.get(f"{ENV_PREFIX}SEGMENT_PERIOD_DAYS", "28")),
            retrain_days=int(env.get(f"{ENV_PREFIX}RETRAIN_DAYS", "7")),
            snapshot_step_days=int(env.get(f"{ENV_PREFIX}SNAPSHOT_STEP_DAYS", "28")),
            snapshot_count=int(env.get(f"{ENV_PREFIX}SNAPSHOT_COUNT", "6")),
            promotion_margin=float(env.get(f"{ENV_PREFIX}PROMOTION_MARGIN", "0.005")),
            churn_candidates=_candidates(env.get(f"{ENV_PREFIX}CHURN_CANDIDATES", ",".join(CHURN_CANDIDATES))),
            recommend_k=_positive(env, "RECOMMEND_K", 10),
            recommend_horizon_days=_positive(env, "RECOMMEND_HORIZON_DAYS", 28),
            recommend_exclude_bought_days=int(env.get(f"{ENV_PREFIX}RECOMMEND_EXCLUDE_BOUGHT_DAYS", "0")),
            global_control_fraction=_share(env, "GLOBAL_CONTROL_FRACTION", 0.0),
            backfill_ahead_days=_at_least_zero(env, "BACKFILL_AHEAD_DAYS", 10),
        )


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    from campaignflow.errors import ConfigError

    value = float(env.get(f"{ENV_PREFIX}{name}", str(default)))
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{ENV_PREFIX}{name} must be in [0, 1), got {value}")
    return value


def _encryption(value: str) -> str | None:
    from campaignflow.errors import ConfigError

    if value.lower() in ("", "none", "off"):
        return None
    if value not in ("AES256", "aws:kms", "aws:kms:dsse"):
        raise ConfigError(f"{ENV_PREFIX}S3_ENCRYPTION must be AES256, aws:kms, aws:kms:dsse or none, got {value!r}")
    return value


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    return _at_least(env, name, default, 1)


def _at_least_zero(env: Mapping[str, str], name: str, default: int) -> int:
    return _at_least(env, name, default, 0)


def _at_least(env: Mapping[str, str], name: str, default: int, least: int) -> int:
    from campaignflow.errors import ConfigError

    value = int(env.get(f"{ENV_PREFIX}{name}", str(default)))
    if value < least:
        raise ConfigError(f"{ENV_PREFIX}{name} must be >= {least}, got {value}")
    return value


def _candidates(value: str) -> tuple[str, ...]:
    from campaignflow.errors import ConfigError

    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = sorted(set(names) - set(CHURN_CANDIDATES))
    if not names or unknown:
        raise ConfigError(
            f"{ENV_PREFIX}CHURN_CANDIDATES must list some of {', '.join(CHURN_CANDIDATES)}, got {value!r}"
        )
    return names


def join_uri(base: str, *parts: str) -> str:
    """Join path parts onto a directory or s3:// URI."""
    out = base.rstrip("/")
    for part in parts:
        out = f"{out}/{part.strip('/')}"
    return out


def _absolute(uri: str) -> str:
    if "://" in uri:
        return uri.rstrip("/")
    return str(Path(uri).expanduser().resolve())
