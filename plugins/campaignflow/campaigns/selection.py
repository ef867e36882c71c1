"""Audience selection for one date, across every campaign running that day.

Campaigns are planned in priority order (highest first, then by name); each customer goes to at
most one campaign a day. Per campaign, the funnel:

    rule → exclusions (segments, other campaigns, taken by a higher priority)
         → consent (no record, no consent, unsubscribed, suppressed identifier, suppression lists)
         → contactable (an identifier its destinations take) → frequency cap (contacted by any
         campaign in the last N days) → global control (held out of every campaign, recorded)
         → budget (highest ``order_by`` value first) → control split (salted hash)

Consent is enforced per identifier as well as per customer: an email or phone (normalised the way
it would be hashed) that any customer record carries without consent, or unsubscribed, is
suppressed for every customer who carries it, whatever the casing or spacing it was typed with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from campaignflow.campaigns.contacts import closed
from campaignflow.campaigns.identifiers import canonical_email, normalise_email, normalise_phone, sha256_hex
from campaignflow.campaigns.spec import CampaignSpec, by_priority, rule_columns
from campaignflow.splits import in_share

GLOBAL_CONTROL_SALT = "campaignflow-global-control"
BALANCE_COLUMNS = ("churn_prob", "recency_days", "orders_total", "monetary_365d", "predicted_value")
GROUPS = ("treatment", "control", "global_control")


@dataclass
class AudienceStats:
    """One campaign's funnel for one date, with what the audience report shows."""

    campaign: str = ""
    scored: int = 0
    matched: int = 0
    excluded: dict[str, int] = field(default_factory=dict)  # in funnel order
    capped: int = 0
    global_control: int = 0
    treatment: int = 0
    control: int = 0
    expected_churners: float = 0.0
    by_segment: dict[str, int] = field(default_factory=dict)
    by_band: dict[str, int] = field(default_factory=dict)
    balance: dict[str, dict[str, float | None]] = field(default_factory=dict)
    overlap: dict[str, int] = field(default_factory=dict)  # rule matches shared with each other campaign
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def funnel(self) -> list[tuple[str, int]]:
        """(step, customers left) from the rule match to the treatment group."""
        steps, left = [("matched", self.matched)], self.matched
        for reason, count in self.excluded.items():
            left -= count
            steps.append((f"- {reason}", left))
        left -= self.global_control
        steps.append(("- global control", left))
        left -= self.capped
        steps.append(("- over budget", left))
        steps += [("control", self.control), ("treatment", self.treatment)]
        return steps


@dataclass(frozen=True)
class DayInputs:
    """What the plan for one date reads besides the scores.

    Attributes:
        contacts: latest contact/consent record per customer (None: the shop sends no customer
            file, so nobody is contactable).
        contacted: (customer_id, campaign, dt) of earlier days' published treatment groups.
        assigned: (customer_id, campaign, dt) of earlier days' audiences (treatment and control),
            for ``exclude.campaigns``.
        suppression: list name → SHA-256 of the normalised emails and phones on it.
        recommendations: :func:`campaignflow.campaigns.content.recommendations_wide` rows.
        global_control_fraction: share of all customers held out of every campaign (0: none).
    """

    contacts: pd.DataFrame | None
    contacted: pd.DataFrame | None = None
    assigned: pd.DataFrame | None = None
    suppression: Mapping[str, frozenset[str]] = field(default_factory=dict)
    recommendations: pd.DataFrame | None = None
    global_control_fraction: float = 0.0


def plan_audiences(
    specs: list[CampaignSpec], scored: pd.DataFrame, inputs: DayInputs, ds: str
) -> dict[str, tuple[pd.DataFrame, AudienceStats]]:
    """Every campaign's audience for ``ds``, planned in priority order.

    Args:
        specs: the campaigns running on ``ds``.
        scored: one row per customer: scores joined with features and segments.
        inputs: contacts, history, suppression lists, recommendations.
        ds: the date.

    Returns:
        campaign → (rows: customer_id, group, rank, the ``order_by`` value[, content columns];
        the funnel and report numbers).
    """
    if inputs.contacts is not None:  # normalised once per day, not once per campaign
        inputs = dataclasses.replace(inputs, contacts=with_normalised_identifiers(inputs.contacts))
    frame = _with_contacts(scored, inputs.contacts)
    matches = {s.name: s.condition().mask(frame) for s in specs}
    taken = np.zeros(len(frame), dtype=bool)
    plans = {}
    for spec in by_priority(specs):
        rows, stats, chosen = _plan_one(spec, frame, matches[spec.name], taken, inputs, ds)
        stats.overlap = {o: int((matches[spec.name] & m).sum()) for o, m in matches.items() if o != spec.name}
        taken |= chosen
        plans[spec.name] = (rows, stats)
    return {s.name: plans[s.name] for s in specs}


