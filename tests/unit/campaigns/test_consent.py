"""Property: nothing reaches any destination for an identifier that may not be contacted.

Over random customers, random campaign sets (priorities, consent settings, control and global
control shares, suppression lists) and random consent changes, including changes on D itself: no
destination file carries the hash of an identifier that any current record carries without consent
or unsubscribed, whose channel any current record closed, that is on a suppression list, or that
is not a usable contact.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaignflow.campaigns.contacts import latest_contacts, open_channels
from campaignflow.campaigns.destinations import PLATFORMS, export_rows
from campaignflow.campaigns.identifiers import canonical_email, normalise_phone, sha256_hex
from campaignflow.campaigns.selection import DayInputs, build_audience, plan_audiences
from campaignflow.campaigns.spec import CampaignSpec
from campaignflow.campaigns.suppression import GLOBAL_LIST, hashed_entries

ADDRESSES = ["sam_schmidt@example.com", "ann@shop.de", "bo@mail.fr", "j.doe@gmail.com", "jdoe@googlemail.com"]
PHONES = {"07700 900123": "GB", "+44 7700 900123": "GB", "0044 (0)7700 900123": "FR", "0151 23456789": "DE", "12": "US"}


@st.composite
def email_variant(draw: st.DrawFn) -> str | None:
    """One of a few mailboxes, typed with any casing, stray spaces and Gmail dots, or none/garbage."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return None
    if choice == 1:
        return draw(st.sampled_from(["not an email", "", "a@b"]))
    base = draw(st.sampled_from(ADDRESSES))
    local, _, domain = base.partition("@")
    if "gmail" in domain and draw(st.booleans()):
        local = local.replace(".", "") if "." in local else f"{local[0]}.{local[1:]}"
    cased = "".join(c.upper() if draw(st.booleans()) else c for c in f"{local}@{domain}")
    return draw(st.sampled_from(["", " ", "  "])) + cased + draw(st.sampled_from(["", " ", "\t"]))


record = st.fixed_dictionaries(
    {
        "email": email_variant(),
        "phone": st.one_of(st.none(), st.sampled_from(sorted(PHONES))),
        "marketing_consent": st.booleans(),
        "unsubscribed": st.booleans(),
        "email_consent": st.sampled_from([None, None, True, False]),
        "phone_consent": st.sampled_from([None, None, True, False]),
    }
)


