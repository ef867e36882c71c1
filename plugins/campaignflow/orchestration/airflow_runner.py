"""Drive the daily DAGs through Airflow (``dag.test``) with a project-local metadata DB.

This is what ``campaignflow run`` and ``make demo`` use: per date, the suite's daily DAGs in order
(``ingest_features``, ``train_models``, ``campaign_daily``), real task instances and XComs recorded
in Airflow's DB (SQLite under ``$CAMPAIGNFLOW_HOME/airflow`` unless
``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` says otherwise), so ``make airflow`` shows the runs.
Runs on one Airflow home are serialised by a file lock, so two commands started together queue
instead of racing on the metadata DB.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from campaignflow.errors import DateOutOfRange
from campaignflow.orchestration.dag_defaults import DAILY
from campaignflow.settings import EARLIEST_DATE, ENV_PREFIX, default_home, project_root

log = logging.getLogger(__name__)

LOCK_NAME = "campaignflow-run.lock"


# How the scheduler hands work on (every deployment: local, the test stacks and the compose file set
# these). An idle scheduler loops every 0.25 s, not 1 s. A task supervisor that sees its task's
# sockets close before the process is reaped waits for its next heartbeat tick before it frees the
# worker: up to 5 s by default, which held about half the workers of a daily run 5 s after their task
# had ended (a daily run at 20 k: 41.9 s → 31.6 s with 1 s and the preloaded libraries); the price is
# a heartbeat a second per running task. Each loop examines the running runs in backfill order, at
# most ``max_dagruns_per_loop_to_schedule`` (20 by default) of them: with the three daily DAGs
# backfilled side by side, only the first ~7 dates of each moved on, so ingestion never ran ahead of
# the feature build and dates could not share a pass (a 30-day backfill at 20 k: 895 → 680 s, 29 of
# 30 dates built ahead instead of 17, with 64 and ``ingest_features`` at 30 runs in flight).
SCHEDULER_SETTINGS = {
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.25",
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
    "AIRFLOW__SCHEDULER__MAX_DAGRUNS_PER_LOOP_TO_SCHEDULE": "64",
}


def configure_airflow_env(env: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Default Airflow settings for a project-local install; explicit settings win."""
    home = Path(env.get(f"{ENV_PREFIX}HOME", str(default_home()))).resolve()
    env.setdefault("AIRFLOW_HOME", str(home / "airflow"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(project_root() / "dags"))
    env.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(project_root() / "plugins"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True")
    env.setdefault("GX_ANALYTICS_ENABLED", "False")
    for key, value in SCHEDULER_SETTINGS.items():
        env.setdefault(key, value)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def run_lock(on_wait: Callable[[str], None] = log.warning) -> Iterator[None]:
    """Hold the Airflow home's run lock; wait (saying so once) while another run holds it."""
    path = Path(os.environ["AIRFLOW_HOME"]) / LOCK_NAME
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(f"another campaignflow run is using {path.parent}; waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate_db() -> None:
    """Create or upgrade the Airflow metadata DB and the backfill pool (idempotent)."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, text=True)
    ensure_backfill_pool()


def ensure_backfill_pool() -> None:
    """The pool backfill runs are routed to (:mod:`campaignflow.orchestration.policy`)."""
    from airflow.models.pool import Pool

    from campaignflow.orchestration.policy import BACKFILL_POOL, BACKFILL_POOL_DESCRIPTION, BACKFILL_POOL_SLOTS

    if Pool.get_pool(BACKFILL_POOL) is None:
        Pool.create_or_update_pool(BACKFILL_POOL, BACKFILL_POOL_SLOTS, BACKFILL_POOL_DESCRIPTION, False)


def load_dags(dag_ids: tuple[str, ...] = DAILY) -> list[Any]:
    """The DAGs, parsed from the DAGs folder (import errors raise)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return [bag.dags[dag_id] for dag_id in dag_ids]


def check_processable(dates: list[date]) -> None:
    """Raise DateOutOfRange for a logical date the DAG would silently leave empty."""
    early = [d for d in dates if d < EARLIEST_DATE]
    if early:
        raise DateOutOfRange(f"{early[0]} is before {EARLIEST_DATE}, the earliest date campaignflow processes")


def run_dates(
    dates: list[date], dag_ids: tuple[str, ...] = DAILY, on_done: Callable[[date, str], None] | None = None
) -> list[tuple[date, str]]:
    """Run the DAGs once per logical date, dates in order and DAGs in order within a date, stopping at
    the first failure; each date's state (``success``, or the first failed DAG's ``dag_id: state``)."""
    check_processable(dates)
    configure_airflow_env()
    with run_lock():
        migrate_db()
        dags = load_dags(dag_ids)
        states = []
        for day in dates:
            state = _run_date(dags, day)
            states.append((day, state))
            if on_done:
                on_done(day, state)
            if state != "success":
                break
    return states


def _run_date(dags: list[Any], day: date) -> str:
    logical = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for dag in dags:
        run = dag.test(logical_date=logical)
        state = str(getattr(run.state, "value", run.state))
        log.info("%s %s: %s", dag.dag_id, day, state)
        if state != "success":
            return f"{dag.dag_id}: {state}"
    return "success"
