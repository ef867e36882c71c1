"""Backfills through the real scheduler (LocalExecutor, PostgreSQL metadata DB) on a generated shop.

The suite's three daily DAGs are backfilled over D1..D2 with Airflow's own CLI, one after another as
the README's runbook does; the API server's REST API reports the states. The outputs must equal,
byte for byte, what the daily runs of the same shop committed (``dag.test``, the shared
``daily_shop``), the backfill runs must have used the backfill pool, and a second backfill that
reprocesses the dates must leave every byte as it was (and one that reprocesses failures only
must create no run). The stack is shared with the browser test.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest

from campaignflow.orchestration.policy import BACKFILL_POOL
from tests.daily_shop import D1, D2, lake_fingerprint
from tests.scheduler.stack import S3_SECRET, copy_tree_bytes

pytestmark = [pytest.mark.slow, pytest.mark.scheduler, pytest.mark.airflow, pytest.mark.spark, pytest.mark.s3]


def test_backfill_runs_every_dag_for_every_date(backfilled_stack) -> None:  # type: ignore[no-untyped-def]
    _, _, finished = backfilled_stack
    for dag_id, runs in finished.items():
        assert sorted(r["logical_date"][:10] for r in runs) == [str(D1), str(D2)], dag_id
        assert {r["state"] for r in runs} == {"success"}


def test_backfill_tasks_ran_in_the_backfill_pool(backfilled_stack) -> None:  # type: ignore[no-untyped-def]
    stack, _, finished = backfilled_stack
    run = finished["ingest_features"][0]
    pools = {ti["task_id"]: ti["pool"] for ti in stack.task_instances("ingest_features", run["dag_run_id"])}
    assert pools and set(pools.values()) == {BACKFILL_POOL}, pools


def test_backfill_equals_the_daily_runs(backfilled_stack, daily_shop) -> None:  # type: ignore[no-untyped-def]
    _, shop, _ = backfilled_stack
    reference, states = daily_shop
    assert states == [(D1, "success"), (D2, "success")]
    ours, theirs = lake_fingerprint(shop, [D1, D2]), lake_fingerprint(reference, [D1, D2])
    assert len(ours) > 20
    assert ours.keys() == theirs.keys()
    differing = [k for k in ours if ours[k] != theirs[k]]
    assert not differing, differing


def test_exports_published_over_s3_equal_the_daily_runs(backfilled_stack, daily_shop) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.campaigns.publish import publication_key, published

    _, shop, _ = backfilled_stack
    ours, theirs = shop.runtime().exports.store, daily_shop[0].runtime().exports.store
    for campaign in ("vip_care", "winback"):
        for day in (D1, D2):
            key = publication_key("generic_csv", campaign, str(day))
            mine, reference = published(ours, key), published(theirs, key)
            assert mine is not None and reference is not None, key
            assert mine[1] == reference[1], key  # the same files, byte for byte


def test_asset_events_name_the_partitions(backfilled_stack) -> None:  # type: ignore[no-untyped-def]
    stack, _, _ = backfilled_stack
    events = stack.api("GET", "assets/events?limit=100")["asset_events"]
    features = [e for e in events if e["uri"] == "campaignflow://lake/features/customer"]
    assert sorted(e["extra"]["dt"] for e in features) == [str(D1), str(D2)]


def test_no_secret_in_task_logs(backfilled_stack) -> None:  # type: ignore[no-untyped-def]
    """The object store's key came from the campaignflow_aws connection; no task log shows it."""
    stack, _, _ = backfilled_stack
    logs = [p for p in (stack.home / "logs").rglob("*") if p.is_file()]
    assert len(logs) > 20
    assert not [str(p) for p in logs if S3_SECRET in p.read_text(errors="replace")]
    assert "CAMPAIGNFLOW_S3_ENDPOINT_URL" not in stack.env  # the endpoint reached tasks only by the connection


def test_second_backfill_changes_nothing(backfilled_stack) -> None:  # type: ignore[no-untyped-def]
    stack, shop, _ = backfilled_stack
    before = copy_tree_bytes(shop.root / "lake", ("raw", "daily", "state", "features", "segments", "dims"))
    started = time.time()
    stack.wait_for_backfill(stack.create_backfill("ingest_features", str(D1), str(D2), "completed"))
    runs = stack.runs("ingest_features")
    rerun = [r for r in runs if r["run_type"] == "backfill"]
    assert len(rerun) == 2 and {r["state"] for r in rerun} == {"success"}
    assert all(datetime.fromisoformat(r["end_date"]).timestamp() > started for r in rerun)  # really re-ran
    after = copy_tree_bytes(shop.root / "lake", ("raw", "daily", "state", "features", "segments", "dims"))
    assert after.keys() == before.keys()
    assert [k for k in after if after[k] != before[k]] == []
    # reprocessing only failures over dates that all succeeded: the backfill completes with no run
    finished = {r["dag_run_id"]: r["end_date"] for r in stack.runs("campaign_daily")}
    zones = ("scores", "recommendations", "audiences")
    before = copy_tree_bytes(shop.root / "lake", zones)
    stack.wait_for_backfill(stack.create_backfill("campaign_daily", str(D1), str(D2), "failed"))
    assert {r["dag_run_id"]: r["end_date"] for r in stack.runs("campaign_daily")} == finished
    assert copy_tree_bytes(shop.root / "lake", zones) == before


def test_on_demand_training(backfilled_stack) -> None:  # type: ignore[no-untyped-def]
    """Triggering train_models with force retrains at that date (after the backfill's champion)."""
    stack, shop, _ = backfilled_stack
    day = D2 + timedelta(days=0)
    conf = json.dumps({"force": True})
    stack.cli("dags", "trigger", "train_models", "--logical-date", f"{day}T12:00:00+00:00", "--conf", conf)
    runs = stack.wait_for_runs("train_models", 1, run_type="manual")
    assert runs[0]["state"] == "success", stack.failures("train_models", runs[0]["dag_run_id"])
    decision = json.loads((shop.root / "lake" / f"monitoring/training_churn/dt={day}/decision.json").read_text())
    assert decision["trained"] is True
