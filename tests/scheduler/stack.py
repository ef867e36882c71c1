"""The scheduler tests' shop on a real Airflow stack (bench/airflow_stack.py), and the suite's backfill."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.airflow_stack import S3_SECRET, AirflowStack, airflow_stack, spark_server, task_spark_env
from campaignflow.orchestration.dag_defaults import DAILY


def copy_tree_bytes(root: Path, prefixes: tuple[str, ...]) -> dict[str, bytes]:
    """Every file under ``root/<prefix>`` as {relative path: bytes} (for before/after comparisons)."""
    out = {}
    for prefix in prefixes:
        base = root / prefix
        if base.exists():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    out[str(path.relative_to(root))] = path.read_bytes()
    return out


@contextmanager
def scheduler_with_shop(
    root: Path, s3_endpoint: str, executor: str, spec: Any = None, dag_ids: tuple[str, ...] = DAILY
) -> Iterator[tuple[AirflowStack, Any]]:
    """The shared shop (or ``spec``) generated into ``root`` (landing and exports on S3), and a stack whose tasks
    reach S3 through the ``campaignflow_aws`` Airflow connection (no endpoint in their environment)
    and Spark through one local Spark Connect server they share."""
    from tests.daily_shop import SPEC, make_daily_shop
    from tests.s3server import bucket

    with bucket(s3_endpoint) as name:
        shop = make_daily_shop(root / "shop", name, s3_endpoint, spec or SPEC)
        env = {k: v for k, v in shop.env.items() if k != "CAMPAIGNFLOW_S3_ENDPOINT_URL"}
        conn = {
            "conn_type": "aws",
            "login": "testing",
            "password": S3_SECRET,
            "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
        }
        env.update({"AIRFLOW_CONN_CAMPAIGNFLOW_AWS": json.dumps(conn), **task_spark_env(root / "home", poll_seconds=2)})
        try:
            with airflow_stack(root / "airflow", executor, env) as stack:
                stack.start_dags(dag_ids)
                yield stack, shop
        finally:
            spark_server("stop", env)


def backfill_suite(stack: AirflowStack) -> dict[str, list[dict[str, Any]]]:
    """``airflow backfill create`` for each daily DAG over D1..D2, in the runbook's order; the runs."""
    from tests.daily_shop import D1, D2

    finished = {}
    for dag_id in DAILY:
        stack.backfill_cli(dag_id, D1, D2)
        runs = stack.wait_for_runs(dag_id, 2)
        failed = [r for r in runs if r["state"] != "success"]
        assert not failed, stack.failures(dag_id, failed[0]["dag_run_id"])
        finished[dag_id] = runs
    return finished
