"""Campaign specs (YAML): who to target, who to hold out, and where to publish.

A spec is validated on load, against its schema and against the columns rules can use (scores and
features, with their types); every problem of every file is reported with the file and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from campaignflow.campaigns.content import Content, content_problems
from campaignflow.errors import CampaignSpecError

SPEC_SUFFIXES = (".yaml", ".yml")

Op = Literal[">=", ">", "<=", "<", "==", "!=", "in", "not in"]


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str
    op: Op
    value: float | int | str | bool | list[float | int | str]


class AudienceRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    where: list[Condition] = Field(min_length=1)
    order_by: str = "churn_prob"
    max_size: int | None = Field(default=None, gt=0)


class Control(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fraction: float = Field(default=0.1, ge=0.0, lt=1.0)
    salt: str | None = None  # defaults to the campaign name: change it to reshuffle the holdout


class Consent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    require_marketing_consent: bool = True
    exclude_unsubscribed: bool = True


class Destination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9_\-]+$")
    format: Literal["csv"] = "csv"
    identifiers: list[Literal["email_sha256", "phone_sha256"]] = Field(default=["email_sha256"], min_length=1)
    content: bool = False  # carry the campaign's personalised content (variant, subject, body, products)


class CampaignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    active: bool = True
    audience: AudienceRule
    control: Control = Control()
    consent: Consent = Consent()
    destinations: list[Destination] = Field(min_length=1)
    content: Content | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", value):
            raise ValueError("must be lower-case letters, digits, '-' or '_' (it names folders)")
        return value

    @property
    def control_salt(self) -> str:
        return self.control.salt or self.name


def rule_columns() -> dict[str, str]:
    """Columns a rule or ``order_by`` may name, with their kind ("number" or "string")."""
    from campaignflow.features.catalogue import FEATURE_COLUMNS
    from campaignflow.models.churn import SCORE_COLUMNS, SEGMENT_SCORE_COLUMNS
    from campaignflow.models.value import VALUE_COLUMNS

    return {**SCORE_COLUMNS, **VALUE_COLUMNS, **SEGMENT_SCORE_COLUMNS, **dict.fromkeys(FEATURE_COLUMNS, "number")}


def spec_problems(spec: CampaignSpec, columns: dict[str, str]) -> list[str]:
    """What is wrong with a schema-valid spec against the columns rules can use (empty: nothing)."""
    problems = []
    conditions = [(f"audience.where.{i}", cond) for i, cond in enumerate(spec.audience.where)]
    if spec.content is not None:
        problems += content_problems(spec.content, columns)
        conditions += [
            (f"content.variants.{i}.when", Condition(**v.when.model_dump()))
            for i, v in enumerate(spec.content.variants)
            if v.when is not None and v.when.column in columns
        ]
    for i, dest in enumerate(spec.destinations):
        if dest.content and spec.content is None:
            problems.append(f"destinations.{i}.content: the campaign has no content block to carry")
    for field, cond in conditions:
        kind = columns.get(cond.column)
        if kind is None:
            problems.append(f"{field}.column: unknown column {cond.column!r}; rules can use {sorted(columns)}")
            continue
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        if isinstance(cond.value, list) and cond.op not in ("in", "not in"):
            problems.append(f"{field}.value: a list needs op 'in' or 'not in', not {cond.op!r}")
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        textual = all(isinstance(v, str) for v in values)
        if kind == "number" and not numeric:
            problems.append(f"{field}.value: {cond.column!r} is a number; compare it with numbers, not {cond.value!r}")
        if kind == "string" and not textual:
            problems.append(f"{field}.value: {cond.column!r} is text; compare it with text, not {cond.value!r}")
        if kind == "string" and cond.op in (">=", ">", "<=", "<"):
            problems.append(f"{field}.op: {cond.column!r} is text; use ==, !=, in or not in, not {cond.op!r}")
    if spec.audience.order_by not in columns:
        problems.append(f"audience.order_by: unknown column {spec.audience.order_by!r}")
    elif columns[spec.audience.order_by] != "number":
        problems.append(f"audience.order_by: {spec.audience.order_by!r} is text; order by a number")
    return problems


def load_campaign(path: str | Path, columns: dict[str, str] | None = None) -> CampaignSpec:
    """One spec, checked against its schema and ``columns`` (default: :func:`rule_columns`).

    Raises:
        CampaignSpecError: naming the file and every bad field.
    """
    spec, problems = _load(Path(path), rule_columns() if columns is None else columns)
    if problems or spec is None:
        raise CampaignSpecError(f"{path}: invalid campaign spec:\n  " + "\n  ".join(problems))
    return spec


def campaign_paths(folder: str | Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())


def load_named_campaign(folder: str | Path, name: str) -> CampaignSpec:
    """The campaign ``name`` from ``folder/<name>.yaml`` (or ``.yml``); its inner name must match."""
    paths = [p for p in campaign_paths(folder) if p.stem == name] if Path(folder).is_dir() else []
    if not paths:
        raise CampaignSpecError(f"no campaign {name!r}: no {name}.yaml or {name}.yml in {folder}")
    if len(paths) > 1:
        raise CampaignSpecError(f"campaign {name!r} is defined twice: {[str(p) for p in paths]}")
    spec = load_campaign(paths[0])
    if spec.name != name:
        raise CampaignSpecError(f"{paths[0]}: name: {spec.name!r} must match the file name {name!r}")
    return spec


def load_campaigns(folder: str | Path, active_only: bool = True) -> list[CampaignSpec]:
    """Every spec in ``folder`` (``*.yaml`` and ``*.yml``), sorted by name.

    Raises:
        CampaignSpecError: listing every problem of every file (schema, columns, file/name
            mismatch, names used twice).
    """
    if not Path(folder).is_dir():
        raise CampaignSpecError(f"campaigns folder {folder} does not exist")
    columns = rule_columns()
    specs, problems = [], []
    for path in campaign_paths(folder):
        spec, mine = _load(path, columns)
        if spec is not None and path.stem != spec.name:
            mine.append(f"name: {spec.name!r} must match the file name {path.stem!r}")
        problems += [f"{path}: {p}" for p in mine]
        if spec is not None and not mine:
            specs.append(spec)
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"{folder}: campaign names used twice (a .yaml and a .yml?): {dupes}")
    if problems:
        raise CampaignSpecError(f"{len(problems)} problem(s) in campaign specs:\n  " + "\n  ".join(problems))
    return sorted((s for s in specs if s.active or not active_only), key=lambda s: s.name)


def _load(path: Path, columns: dict[str, str]) -> tuple[CampaignSpec | None, list[str]]:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        return None, [f"not valid YAML: {err}"]
    if not isinstance(data, dict):
        return None, ["expected a mapping at the top level"]
    try:
        spec = CampaignSpec.model_validate(data)
    except ValidationError as err:
        return None, [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]
    return spec, spec_problems(spec, columns)
