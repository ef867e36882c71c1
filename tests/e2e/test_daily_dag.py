"""The daily DAG end to end through Airflow (dag.test), on a generated shop, S3 landing and exports."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from campaignflow.campaigns.contacts import latest_contacts
from campaignflow.campaigns.identifiers import normalise_email, sha256_hex
from campaignflow.campaigns.publish import publication_key, published, read_manifest
from campaignflow.ingest.reader import read_csv_text
from campaignflow.io.lake import Dataset, PartitionRef
from campaignflow.orchestration.airflow_runner import run_dates
from campaignflow.runtime import Runtime
from tests.daily_shop import BAD, CAMPAIGNS, D1, D2, START, environment

pytestmark = [pytest.mark.airflow, pytest.mark.spark, pytest.mark.s3]


@pytest.fixture(scope="module")
def shop(daily_shop):  # type: ignore[no-untyped-def]
    """The shared shop's daily runs, with its settings applied for this module's re-runs."""
    generated, states = daily_shop
    with environment(generated.env):
        yield Runtime.from_settings(), states


def manifests(rt: Runtime, ds: str) -> dict[str, dict]:
    """Every committed partition for a date, by key: its manifest (with file checksums)."""
    refs = [PartitionRef("raw", t, ds) for t in ("orders", "order_lines", "events", "customers")]
    refs += [PartitionRef("features", "customer", ds), PartitionRef("scores", "customer", ds)]
    refs += [PartitionRef("dims", "contacts", ds)]
    refs += [PartitionRef("audiences", c, ds) for c in CAMPAIGNS]
    out = {ref.key: rt.lake.manifest(ref) for ref in refs}
    for c in CAMPAIGNS:
        key = publication_key("generic_csv", c, ds)
        out[f"exports/{key}"] = read_manifest(rt.exports.store, key)
    return out


def exported(rt: Runtime, campaign: str, ds: date, destination: str = "generic_csv") -> pd.DataFrame:
    """The visible publication's audience file(s) of one destination, checked against the manifest."""
    found = published(rt.exports.store, publication_key(destination, campaign, str(ds)))
    assert found is not None, f"{destination}/{campaign}/{ds} is not published"
    parts = [pd.read_csv(io.BytesIO(data)) for name, data in sorted(found[1].items()) if name.startswith("audience-")]
    return pd.concat(parts, ignore_index=True)


def landing_frame(rt: Runtime, ds: date, table: str) -> pd.DataFrame:
    return read_csv_text(rt.landing.read_bytes(f"dt={ds}/{table}.csv"), table)


def test_runs_succeed(shop) -> None:  # type: ignore[no-untyped-def]
    _, states = shop
    assert states == [(D1, "success"), (D2, "success")]


def test_row_counts_flow_through_stages(shop) -> None:  # type: ignore[no-untyped-def]
    rt, _ = shop
    for ds in (D1, D2):
        m = manifests(rt, str(ds))
        assert m[f"raw/orders/dt={ds}"]["rows"] == len(landing_frame(rt, ds, "orders"))
        assert m[f"raw/events/dt={ds}"]["rows"] == len(landing_frame(rt, ds, "events"))
        # every customer known by D (signed up or ordered) gets features and exactly one score
        known = set()
        for day in pd.date_range(START, ds):
            known |= set(landing_frame(rt, day.date(), "customers")["customer_id"])
            known |= set(landing_frame(rt, day.date(), "orders")["customer_id"])
        scores = rt.lake.read_frame(PartitionRef("scores", "customer", str(ds)))
        assert m[f"features/customer/dt={ds}"]["rows"] == m[f"scores/customer/dt={ds}"]["rows"] == len(known)
        assert set(scores["customer_id"]) == known and scores["customer_id"].is_unique
        for c in CAMPAIGNS:
            stats = m[f"audiences/{c}/dt={ds}"]["meta"]["stats"]
            rows = m[f"exports/generic_csv/{c}/dt={ds}"]["counts"]["rows"]
            assert 0.9 * stats["treatment"] <= rows <= stats["treatment"]  # a shared mailbox is exported once
    assert rt.lake.committed_dates(Dataset("models", "churn_lgbm")) == [str(D1)]  # trained once, then reused
    modes = [rt.lake.manifest(PartitionRef("dims", "contacts", str(d)))["meta"]["mode"] for d in (D1, D2)]
    assert modes == ["rebuilt", "rolled forward"]  # the contact snapshot costs one day of changes


