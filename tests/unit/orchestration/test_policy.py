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


def test_airflow_calls_the_hook_from_the_plugins_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Airflow finds the local settings on its sys.path and turns the mutation hook on."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "from types import SimpleNamespace as NS; from airflow import settings; "
        "ti = NS(dag_id='campaign_daily', pool='default_pool'); "
        "settings.task_instance_mutation_hook(ti, NS(run_type='backfill')); "
        "print('NOOP', settings.task_instance_mutation_hook.is_noop, ti.pool)"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("NOOP"))
    assert line == f"NOOP False {BACKFILL_POOL}", out.stdout + out.stderr


def test_only_a_backfill_builds_ahead(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from campaignflow.errors import ConfigError
    from campaignflow.orchestration.tasks import ahead_days

    monkeypatch.delenv("CAMPAIGNFLOW_BACKFILL_AHEAD_DAYS", raising=False)
    assert ahead_days(SimpleNamespace(run_type=DagRunType.BACKFILL_JOB)) == 10
    for run_type in (DagRunType.SCHEDULED, DagRunType.MANUAL, DagRunType.ASSET_TRIGGERED):
        assert ahead_days(SimpleNamespace(run_type=run_type)) == 0
    assert ahead_days(None) == 0  # dag.test() and the CLI: one date per run
    monkeypatch.setenv("CAMPAIGNFLOW_BACKFILL_AHEAD_DAYS", "0")
    assert ahead_days(SimpleNamespace(run_type="backfill")) == 0
    monkeypatch.setenv("CAMPAIGNFLOW_BACKFILL_AHEAD_DAYS", "-1")
    with pytest.raises(ConfigError, match="BACKFILL_AHEAD_DAYS must be >= 0"):
        ahead_days(SimpleNamespace(run_type="backfill"))
