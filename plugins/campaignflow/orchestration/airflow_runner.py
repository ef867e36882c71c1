"""Drive the daily DAG through Airflow (``dag.test``) with a project-local metadata DB.

This is what ``campaignflow run`` and ``make demo`` use: the real DAG, real task instances and
XComs recorded in Airflow's DB (SQLite under ``$CAMPAIGNFLOW_HOME/airflow`` unless
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

from campaignflow.errors import DateOutOfRange
from campaignflow.settings import EARLIEST_DATE, ENV_PREFIX, default_home, project_root

log = logging.getLogger(__name__)

DAG_ID = "campaign_daily"
LOCK_NAME = "campaignflow-run.lock"


def configure_airflow_env(env: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Default Airflow settings for a project-local install; explicit settings win."""
    home = Path(env.get(f"{ENV_PREFIX}HOME", str(default_home()))).resolve()
    env.setdefault("AIRFLOW_HOME", str(home / "airflow"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(project_root() / "dags"))
    env.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(project_root() / "plugins"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True")
    env.setdefault("GX_ANALYTICS_ENABLED", "False")
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
    """Create or upgrade the Airflow metadata DB (idempotent)."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, text=True)


def load_dag(dag_id: str = DAG_ID):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags[dag_id]


def check_processable(dates: list[date]) -> None:
    """Raise DateOutOfRange for a logical date the DAG would silently leave empty."""
    early = [d for d in dates if d < EARLIEST_DATE]
    if early:
        raise DateOutOfRange(f"{early[0]} is before {EARLIEST_DATE}, the earliest date campaignflow processes")


def run_dates(
    dates: list[date], dag_id: str = DAG_ID, on_done: Callable[[date, str], None] | None = None
) -> list[tuple[date, str]]:
    """Run the DAG once per logical date, in order, stopping at the first failure; each run's state."""
    check_processable(dates)
    configure_airflow_env()
    with run_lock():
        migrate_db()
        dag = load_dag(dag_id)
        states = []
        for day in dates:
            logical = datetime(day.year, day.month, day.day, tzinfo=UTC)
            run = dag.test(logical_date=logical)
            state = str(getattr(run.state, "value", run.state))
            log.info("%s %s: %s", dag_id, day, state)
            states.append((day, state))
            if on_done:
                on_done(day, state)
            if state != "success":
                break
    return states