def build_audience(
    spec: CampaignSpec,
    scored: pd.DataFrame,
    contacts: pd.DataFrame | None,
    recommendations: pd.DataFrame | None = None,
    ds: str = "1970-01-01",
) -> tuple[pd.DataFrame, AudienceStats]:
    """One campaign's audience on its own (no other campaigns, no history)."""
    inputs = DayInputs(contacts=contacts, recommendations=recommendations)
    return plan_audiences([spec], scored, inputs, ds)[spec.name]


def _plan_one(
    spec: CampaignSpec, frame: pd.DataFrame, matched: np.ndarray, taken: np.ndarray, inputs: DayInputs, ds: str
) -> tuple[pd.DataFrame, AudienceStats, np.ndarray]:
    stats = AudienceStats(campaign=spec.name, scored=len(frame), matched=int(matched.sum()))
    keep = matched.copy()

    def drop(reason: str, out: np.ndarray) -> None:
        hit = keep & out
        stats.excluded[reason] = int(hit.sum())
        keep[hit] = False

    ids = frame["customer_id"]
    if spec.exclude.segments and "rfm_tier" in frame.columns:
        drop("excluded_segment", frame["rfm_tier"].isin(spec.exclude.segments).to_numpy(dtype=bool))
    if spec.exclude.campaigns:
        since = _days_before(ds, spec.exclude.campaign_days)
        recent = _who(inputs.assigned, spec.exclude.campaigns, since)
        drop("in_excluded_campaign", ids.isin(recent).to_numpy(dtype=bool))
    drop("taken_by_higher_priority", taken)

    if inputs.contacts is None:
        drop("no_customer_file", np.ones(len(frame), dtype=bool))
        stats.notes.append("no customers table in the lake: no consent or contact details, nobody exported")
    else:
        drop("no_customer_record", frame["marketing_consent"].isna().to_numpy(dtype=bool))
        if spec.consent.require_marketing_consent:
            drop("no_consent", ~frame["marketing_consent"].fillna(False).astype(bool).to_numpy())
        if spec.consent.exclude_unsubscribed:
            drop("unsubscribed", frame["unsubscribed"].fillna(True).astype(bool).to_numpy())
        emails, phones = suppressed_identifiers(inputs.contacts, spec)
        open_mailbox = frame["email_key"].where(
            frame["email_norm"].notna()
        )  # a closed channel blocks, never is blocked
        drop("suppressed_identifier", (open_mailbox.isin(emails) | frame["phone_norm"].isin(phones)).to_numpy())
        lists = _suppression_hashes(inputs.suppression, spec)
        if lists:
            hashes = frame[["email_hash", "email_key_hash", "phone_hash"]]
            drop("suppression_list", hashes.isin(lists).any(axis=1).to_numpy(dtype=bool))
        drop("no_usable_identifier", ~_reachable(frame, spec))
    if spec.frequency_cap_days:
        recent = _who(inputs.contacted, None, _days_before(ds, spec.frequency_cap_days))
        drop("contacted_recently", ids.isin(recent).to_numpy(dtype=bool))

    held = keep & in_share(GLOBAL_CONTROL_SALT, ids, inputs.global_control_fraction)
    stats.global_control = int(held.sum())
    chosen = frame[keep & ~held]
    value = spec.ranking()
    ranking = value.evaluate(chosen).astype(float)
    chosen = chosen.assign(_value=ranking.to_numpy()).sort_values(
        ["_value", "customer_id"], ascending=[False, True], na_position="last"
    )
    limit = spec.budget.limit()
    if limit is not None and len(chosen) > limit:
        stats.capped = len(chosen) - limit
        chosen = chosen.head(limit)
    control = in_share(spec.control_salt, chosen["customer_id"], spec.control.fraction)
    held_rows = frame[held]
    out = pd.DataFrame(
        {
            "customer_id": np.concatenate([chosen["customer_id"].to_numpy(), held_rows["customer_id"].to_numpy()]),
            "group": np.concatenate([np.where(control, "control", "treatment"), np.full(len(held_rows), GROUPS[2])]),
            "rank": np.concatenate([np.arange(1, len(chosen) + 1), np.zeros(len(held_rows), dtype=int)]),
            spec.audience.order_by: np.concatenate(
                [chosen["_value"].to_numpy(), value.evaluate(held_rows).astype(float).to_numpy()]
            ),
        }
    )
    members = pd.concat([chosen.drop(columns="_value"), held_rows], ignore_index=True)
    if spec.content is not None:
        out = with_content(out, members, spec, inputs.recommendations, stats)
    stats.control = int(control.sum())
    stats.treatment = len(chosen) - stats.control
    _describe(stats, members.iloc[: len(chosen)], out.iloc[: len(chosen)])
    if stats.matched == 0:
        stats.notes.append("0 customers matched the rule")
    selected = ids.isin(set(out["customer_id"])).to_numpy(dtype=bool)
    return out, stats, selected


