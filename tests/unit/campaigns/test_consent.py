"""Property: nothing reaches an export for an identifier that any record carries without consent."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaignflow.campaigns.contacts import latest_contacts
from campaignflow.campaigns.destinations import export_rows
from campaignflow.campaigns.identifiers import normalise_email, normalise_phone, sha256_hex
from campaignflow.campaigns.selection import build_audience
from campaignflow.campaigns.spec import CampaignSpec

ADDRESSES = ["sam_schmidt@example.com", "ann@shop.de", "bo@mail.fr"]
PHONES = {"07700 900123": "GB", "+44 7700 900123": "GB", "0044 (0)7700 900123": "FR", "0151 23456789": "DE"}


@st.composite
def email_variant(draw: st.DrawFn) -> str | None:
    """One of a few addresses, typed with any casing and stray spaces, or none."""
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    base = draw(st.sampled_from(ADDRESSES))
    cased = "".join(c.upper() if draw(st.booleans()) else c for c in base)
    return draw(st.sampled_from(["", " ", "  "])) + cased + draw(st.sampled_from(["", " ", "\t"]))


record = st.fixed_dictionaries(
    {
        "email": email_variant(),
        "phone": st.one_of(st.none(), st.sampled_from(sorted(PHONES))),
        "marketing_consent": st.booleans(),
        "unsubscribed": st.booleans(),
    }
)


def spec(fraction: float) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "everyone",
            "audience": {"where": [{"column": "churn_prob", "op": ">=", "value": 0.0}]},
            "control": {"fraction": fraction},
            "destinations": [{"name": "csv", "identifiers": ["email_sha256", "phone_sha256"]}],
        }
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    day_before=st.lists(record, min_size=1, max_size=12),
    changes_on_d=st.lists(st.tuples(st.integers(0, 11), record), max_size=6),
    fraction=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_no_export_for_an_identifier_any_record_may_not_contact(
    day_before: list[dict], changes_on_d: list[tuple[int, dict]], fraction: float
) -> None:
    rows = [{**r, "customer_id": f"c{i}", "dt": "2024-01-01", "_row": i + 2} for i, r in enumerate(day_before)]
    # consent changes (withdrawn or given) on D itself, for existing customers
    rows += [
        {**r, "customer_id": f"c{i % len(day_before)}", "dt": "2024-01-02", "_row": n + 2}
        for n, (i, r) in enumerate(changes_on_d)
    ]
    log = pd.DataFrame(rows)
    log["country"] = log["phone"].map(PHONES)
    contacts = latest_contacts(log)
    scored = pd.DataFrame({"customer_id": contacts["customer_id"], "churn_prob": 0.9})
    campaign = spec(fraction)
    audience, stats = build_audience(campaign, scored, contacts)
    exported = export_rows(audience[audience["group"] == "treatment"], contacts, campaign.destinations[0])

    current = contacts.set_index("customer_id")
    blocked = ~current["marketing_consent"].astype(bool) | current["unsubscribed"].astype(bool)
    bad_emails = {sha256_hex(normalise_email(e)) for e in current.loc[blocked, "email"].dropna()} - {None}
    bad_phones = {
        sha256_hex(normalise_phone(p, c)) for p, c in current.loc[blocked, ["phone", "country"]].dropna().values
    } - {None}
    assert not set(exported["email_sha256"].dropna()) & bad_emails
    assert not set(exported["phone_sha256"].dropna()) & bad_phones
    assert not blocked[audience["customer_id"]].any()  # nor is any unconsented customer selected
    assert stats.matched == sum(stats.excluded.values()) + stats.treatment + stats.control


def test_a_consented_duplicate_of_an_unsubscribed_address_is_not_exported() -> None:
    """The reported case: ' Sam_Schmidt@…' unsubscribed; 'SAM_SCHMIDT@…' on another record consented."""
    contacts = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "email": [" Sam_Schmidt@example.com ", "SAM_SCHMIDT@EXAMPLE.COM", "ann@shop.de"],
            "phone": [None, None, None],
            "country": ["DE", "DE", "DE"],
            "marketing_consent": [True, True, True],
            "unsubscribed": [True, False, False],
        }
    )
    scored = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "churn_prob": 0.9})
    audience, stats = build_audience(spec(0.0), scored, contacts)
    assert audience["customer_id"].tolist() == ["c3"]
    assert stats.excluded["unsubscribed"] == 1 and stats.excluded["suppressed_identifier"] == 1