@st.composite
def campaign(draw: st.DrawFn, name: str) -> CampaignSpec:
    identifiers = draw(st.sampled_from([["email_sha256"], ["phone_sha256"], ["email_sha256", "phone_sha256"]]))
    return CampaignSpec.model_validate(
        {
            "name": name,
            "owner": "crm",
            "priority": draw(st.integers(0, 3)),
            "audience": {"rule": draw(st.sampled_from(["churn_prob >= 0.0", "churn_prob >= 0.5"]))},
            "control": {"fraction": draw(st.sampled_from([0.01, 0.1, 0.5]))},
            "consent": {"require_marketing_consent": True, "exclude_unsubscribed": True},
            "exclude": {"suppression_lists": draw(st.sampled_from([[], ["complaints"]]))},
            "destinations": [{"name": t.replace("_", "-"), "type": t, "identifiers": identifiers} for t in PLATFORMS],
        }
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    day_before=st.lists(record, min_size=1, max_size=12),
    changes_on_d=st.lists(st.tuples(st.integers(0, 11), record), max_size=6),
    suppressed=st.lists(st.sampled_from(ADDRESSES), max_size=2),
    campaigns=st.tuples(campaign("a"), campaign("b")),
    global_share=st.sampled_from([0.0, 0.2]),
    probs=st.lists(st.floats(0, 1), min_size=12, max_size=12),
)
def test_no_destination_gets_an_identifier_that_may_not_be_contacted(
    day_before: list[dict],
    changes_on_d: list[tuple[int, dict]],
    suppressed: list[str],
    campaigns: tuple[CampaignSpec, CampaignSpec],
    global_share: float,
    probs: list[float],
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
    scored = pd.DataFrame({"customer_id": contacts["customer_id"], "churn_prob": probs[: len(contacts)]})
    lists = {
        GLOBAL_LIST: frozenset(hashed_entries(pd.DataFrame({"email": suppressed[:1]}), "dnc")["sha256"]),
        "complaints": frozenset(hashed_entries(pd.DataFrame({"email": suppressed[1:]}), "c")["sha256"]),
    }
    inputs = DayInputs(contacts=contacts, suppression=lists, global_control_fraction=global_share)
    plans = plan_audiences(list(campaigns), scored, inputs, "2024-01-02")

    current = contacts.set_index("customer_id")
    blocked = ~current["marketing_consent"].astype(bool) | current["unsubscribed"].astype(bool)
    bad_mailboxes = {canonical_email(e) for e in current.loc[blocked, "email"].dropna()} | {
        canonical_email(e) for e in suppressed[:1]
    }
    bad_phones = {normalise_phone(p, c) for p, c in current.loc[blocked, ["phone", "country"]].dropna().values}
    # a channel a customer closed: that mailbox or number is never exported, for any record carrying it
    email_shut, phone_shut = current["email_consent"].eq(False), current["phone_consent"].eq(False)
    bad_mailboxes |= {canonical_email(e) for e in current.loc[email_shut, "email"].dropna()}
    bad_phones |= {normalise_phone(p, c) for p, c in current.loc[phone_shut, ["phone", "country"]].dropna().values}
    seen: set[str] = set()
    for spec in campaigns:
        audience, stats = plans[spec.name]
        mailboxes = bad_mailboxes | (
            {canonical_email(e) for e in suppressed[1:]} if spec.exclude.suppression_lists else set()
        )
        assert not blocked[audience["customer_id"]].any()  # no unconsented customer is selected at all
        assert not seen & set(audience["customer_id"])  # one campaign per customer per day
        seen |= set(audience["customer_id"])
        assert (
            stats.matched
            == sum(stats.excluded.values()) + stats.global_control + stats.capped + stats.treatment + stats.control
        )
        treatment = audience[audience["group"] == "treatment"]
        for dest in spec.destinations:
            target = PLATFORMS[dest.type]
            exported = export_rows(treatment, open_channels(contacts), target, list(dest.identifiers))
            bad_email_hashes = {sha256_hex(target.email(m)) for m in mailboxes if m} - {None}
            bad_phone_hashes = {sha256_hex(target.phone(p, None)) for p in bad_phones if p} - {None}
            if "email_sha256" in exported:
                assert not set(exported["email_sha256"].dropna()) & bad_email_hashes, dest.type
            if "phone_sha256" in exported:
                assert not set(exported["phone_sha256"].dropna()) & bad_phone_hashes, dest.type
            assert exported.notna().any(axis=1).all()  # every exported row carries a usable identifier


def spec(fraction: float) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "everyone",
            "owner": "crm",
            "audience": {"rule": "churn_prob >= 0.0"},
            "control": {"fraction": fraction},
            "destinations": [{"name": "csv", "identifiers": ["email_sha256", "phone_sha256"]}],
        }
    )


def test_a_consented_duplicate_of_an_unsubscribed_address_is_not_exported() -> None:
    """The reported case: ' Sam_Schmidt@…' unsubscribed; 'SAM_SCHMIDT@…' on another record consented."""
    contacts = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5"],
            "email": [
                " Sam_Schmidt@example.com ",
                "SAM_SCHMIDT@EXAMPLE.COM",
                "ann@shop.de",
                "J.Doe@gmail.com",
                "jdoe@gmail.com",
            ],
            "phone": [None] * 5,
            "country": ["DE"] * 5,
            "marketing_consent": [True, True, True, False, True],
            "unsubscribed": [True, False, False, False, False],
        }
    )
    scored = pd.DataFrame({"customer_id": contacts["customer_id"], "churn_prob": 0.9})
    audience, stats = build_audience(spec(0.01), scored, contacts)
    assert audience["customer_id"].tolist() == ["c3"]  # the Gmail mailbox without consent is one mailbox
    assert stats.excluded["unsubscribed"] == 1 and stats.excluded["suppressed_identifier"] == 2
