"""Campaign specs (YAML): who to target, who to hold out, and where to publish.

A spec is validated on load; every problem is reported with the file and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class CampaignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    active: bool = True
    audience: AudienceRule
    control: Control = Control()
    consent: Consent = Consent()
    destinations: list[Destination] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", value):
            raise ValueError("must be lower-case letters, digits, '-' or '_' (it names folders)")
        return value

    @property
    def control_salt(self) -> str:
        return self.control.salt or self.name


class CampaignSpecError(ValueError):
    """A campaign file is not valid; the message names the file and each bad field."""


def load_campaign(path: str | Path) -> CampaignSpec:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise CampaignSpecError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise CampaignSpecError(f"{path}: expected a mapping at the top level")
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as err:
        problems = "\n  ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise CampaignSpecError(f"{path}: invalid campaign spec:\n  {problems}") from err


def load_named_campaign(folder: str | Path, name: str) -> CampaignSpec:
    """The campaign ``name`` from ``folder/<name>.yaml``."""
    path = Path(folder) / f"{name}.yaml"
    if not path.exists():
        raise CampaignSpecError(f"no campaign {name!r}: {path} does not exist")
    return load_campaign(path)


def load_campaigns(folder: str | Path, active_only: bool = True) -> list[CampaignSpec]:
    """Every ``*.yaml`` spec in ``folder``, sorted by name; names must be unique."""
    paths = sorted(Path(folder).glob("*.yaml"))
    specs = [load_campaign(p) for p in paths]
    for path, spec in zip(paths, specs, strict=True):
        if path.stem != spec.name:
            raise CampaignSpecError(f"{path}: campaign name {spec.name!r} must match the file name {path.stem!r}")
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise CampaignSpecError(f"{folder}: campaign names used twice: {dupes}")
    return [s for s in specs if s.active or not active_only]
