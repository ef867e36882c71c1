"""DAG integrity: imports cleanly, is tagged, documented and retried, and parses without heavy imports."""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise

import pytest

from campaignflow.orchestration import assets
from campaignflow.orchestration.dag_defaults import SUITE
from tests.conftest import ROOT

HEAVY = ("pyspark", "pandas", "lightgbm", "great_expectations", "boto3", "torch", "sklearn", "pyarrow")


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert set(SUITE) <= set(dagbag.dag_ids)


def test_every_dag_tagged_documented_owned_and_bounded(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag in dagbag.dags.values():
        assert dag.tags and "campaignflow" in dag.tags, f"{dag.dag_id} has no tags"
        assert dag.doc_md and len(dag.doc_md) > 100, f"{dag.dag_id} has no doc_md"
        assert dag.max_active_runs and dag.max_active_runs <= 3, dag.dag_id
        assert dag.timetable.can_be_scheduled and not dag.catchup, f"{dag.dag_id} cannot be backfilled by date"
        for task in dag.tasks:
            assert task.owner == "campaignflow", f"{dag.dag_id}.{task.task_id} has no owner"
            assert task.retries >= 1 and task.retry_exponential_backoff, f"{dag.dag_id}.{task.task_id} retries"
            assert task.on_failure_callback, f"{dag.dag_id}.{task.task_id} reports no failure"


def _edges(dag) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}


def test_ingest_features_shape(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["ingest_features"]
    order = ["wait_for_landing", "ingest", "validate_raw", "build_features", "build_segments"]
    assert set(pairwise(order)) <= _edges(dag)
    assert dag.get_task("snapshot_contacts").upstream_task_ids == {"validate_raw"}
    assert dag.get_task("build_features").depends_on_past  # D's state grows from D-1's
    assert dag.get_task("snapshot_contacts").depends_on_past  # so does the contact snapshot


def test_campaign_daily_waits_for_features_and_models(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["campaign_daily"]
    assert dag.get_task("validate_campaigns").upstream_task_ids == set()  # specs checked before anything runs
    waits, models = {"wait_for_features", "wait_for_models"}, {"score_customers", "recommend_products"}
    assert {("validate_campaigns", w) for w in waits} <= _edges(dag)
    assert {(w, m) for w in waits for m in models} <= _edges(dag)  # side by side, both before any model
    assert {(m, "build_audiences") for m in models} <= _edges(dag)
    assert ("build_audiences", "export_audience") in _edges(dag)


def test_every_wait_is_a_partition_sensor(dagbag) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.orchestration.partition_sensor import PartitionSensor
    from campaignflow.orchestration.waits import CONDITIONS

    waits = {(d, t.task_id): t for d in SUITE for t in dagbag.dags[d].tasks if t.task_id.startswith("wait_for_")}
    assert len(waits) == 5  # landing; orders (twice); features and models
    for task in waits.values():
        assert isinstance(task, PartitionSensor) and task.condition in CONDITIONS


def test_train_models_on_demand(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["train_models"]
    assert dag.params["force"] is False
    assert {("wait_for_orders", "train_churn"), ("wait_for_orders", "train_recommender")} <= _edges(dag)


def test_assets_name_the_partitions_each_dag_commits(dagbag) -> None:  # type: ignore[no-untyped-def]
    produced = {dag_id: {o.uri for t in dagbag.dags[dag_id].tasks for o in t.outlets} for dag_id in SUITE}
    assert "campaignflow://lake/features/customer" in produced["ingest_features"]
    assert "campaignflow://lake/raw/orders" in produced["ingest_features"]
    assert "campaignflow://lake/monitoring/training_churn" in produced["train_models"]
    assert {assets.SCORES.uri, assets.AUDIENCES.uri, assets.EXPORTS.uri} <= produced["campaign_daily"]
    assert produced["campaign_measurement"] == {"campaignflow://lake/measurement/campaign_lift"}


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