def _describe(stats: AudienceStats, members: pd.DataFrame, rows: pd.DataFrame) -> None:
    """Segment and band sizes, expected churners and treatment/control balance of the selection."""
    if "rfm_tier" in members.columns:
        stats.by_segment = {str(k): int(v) for k, v in members["rfm_tier"].fillna("unknown").value_counts().items()}
    if "churn_band" in members.columns:
        stats.by_band = {str(k): int(v) for k, v in members["churn_band"].fillna("unknown").value_counts().items()}
    if "churn_prob" in members.columns:
        stats.expected_churners = round(float(members["churn_prob"].fillna(0).sum()), 2)
    control = rows["group"].to_numpy() == "control"
    for col in BALANCE_COLUMNS:
        if col not in members.columns:
            continue
        values = pd.to_numeric(members[col], errors="coerce").to_numpy(dtype=float)
        stats.balance[col] = _balance(values[~control], values[control])


def _balance(treated: np.ndarray, held: np.ndarray) -> dict[str, float | None]:
    """Means and the standardised mean difference (|SMD| < 0.1 is the usual 'balanced')."""
    t, c = treated[~np.isnan(treated)], held[~np.isnan(held)]
    if len(t) < 2 or len(c) < 2:
        return {
            "treatment": _round(t.mean()) if len(t) else None,
            "control": _round(c.mean()) if len(c) else None,
            "smd": None,
        }
    pooled = np.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)
    smd = (t.mean() - c.mean()) / pooled if pooled > 0 else 0.0
    return {"treatment": _round(t.mean()), "control": _round(c.mean()), "smd": _round(smd)}


def _round(value: float) -> float:
    return round(float(value), 4)


def with_content(
    out: pd.DataFrame, members: pd.DataFrame, spec: CampaignSpec, recs: pd.DataFrame | None, stats: AudienceStats
) -> pd.DataFrame:
    """The audience rows with each customer's variant, rendered subject and body, and products."""
    from campaignflow.campaigns.content import CONTENT_COLUMNS, personalise, recommendations_wide

    assert spec.content is not None
    if recs is None or recs.empty:
        if len(out):
            stats.notes.append("no recommendations for this date: the product placeholders are empty")
        recs = recommendations_wide(None)
    rows = members.reset_index(drop=True).merge(recs, on="customer_id", how="left")
    filled = personalise(rows, spec.content, rule_columns())
    unmatched = int(filled["variant"].isna().sum())
    if unmatched:
        stats.notes.append(f"{unmatched} customer(s) matched no content variant (add one without 'when')")
    return pd.concat([out, filled[CONTENT_COLUMNS].reset_index(drop=True)], axis=1)


