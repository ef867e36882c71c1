"""Personalised campaign content: a message variant per segment or band, filled per customer.

A spec's ``content`` lists variants in order; each customer gets the first whose ``when`` holds
(a variant without ``when`` matches everyone, so put it last). Subject and body are templates with
``{placeholders}`` from :data:`PLACEHOLDERS`: the customer's top recommendations (``rec_1_name``,
``rec_1_category``, ``rec_1_id`` … up to 3), their favourite category and the campaign's offer.
A product without a name in the catalogue is named by its id. Templates are checked on load: an
unknown placeholder is an error naming the file and the field. No PII is ever a placeholder.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from campaignflow.campaigns import expression

RECOMMENDED = 3
REC_FIELDS = ("id", "name", "category")
REC_COLUMNS = [f"rec_{k}_{f}" for k in range(1, RECOMMENDED + 1) for f in REC_FIELDS]
PLACEHOLDERS = frozenset({*REC_COLUMNS, "favourite_category", "offer"})
CONTENT_COLUMNS = ["variant", "subject", "body", *REC_COLUMNS, "favourite_category"]


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9_\-]+$")
    when: str | None = None  # a condition (campaignflow.campaigns.expression)
    subject: str
    body: str


class Content(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offer: str = ""
    variants: list[Variant] = Field(min_length=1)


def placeholders(template: str) -> list[str]:
    """The ``{names}`` a template uses (format specs and conversions refused by the caller)."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def content_problems(content: Content, columns: dict[str, str]) -> list[str]:
    """Unknown placeholders, malformed templates and unknown ``when`` columns, by field."""
    problems = []
    for i, variant in enumerate(content.variants):
        for part in ("subject", "body"):
            field = f"content.variants.{i}.{part}"
            try:
                names = placeholders(getattr(variant, part))
            except ValueError as err:
                problems.append(f"{field}: not a valid template ({err})")
                continue
            unknown = sorted({n for n in names if n not in PLACEHOLDERS})
            if unknown:
                problems.append(f"{field}: unknown placeholder(s) {unknown}; templates can use {sorted(PLACEHOLDERS)}")
        if variant.when is not None:
            try:
                expression.parse(variant.when, columns)
            except expression.ExpressionError as err:
                problems.append(f"content.variants.{i}.when: {err}")
    names = [v.name for v in content.variants]
    if len(set(names)) != len(names):
        problems.append(
            f"content.variants: variant names used twice: {sorted({n for n in names if names.count(n) > 1})}"
        )
    return problems


def recommendations_wide(recs: pd.DataFrame | None, catalogue_names: pd.Series | None = None) -> pd.DataFrame:
    """One row per customer: rec_k_id / rec_k_name / rec_k_category for k = 1…3, favourite_category."""
    columns = ["customer_id", *REC_COLUMNS, "favourite_category"]
    if recs is None or recs.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    top = recs[recs["rank"] <= RECOMMENDED]
    names = top["product_id"].map(catalogue_names) if catalogue_names is not None else top["product_id"]
    top = top.assign(name=names.fillna(top["product_id"]))
    wide = top.pivot(index="customer_id", columns="rank", values=["product_id", "name", "category"])
    out = pd.DataFrame(index=wide.index)
    for k in range(1, RECOMMENDED + 1):
        for field, source in zip(REC_FIELDS, ("product_id", "name", "category"), strict=True):
            out[f"rec_{k}_{field}"] = wide[(source, k)] if (source, k) in wide.columns else None
    favourite = recs.drop_duplicates("customer_id").set_index("customer_id").get("favourite_category")
    out["favourite_category"] = favourite.reindex(out.index) if favourite is not None else None
    return out.reset_index()[columns]


def personalise(rows: pd.DataFrame, content: Content, columns: Mapping[str, str]) -> pd.DataFrame:
    """``rows`` (with the rule columns and :func:`recommendations_wide` columns) plus variant, subject, body.

    ``columns`` are the kinds of the columns a ``when`` may name (as for audience rules).
    """
    out = rows.copy()
    chosen = np.full(len(out), None, dtype=object)
    for variant in content.variants:
        free = np.array([c is None for c in chosen], dtype=bool)
        hit = free if variant.when is None else free & expression.parse(variant.when, columns).mask(out)
        chosen[hit] = variant.name
    out["variant"] = chosen
    by_name = {v.name: v for v in content.variants}
    values = out.reindex(columns=sorted(PLACEHOLDERS - {"offer"})).astype(object)
    values = values.where(values.notna(), "")
    subjects: list[str | None] = []
    bodies: list[str | None] = []
    for name, fields in zip(chosen, values.to_dict("records"), strict=True):
        if name is None:
            subjects.append(None)
            bodies.append(None)
            continue
        fields["offer"] = content.offer
        subjects.append(by_name[name].subject.format_map(fields))
        bodies.append(by_name[name].body.format_map(fields))
    out["subject"], out["body"] = subjects, bodies
    return out