def test_no_unconsented_or_unsubscribed_customer_is_exported(shop) -> None:  # type: ignore[no-untyped-def]
    rt, _ = shop
    log = pd.concat(
        [landing_frame(rt, d.date(), "customers").assign(dt=str(d.date())) for d in pd.date_range(START, D2)],
        ignore_index=True,
    )
    contacts = latest_contacts(log.assign(_row=log["_row"].astype(int)))
    eligible = contacts["marketing_consent"].eq("true") & contacts["unsubscribed"].eq("false")
    hashed = contacts["email"].map(lambda e: sha256_hex(normalise_email(e)) if isinstance(e, str) else None)
    allowed = set(hashed[eligible].dropna())
    forbidden = set(hashed[~eligible].dropna()) - allowed
    assert forbidden, "the shop must contain customers who may not be contacted"
    hashes = set()
    for c in CAMPAIGNS:
        hashes |= set(exported(rt, c, D2)["email_sha256"].dropna())
    assert hashes and hashes <= allowed
    assert not hashes & forbidden


def test_control_group_is_held_out_of_exports(shop) -> None:  # type: ignore[no-untyped-def]
    rt, _ = shop
    for c in CAMPAIGNS:
        audience = rt.lake.read_frame(PartitionRef("audiences", c, str(D2)))
        treated = int((audience["group"] == "treatment").sum())
        assert 0.9 * treated <= len(exported(rt, c, D2)) <= treated
    # pooled over both campaigns on D1 (on D2 the 7-day cap leaves mostly D1's control, which stays
    # control: the split is a stable hash): a control group of the configured size
    pooled = pd.concat(rt.lake.read_frame(PartitionRef("audiences", c, str(D1))) for c in CAMPAIGNS)
    assert {"treatment", "control"} == set(pooled["group"])
    assert 0.03 < (pooled["group"] == "control").mean() < 0.3


def test_rerunning_a_date_leaves_identical_output(shop) -> None:  # type: ignore[no-untyped-def]
    rt, _ = shop
    before = manifests(rt, str(D1))
    assert run_dates([D1]) == [(D1, "success")]
    assert manifests(rt, str(D1)) == before


def test_bad_batch_stops_downstream_and_touches_nothing(shop) -> None:  # type: ignore[no-untyped-def]
    rt, _ = shop
    committed = {k: rt.lake.store.read_bytes(k) for k in rt.lake.store.list_keys("raw")}
    assert run_dates([BAD]) == [(BAD, "ingest_features: failed")]
    assert not rt.lake.is_committed(PartitionRef("raw", "orders", str(BAD)))
    assert rt.lake.is_committed(PartitionRef("quarantine", "raw/orders", str(BAD)))
    assert not rt.lake.is_committed(PartitionRef("features", "customer", str(BAD)))
    assert not rt.lake.is_committed(PartitionRef("scores", "customer", str(BAD)))
    assert {k: rt.lake.store.read_bytes(k) for k in rt.lake.store.list_keys("raw")} == committed


def test_winback_export_carries_personalised_content(shop) -> None:  # type: ignore[no-untyped-def]
    """The DAG's recommendations reach the email tool: a variant, a rendered message, real products."""
    rt, _ = shop
    recs = rt.lake.read_frame(PartitionRef("recommendations", "customer", str(D1)))
    rows = exported(rt, "winback", D1)  # D1: on D2 the 7-day frequency cap leaves nobody to treat
    assert len(rows) and set(rows["variant"]) <= {"last_call", "nudge"}
    assert rows["subject"].notna().all() and rows["rec_1_id"].notna().all()
    assert set(rows["rec_1_id"]) <= set(recs["product_id"])
    first = rows[rows["variant"] == "last_call"].iloc[0]
    assert first["subject"] == f"15% off your next order: {first['rec_1_name']} is waiting"


def test_one_campaign_per_customer_a_day_frequency_cap_and_ad_platform_files(shop) -> None:  # type: ignore[no-untyped-def]
    rt, _ = shop
    day = {d: {c: rt.lake.read_frame(PartitionRef("audiences", c, str(d))) for c in CAMPAIGNS} for d in (D1, D2)}
    for d in (D1, D2):
        assert not set(day[d]["winback"]["customer_id"]) & set(day[d]["vip_care"]["customer_id"])
        for c in CAMPAIGNS:
            assert rt.lake.store.exists(f"audiences/{c}/dt={d}/_report.png")
    treated_d1 = {cid for c in CAMPAIGNS for cid in day[D1][c].query("group == 'treatment'")["customer_id"]}
    assert treated_d1 and not treated_d1 & {cid for c in CAMPAIGNS for cid in day[D2][c]["customer_id"]}  # 7-day cap
    stats = rt.lake.manifest(PartitionRef("audiences", "winback", str(D2)))["meta"]["stats"]
    assert stats["excluded"]["contacted_recently"] > 0
    google = read_manifest(rt.exports.store, publication_key("google_ads", "winback", str(D2)))
    meta = exported(rt, "winback", D2, "meta_ads")
    assert google is not None and google["counts"]["rows"] == len(meta) <= stats["treatment"]
    assert google["counts"]["removes"] > 0 and google["previous"] is None  # D1's list is replaced by D2's
    assert list(meta.columns) == ["email", "phone"] and meta["email"].dropna().str.fullmatch(r"[0-9a-f]{64}").all()
