"""Backfill runs of the suite go to the backfill pool; daily runs and other DAGs keep theirs."""

from __future__ import annotations

from types import SimpleNamespace

from airflow.utils.types import DagRunType

from campaignflow.orchestration.policy import BACKFILL_POOL, task_instance_mutation_hook


def _ti(dag_id: str = "ingest_features") -> SimpleNamespace:
    return SimpleNamespace(dag_id=dag_id, pool="default_pool")


def test_backfill_runs_use_the_backfill_pool() -> None:
    ti = _ti()
    task_instance_mutation_hook(ti, SimpleNamespace(run_type=DagRunType.BACKFILL_JOB))
    assert ti.pool == BACKFILL_POOL


def test_scheduled_manual_and_foreign_runs_keep_their_pool() -> None:
    for run_type in (DagRunType.SCHEDULED, DagRunType.MANUAL, DagRunType.ASSET_TRIGGERED):
        ti = _ti()
        task_instance_mutation_hook(ti, SimpleNamespace(run_type=run_type))
        assert ti.pool == "default_pool"
    ti = _ti("someone_elses_dag")
    task_instance_mutation_hook(ti, SimpleNamespace(run_type=DagRunType.BACKFILL_JOB))
    assert ti.pool == "default_pool"
    task_instance_mutation_hook(ti, None)  # no run bound yet: nothing to decide
    assert ti.pool == "default_pool"


def test_registered_with_airflow() -> None:
    from airflow.settings import get_policy_plugin_manager

    impls = get_policy_plugin_manager().hook.task_instance_mutation_hook.get_hookimpls()
    assert any(impl.plugin_name == "campaignflow" for impl in impls)
