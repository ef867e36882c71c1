"""DAG integrity: imports cleanly, is tagged, documented and retried, and parses without heavy imports."""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise

import pytest

from tests.conftest import ROOT

HEAVY = ("pyspark", "pandas", "lightgbm", "great_expectations", "boto3", "torch", "sklearn", "pyarrow")


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert "campaign_daily" in dagbag.dag_ids


def test_every_dag_tagged_documented_and_retried(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag in dagbag.dags.values():
        assert dag.tags, f"{dag.dag_id} has no tags"
        assert dag.doc_md and len(dag.doc_md) > 100, f"{dag.dag_id} has no doc_md"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"


def test_daily_dag_shape(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["campaign_daily"]
    order = ["wait_for_landing", "ingest", "validate_raw", "build_features", "train_churn", "score_customers"]
    for upstream, downstream in pairwise(order):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    assert dag.get_task("validate_campaigns").upstream_task_ids == set()  # specs checked before anything runs
    assert "wait_for_landing" in dag.get_task("validate_campaigns").downstream_task_ids
    assert "build_audiences" in dag.get_task("score_customers").downstream_task_ids
    assert dag.get_task("snapshot_contacts").upstream_task_ids == {"validate_raw"}
    assert "build_audiences" in dag.get_task("snapshot_contacts").downstream_task_ids
    assert "export_audience" in dag.get_task("build_audiences").downstream_task_ids
    recommend = ["build_features", "train_recommender", "recommend_products", "build_audiences"]
    for upstream, downstream in pairwise(recommend):
        assert downstream in dag.get_task(upstream).downstream_task_ids


def test_parsing_imports_nothing_heavy() -> None:
    code = (
        "import runpy, sys; runpy.run_path(sys.argv[1]); "
        f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    for path in sorted((ROOT / "dags").glob("*.py")):
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
        heavy = next(line for line in out.stdout.splitlines() if line.startswith("HEAVY:"))
        assert heavy == "HEAVY:", f"{path.name} imports {heavy[6:]} at parse time"


def test_ruff_airflow_rules_clean() -> None:
    ruff = ROOT / ".venv" / "bin" / "ruff"
    exe = str(ruff) if ruff.exists() else "ruff"
    out = subprocess.run([exe, "check", "--select", "AIR", str(ROOT / "dags")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
