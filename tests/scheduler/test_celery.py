"""The scale-out executor, exercised: the CeleryExecutor with the local Redis as broker, PostgreSQL as
result backend and metadata DB, and a Celery worker process running the tasks of a backfill."""

from __future__ import annotations

import dataclasses

import pytest

from campaignflow.io import datasets
from tests.daily_shop import D1, SPEC
from tests.scheduler.stack import scheduler_with_shop

pytestmark = [pytest.mark.slow, pytest.mark.scheduler, pytest.mark.airflow, pytest.mark.spark, pytest.mark.s3]


# a small shop of the shared shape: the point is the executor, not the data
SMALL = dataclasses.replace(SPEC, customers=150, days=(D1 - SPEC.start).days + 1, start=SPEC.start)


def test_celery_worker_runs_a_backfill(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str) -> None:
    root = tmp_path_factory.mktemp("celery")
    with scheduler_with_shop(root, s3_endpoint, "CeleryExecutor", SMALL) as (stack, shop):
        stack.cli(
            "backfill",
            "create",
            "--dag-id",
            "ingest_features",
            "--from-date",
            str(D1),
            "--to-date",
            str(D1),
            "--reprocess-behavior",
            "failed",
        )
        runs = stack.wait_for_runs("ingest_features", 1)
        assert runs[0]["state"] == "success", stack.failures("ingest_features", runs[0]["dag_run_id"])
        tis = stack.task_instances("ingest_features", runs[0]["dag_run_id"])
        assert {ti["state"] for ti in tis} == {"success"} and len(tis) == 6
        worker_log = (stack.home / "celery-worker.out").read_text(errors="replace")
        ran = [ti["task_id"] for ti in tis if ti["task_id"] in worker_log]
        assert sorted(ran) == sorted(ti["task_id"] for ti in tis), "every task went through the Celery worker"
        assert shop.runtime().lake.is_committed(datasets.CUSTOMER_FEATURES.at(str(D1)))
