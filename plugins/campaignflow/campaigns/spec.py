"""Campaign specs (YAML): who to target, in what order, who to hold out, and where to publish.

A spec is validated on load, against its schema and against the columns rules can use (scores,
features, segments, with their kinds); every problem of every file is reported with the file and
the field. Rules are :mod:`campaignflow.campaigns.expression` text, parsed and never evaluated.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from campaignflow.campaigns import expression
from campaignflow.campaigns.content import Content, content_problems
from campaignflow.errors import CampaignSpecError

SPEC_SUFFIXES = (".yaml", ".yml")
SLUG = r"^[a-z0-9][a-z0-9_\-]*$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Identifier = Literal["email_sha256", "phone_sha256"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Schedule(_Strict):
    """When the campaign runs: between ``start`` and ``end`` (inclusive), daily, weekly or on dates."""

    cadence: Literal["daily", "weekly", "dates"] = "daily"
    weekdays: list[Weekday] = Field(default_factory=lambda: list[Weekday](["mon"]))
    dates: list[date] = Field(default_factory=list)
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Schedule:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.cadence == "dates" and not self.dates:
            raise ValueError("cadence 'dates' needs a list of dates")
        return self

    def runs_on(self, day: date) -> bool:
        if (self.start and day < self.start) or (self.end and day > self.end):
            return False
        if self.cadence == "weekly":
            return WEEKDAYS[day.weekday()] in self.weekdays
        if self.cadence == "dates":
            return day in self.dates
        return True


class AudienceRule(_Strict):
    rule: str = Field(min_length=1)  # a condition, e.g. "churn_prob >= 0.6 and rfm_tier in ['at_risk']"
    order_by: str = "churn_prob"  # a value: who comes first when the budget is short


class Exclusions(_Strict):
    campaigns: list[str] = Field(default_factory=list)  # in these campaigns' audiences in the last `campaign_days`
    campaign_days: int = Field(default=14, ge=0)
    segments: list[str] = Field(default_factory=list)  # RFM tiers never targeted
    suppression_lists: list[str] = Field(default_factory=list)  # lists imported into suppression/<name>


class Budget(_Strict):
    """Filled by the audience's ``order_by`` value, highest first, until a limit is reached."""

    max_size: int | None = Field(default=None, gt=0)
    max_cost: float | None = Field(default=None, gt=0)
    cost_per_contact: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _cost_needs_price(self) -> Budget:
        if self.max_cost is not None and self.cost_per_contact is None:
            raise ValueError("max_cost needs cost_per_contact")
        return self

    def limit(self) -> int | None:
        """The most contacts the budget allows (None: unlimited)."""
        limits = [self.max_size] if self.max_size is not None else []
        if self.max_cost is not None and self.cost_per_contact is not None:
            limits.append(int(self.max_cost / self.cost_per_contact + 1e-9))  # 30 / 0.1 is 300, not 299
        return min(limits) if limits else None


class Control(_Strict):
    fraction: float = Field(default=0.1, gt=0.0, lt=1.0)
    salt: str | None = None  # defaults to the campaign name: change it to reshuffle the holdout


class Consent(_Strict):
    require_marketing_consent: bool = True
    exclude_unsubscribed: bool = True


DestinationType = Literal["email_csv", "google_customer_match", "meta_custom_audience", "parquet"]


class Destination(_Strict):
    name: str = Field(pattern=SLUG)
    type: DestinationType = "email_csv"
    identifiers: list[Identifier] = Field(default_factory=lambda: list[Identifier](["email_sha256"]), min_length=1)
    content: bool = False  # carry the campaign's personalised content (variant, subject, body, products)


class CampaignSpec(_Strict):
    name: str
    owner: str = Field(min_length=1)
    description: str = ""
    active: bool = True
    schedule: Schedule = Schedule()
    priority: int = 0  # a customer eligible for several campaigns goes to the highest
    audience: AudienceRule
    exclude: Exclusions = Exclusions()
    frequency_cap_days: int = Field(default=0, ge=0)  # not contacted by any campaign in the last N days
    budget: Budget = Budget()
    control: Control = Control()
    consent: Consent = Consent()
    destinations: list[Destination] = Field(min_length=1)
    content: Content | None = None
    response_window_days: int = Field(default=14, gt=0)  # how long after D a response counts

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.fullmatch(SLUG, value):
            raise ValueError("must be lower-case letters, digits, '-' or '_' (it names folders)")
        return value

    @property
    def control_salt(self) -> str:
        return self.control.salt or self.name

    def condition(self) -> expression.Expression:
        return expression.parse(self.audience.rule, rule_columns())

    def ranking(self) -> expression.Expression:
        return expression.parse(self.audience.order_by, rule_columns(), want="number")


def rule_columns() -> dict[str, str]:
    """Columns a rule or ``order_by`` may name, with their kind ("number" or "string")."""
    from campaignflow.features.catalogue import FEATURE_COLUMNS
    from campaignflow.models.churn import SCORE_COLUMNS, SEGMENT_SCORE_COLUMNS
    from campaignflow.models.value import VALUE_COLUMNS

    return {**SCORE_COLUMNS, **VALUE_COLUMNS, **SEGMENT_SCORE_COLUMNS, **dict.fromkeys(FEATURE_COLUMNS, "number")}


def spec_problems(spec: CampaignSpec, columns: dict[str, str]) -> list[str]:
    """What is wrong with a schema-valid spec against the columns rules can use (empty: nothing)."""
    problems = []
    for field, text, want in [
        ("audience.rule", spec.audience.rule, "bool"),
        ("audience.order_by", spec.audience.order_by, "number"),
    ]:
        try:
            expression.parse(text, columns, want=want)  # type: ignore[arg-type]
        except expression.ExpressionError as err:
            problems.append(f"{field}: {err}")
    if spec.content is not None:
        problems += content_problems(spec.content, columns)
    for i, dest in enumerate(spec.destinations):
        if dest.content and spec.content is None:
            problems.append(f"destinations.{i}.content: the campaign has no content block to carry")
        if dest.content and dest.type not in ("email_csv", "parquet"):
            problems.append(f"destinations.{i}.content: a {dest.type} file carries identifiers only")
    names = [d.name for d in spec.destinations]
    if len(set(names)) != len(names):
        problems.append(f"destinations: names used twice: {sorted({n for n in names if names.count(n) > 1})}")
    if spec.name in spec.exclude.campaigns:
        problems.append("exclude.campaigns: a campaign cannot exclude itself")
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
            mismatch, names used twice, exclusions of campaigns that do not exist).
    """
    if not Path(folder).is_dir():
        raise CampaignSpecError(f"campaigns folder {folder} does not exist")
    columns = rule_columns()
    specs, problems = [], []
    paths = campaign_paths(folder)
    for path in paths:
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
    known = {p.stem for p in paths}
    for spec in specs:
        unknown = sorted(set(spec.exclude.campaigns) - known)
        if unknown:
            problems.append(f"{folder}/{spec.name}: exclude.campaigns: no such campaign(s) {unknown}")
    if problems:
        raise CampaignSpecError(f"{len(problems)} problem(s) in campaign specs:\n  " + "\n  ".join(problems))
    return sorted((s for s in specs if s.active or not active_only), key=lambda s: s.name)


def by_priority(specs: list[CampaignSpec]) -> list[CampaignSpec]:
    """Highest priority first; equal priorities by name (so the order never depends on the disk)."""
    return sorted(specs, key=lambda s: (-s.priority, s.name))


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
