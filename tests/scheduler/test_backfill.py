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

from bench.airflow_stack import S3_SECRET, AirflowStack
from campaignflow.orchestration.policy import BACKFILL_POOL
from tests.daily_shop import D1, D2, lake_fingerprint
from tests.scheduler.stack import copy_tree_bytes

pytestmark = [pytest.mark.airflow, pytest.mark.spark, pytest.mark.s3]

INGEST_ZONES = ("raw", "daily", "state", "features", "segments", "dims")  # what ingest_features commits


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
    before = copy_tree_bytes(shop.root / "lake", INGEST_ZONES)
    started = time.time()
    stack.wait_for_backfill(stack.create_backfill("ingest_features", str(D1), str(D2), "completed"))
    runs = stack.runs("ingest_features")
    rerun = [r for r in runs if r["run_type"] == "backfill"]
    assert len(rerun) == 2 and {r["state"] for r in rerun} == {"success"}
    assert all(datetime.fromisoformat(r["end_date"]).timestamp() > started for r in rerun)  # really re-ran
    after = copy_tree_bytes(shop.root / "lake", INGEST_ZONES)
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


def test_a_bad_day_holds_the_backfill_until_fixed_and_cleared(backfilled_stack) -> None:  # type: ignore[no-untyped-def]
    """The runbook's recovery. D1's export is re-landed with a duplicated order and the DAG backfilled
    again: D1's run fails at validation at once (no retry; quarantined with file, column and rule,
    which its run report shows), D2's run ingests and validates but holds before its first task that
    grows from D1's output, and nothing committed changes. Once the export is fixed and D1's failed
    tasks are cleared with ``airflow tasks clear --only-failed``, the same backfill goes on and
    completes, the lake as before."""
    stack, shop, _ = backfilled_stack
    lake = shop.root / "lake"
    before = copy_tree_bytes(lake, INGEST_ZONES)
    landing, key = shop.runtime().landing, f"dt={D1}/orders.csv"
    good = landing.read_bytes(key)
    lines = good.decode().splitlines(keepends=True)
    landing.write_bytes(key, "".join([*lines, lines[1]]).encode())  # the first order twice
    try:
        backfill = stack.create_backfill("ingest_features", str(D1), str(D2), "completed")
        d1, d2 = (_run_on(stack, "ingest_features", day) for day in (D1, D2))
        stack.wait_until(lambda: _state(stack, "ingest_features", d1) == "failed", "D1's run to fail")
        tis = {ti["task_id"]: ti for ti in stack.task_instances("ingest_features", d1)}
        validation = tis["validate_raw"]
        assert validation["state"] == "failed" and validation["try_number"] < validation["max_tries"]  # not retried
        assert tis["build_features"]["state"] == "upstream_failed"
        report = (lake / f"quarantine/raw/orders/dt={D1}/_report.json").read_text()
        assert "orders.csv" in report and "order_id" in report and "unique" in report
        status, page = stack.get(f"/campaignflow/runs/ingest_features/{d1}", token=stack.token())  # the run report
        assert status == 200 and b"quarantined" in page and b"order_id" in page and b"rows is kept" in page
        stack.wait_until(lambda: _ti_states(stack, d2)["validate_raw"] == "success", "D2's validation")
        time.sleep(10)  # scheduler loops: D2's contact snapshot must still wait for D1's
        held = _ti_states(stack, d2)
        assert _state(stack, "ingest_features", d2) == "running", held
        assert [held[t] for t in ("snapshot_contacts", "build_features", "build_segments")] == [None] * 3, held
        assert stack.api("GET", f"backfills/{backfill}")["completed_at"] is None
        assert copy_tree_bytes(lake, INGEST_ZONES) == before
    finally:
        landing.write_bytes(key, good)  # the fixed export, re-landed
    stack.cli("tasks", "clear", "ingest_features", "-s", str(D1), "-e", str(D1), "--only-failed", "--yes")
    stack.wait_for_backfill(backfill)
    assert [_state(stack, "ingest_features", run) for run in (d1, d2)] == ["success", "success"]
    after = copy_tree_bytes(lake, INGEST_ZONES)
    assert after.keys() == before.keys()
    assert [k for k in after if after[k] != before[k]] == []


def _run_on(stack: AirflowStack, dag_id: str, day: object) -> str:
    return next(r["dag_run_id"] for r in stack.runs(dag_id) if r["logical_date"].startswith(str(day)))


def _state(stack: AirflowStack, dag_id: str, run_id: str) -> str:
    return str(stack.api("GET", f"dags/{dag_id}/dagRuns/{run_id}")["state"])


def _ti_states(stack: AirflowStack, run_id: str) -> dict[str, str | None]:
    return {ti["task_id"]: ti["state"] for ti in stack.task_instances("ingest_features", run_id)}