def with_normalised_identifiers(contacts: pd.DataFrame) -> pd.DataFrame:
    """``contacts`` plus the identifier forms selection needs (None: unusable):

    ``email_norm``/``phone_norm`` (trimmed lower-case email, E.164 phone: is there something to
    hash on a channel the customer has not closed), ``email_key``/``phone_key`` (one form per
    mailbox or number, closed or not: consent is enforced on it) and the SHA-256 of each
    (``email_hash``, ``email_key_hash``, ``phone_hash``: what suppression lists hold)."""
    emails = contacts["email"].where(contacts["email"].notna(), None)
    phones = contacts["phone"].where(contacts["phone"].notna(), None)
    email_key = [canonical_email(normalise_email(e)) for e in emails]
    phone_key = [normalise_phone(p, c) for p, c in zip(phones, contacts["country"], strict=True)]
    email_closed, phone_closed = closed(contacts, "email").to_numpy(), closed(contacts, "phone").to_numpy()
    email_norm = [None if shut else normalise_email(e) for e, shut in zip(emails, email_closed, strict=True)]
    phone_norm = [None if shut else p for p, shut in zip(phone_key, phone_closed, strict=True)]
    return contacts.assign(
        email_norm=email_norm,
        email_key=email_key,
        phone_key=phone_key,
        phone_norm=phone_norm,
        email_hash=[sha256_hex(e) for e in email_norm],
        email_key_hash=[sha256_hex(e) for e in email_key],
        phone_hash=[sha256_hex(p) for p in phone_norm],
    )


def suppressed_identifiers(contacts: pd.DataFrame, spec: CampaignSpec) -> tuple[set[str], set[str]]:
    """Canonical emails and E.164 phones carried by any record the spec's consent rules exclude."""
    if "email_norm" not in contacts.columns:
        contacts = with_normalised_identifiers(contacts)
    blocked = np.zeros(len(contacts), dtype=bool)
    if spec.consent.require_marketing_consent:
        blocked |= ~contacts["marketing_consent"].fillna(False).astype(bool).to_numpy()
    if spec.consent.exclude_unsubscribed:
        blocked |= contacts["unsubscribed"].fillna(True).astype(bool).to_numpy()
    emails = set(contacts.loc[blocked | closed(contacts, "email").to_numpy(), "email_key"].dropna())
    phones = set(contacts.loc[blocked | closed(contacts, "phone").to_numpy(), "phone_key"].dropna())
    return emails, phones


def _with_contacts(scored: pd.DataFrame, contacts: pd.DataFrame | None) -> pd.DataFrame:
    frame = scored.reset_index(drop=True)
    if contacts is None:
        return frame
    if "email_norm" not in contacts.columns:
        contacts = with_normalised_identifiers(contacts)
    clash = [c for c in contacts.columns if c in frame.columns and c != "customer_id"]
    return frame.drop(columns=clash).merge(contacts, on="customer_id", how="left")


def _suppression_hashes(lists: Mapping[str, frozenset[str]], spec: CampaignSpec) -> set[str]:
    from campaignflow.campaigns.suppression import GLOBAL_LIST

    names = {GLOBAL_LIST, *spec.exclude.suppression_lists}
    missing = sorted(set(spec.exclude.suppression_lists) - set(lists))
    if missing:
        from campaignflow.errors import MissingPartition

        raise MissingPartition(
            f"campaign {spec.name}: suppression list(s) {missing} have not been imported",
            remedy="import them: campaignflow suppression import NAME FILE.csv",
        )
    return set().union(*(lists.get(n, frozenset()) for n in names))


def _who(history: pd.DataFrame | None, campaigns: list[str] | None, since: str) -> set[str]:
    """Customers in ``history`` on days >= ``since`` (in ``campaigns`` when given)."""
    if history is None or history.empty:
        return set()
    recent = history[history["dt"] >= since]
    if campaigns is not None:
        recent = recent[recent["campaign"].isin(campaigns)]
    return set(recent["customer_id"])


def _days_before(ds: str, days: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(ds) - timedelta(days=days)).isoformat()


def _reachable(frame: pd.DataFrame, spec: CampaignSpec) -> np.ndarray:
    """Customers with at least one usable identifier the spec's destinations take."""
    wanted = {i for d in spec.destinations for i in d.identifiers}
    ok = np.zeros(len(frame), dtype=bool)
    if "email_sha256" in wanted:
        ok |= frame["email_norm"].notna().to_numpy(dtype=bool)
    if "phone_sha256" in wanted:
        ok |= frame["phone_norm"].notna().to_numpy(dtype=bool)
    return ok
