"""Airflow cluster policy (registered by ``plugins/airflow_local_settings.py``).

Backfill runs go to their own pool, ``campaignflow_backfill``, so a quarter's backfill queues
behind its few slots while the nightly runs keep theirs in ``default_pool``. The pool is created by
``campaignflow airflow-init`` (and ``make airflow``, the compose stack's init, the tests).
"""

from __future__ import annotations

from typing import Any

from campaignflow.orchestration.dag_defaults import SUITE

BACKFILL_POOL = "campaignflow_backfill"
BACKFILL_POOL_SLOTS = 2
BACKFILL_POOL_DESCRIPTION = "campaignflow backfills: bounded so they cannot starve the daily runs"


def is_backfill(run_type: Any) -> bool:
    """Whether a DAG run of ``run_type`` (the enum or its value) belongs to a backfill."""
    return str(getattr(run_type, "value", run_type)) == "backfill"


def pool_for(run_type: Any, current: str) -> str:
    """The pool a task of a run of ``run_type`` should use."""
    return BACKFILL_POOL if is_backfill(run_type) else current


def task_instance_mutation_hook(task_instance: Any, dag_run: Any = None) -> None:
    if dag_run is None or task_instance.dag_id not in SUITE:
        return
    task_instance.pool = pool_for(dag_run.run_type, task_instance.pool)
