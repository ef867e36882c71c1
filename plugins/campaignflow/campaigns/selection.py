"""Audience selection: rule → consent → suppression by identifier → contactability → cap → control split.

Consent is enforced per identifier as well as per customer: an email or phone (normalised the way it
would be hashed) that any customer record carries without consent, or unsubscribed, is suppressed
for every customer who carries it, whatever the casing or spacing it was typed with.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from campaignflow.campaigns.identifiers import normalise_email, normalise_phone
from campaignflow.campaigns.spec import CampaignSpec, Condition
from campaignflow.errors import CampaignSpecError
from campaignflow.splits import in_share

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne}


@dataclass
class AudienceStats:
    scored: int = 0
    matched: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    capped: int = 0
    treatment: int = 0
    control: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def build_audience(
    spec: CampaignSpec,
    scored: pd.DataFrame,
    contacts: pd.DataFrame | None,
    recommendations: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, AudienceStats]:
    """Select a campaign's audience.

    Args:
        spec: the campaign.
        scored: one row per customer: scores joined with features (the columns rules may use).
        contacts: latest contact/consent record per customer, or None if the shop sends no
            customer file (then nobody is contactable, and the stats say so).
        recommendations: :func:`campaignflow.campaigns.content.recommendations_wide` rows, for a
            spec with ``content`` (None: the product placeholders are empty, and a note says so).

    Returns:
        (customer_id, group, rank, order value[, content columns]) rows, sorted by rank, and the
        funnel counts.
    """
    stats = AudienceStats(scored=len(scored))
    frame = scored
    if contacts is not None:
        contacts = with_normalised_identifiers(contacts)
        frame = frame.merge(contacts, on="customer_id", how="left")
    mask = np.ones(len(frame), dtype=bool)
    for cond in spec.audience.where:
        mask &= _condition(frame, cond)
    frame = frame[mask]
    stats.matched = len(frame)

    if contacts is None:
        stats.excluded["no_customer_file"] = len(frame)
        stats.notes.append("no customers table in the lake: no consent or contact details, nobody exported")
        frame = frame.iloc[0:0]
    else:
        known = frame["marketing_consent"].notna()
        stats.excluded["no_customer_record"] = int((~known).sum())
        frame = frame[known]
        if spec.consent.require_marketing_consent:
            ok = frame["marketing_consent"].astype(bool)
            stats.excluded["no_consent"] = int((~ok).sum())
            frame = frame[ok]
        if spec.consent.exclude_unsubscribed:
            unsub = frame["unsubscribed"].astype(bool)
            stats.excluded["unsubscribed"] = int(unsub.sum())
            frame = frame[~unsub]
        emails, phones = suppressed_identifiers(contacts, spec)
        suppressed = (frame["email_norm"].isin(emails) | frame["phone_norm"].isin(phones)).to_numpy(dtype=bool)
        stats.excluded["suppressed_identifier"] = int(suppressed.sum())
        frame = frame[~suppressed]
        reachable = _reachable(frame, spec)
        stats.excluded["no_usable_identifier"] = int((~reachable).sum())
        frame = frame[reachable]

    frame = frame.sort_values([spec.audience.order_by, "customer_id"], ascending=[False, True])
    if spec.audience.max_size is not None and len(frame) > spec.audience.max_size:
        stats.capped = len(frame) - spec.audience.max_size
        frame = frame.head(spec.audience.max_size)
    control = in_share(spec.control_salt, frame["customer_id"], spec.control.fraction)
    out = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "group": np.where(control, "control", "treatment"),
            "rank": np.arange(1, len(frame) + 1),
            spec.audience.order_by: frame[spec.audience.order_by].to_numpy(),
        }
    )
    if spec.content is not None:
        out = with_content(out, frame, spec, recommendations, stats)
    stats.control = int(control.sum())
    stats.treatment = len(out) - stats.control
    return out, stats


def with_content(
    out: pd.DataFrame, frame: pd.DataFrame, spec: CampaignSpec, recs: pd.DataFrame | None, stats: AudienceStats
) -> pd.DataFrame:
    """The audience rows with each customer's variant, rendered subject and body, and products."""
    from campaignflow.campaigns.content import CONTENT_COLUMNS, personalise, recommendations_wide

    assert spec.content is not None
    if recs is None or recs.empty:
        if len(out):
            stats.notes.append("no recommendations for this date: the product placeholders are empty")
        recs = recommendations_wide(None)
    rows = frame.reset_index(drop=True).merge(recs, on="customer_id", how="left")
    filled = personalise(rows, spec.content, _condition)
    unmatched = int(filled["variant"].isna().sum())
    if unmatched:
        stats.notes.append(f"{unmatched} customer(s) matched no content variant (add one without 'when')")
    return pd.concat([out, filled[CONTENT_COLUMNS].reset_index(drop=True)], axis=1)


def with_normalised_identifiers(contacts: pd.DataFrame) -> pd.DataFrame:
    """``contacts`` plus ``email_norm`` and ``phone_norm``: the forms that get hashed (None: unusable)."""
    emails = contacts["email"].where(contacts["email"].notna(), None)
    phones = contacts["phone"].where(contacts["phone"].notna(), None)
    return contacts.assign(
        email_norm=[normalise_email(e) for e in emails],
        phone_norm=[normalise_phone(p, c) for p, c in zip(phones, contacts["country"], strict=True)],
    )


def suppressed_identifiers(contacts: pd.DataFrame, spec: CampaignSpec) -> tuple[set[str], set[str]]:
    """Normalised emails and phones carried by any record the spec's consent rules exclude."""
    blocked = np.zeros(len(contacts), dtype=bool)
    if spec.consent.require_marketing_consent:
        blocked |= ~contacts["marketing_consent"].fillna(False).astype(bool).to_numpy()
    if spec.consent.exclude_unsubscribed:
        blocked |= contacts["unsubscribed"].fillna(True).astype(bool).to_numpy()
    emails = set(contacts.loc[blocked, "email_norm"].dropna())
    phones = set(contacts.loc[blocked, "phone_norm"].dropna())
    return emails, phones


def _condition(frame: pd.DataFrame, cond: Condition) -> np.ndarray:
    if cond.column not in frame.columns:
        raise CampaignSpecError(f"rule column {cond.column!r} does not exist; available: {sorted(frame.columns)}")
    col = frame[cond.column]
    if cond.op in ("in", "not in"):
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        hit = col.isin(values).to_numpy()
        return hit if cond.op == "in" else ~hit
    result = _OPS[cond.op](col, cond.value)
    return result.fillna(False).to_numpy(dtype=bool)


def _reachable(frame: pd.DataFrame, spec: CampaignSpec) -> np.ndarray:
    """Customers with at least one usable identifier the spec's destinations take."""
    wanted = {i for d in spec.destinations for i in d.identifiers}
    ok = np.zeros(len(frame), dtype=bool)
    if "email_sha256" in wanted:
        ok |= frame["email_norm"].notna().to_numpy(dtype=bool)
    if "phone_sha256" in wanted:
        ok |= frame["phone_norm"].notna().to_numpy(dtype=bool)
    return ok
