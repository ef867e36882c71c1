"""The scale-out executor, exercised: the CeleryExecutor with the local Redis as broker, PostgreSQL as
result backend and metadata DB, and a Celery worker process running the tasks of a backfill.

The DAG is the measurement one (no Spark): the point is the executor, the daily DAGs run under the
LocalExecutor in test_backfill.py.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest

from campaignflow.io import datasets
from tests.daily_shop import D1, SPEC
from tests.scheduler.stack import scheduler_with_shop

pytestmark = [pytest.mark.airflow, pytest.mark.s3]

SMALL = dataclasses.replace(SPEC, customers=150, days=(D1 - SPEC.start).days + 1)
FIRST, LAST = D1 - timedelta(days=2), D1 - timedelta(days=1)  # validated orders exist (history)


def test_celery_worker_runs_a_backfill(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> None:
    root = tmp_path_factory.mktemp("celery")
    with scheduler_with_shop(root, s3_endpoint, "CeleryExecutor", SMALL, ("campaign_measurement",)) as (stack, shop):
        stack.wait_for_backfill(stack.create_backfill("campaign_measurement", str(FIRST), str(LAST), "failed"))
        runs = [r for r in stack.runs("campaign_measurement") if r["run_type"] == "backfill"]
        assert len(runs) == 2
        for run in runs:
            assert run["state"] == "success", stack.failures("campaign_measurement", run["dag_run_id"])
        tis = [ti for run in runs for ti in stack.task_instances("campaign_measurement", run["dag_run_id"])]
        assert {ti["state"] for ti in tis} == {"success"} and len(tis) == 4
        assert {ti["queue"] for ti in tis} == {"default"}
        worker_log = (stack.home / "celery-worker.out").read_text(errors="replace")
        done = re.findall(r"Task execute_workload\[[0-9a-f-]+\] succeeded", worker_log)
        assert len(done) >= len(tis), worker_log[-2000:]  # every task went through Celery (a wait checks there first)
        lake = shop.runtime().lake
        assert all(lake.is_committed(datasets.CAMPAIGN_LIFT.at(str(d))) for d in (FIRST, LAST))
