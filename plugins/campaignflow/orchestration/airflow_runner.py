"""Drive the daily DAG through Airflow (``dag.test``) with a project-local metadata DB.

This is what ``campaignflow run`` and ``make demo`` use: the real DAG, real task instances and
XComs recorded in Airflow's DB (SQLite under ``$CAMPAIGNFLOW_HOME/airflow`` unless
``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` says otherwise), so ``make airflow`` shows the runs.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from campaignflow.settings import ENV_PREFIX, default_home, project_root

log = logging.getLogger(__name__)

DAG_ID = "campaign_daily"


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


def run_dates(dates: list[date], dag_id: str = DAG_ID) -> list[tuple[date, str]]:
    """Run the DAG once per logical date, in order; returns each run's final state."""
    configure_airflow_env()
    migrate_db()
    dag = load_dag(dag_id)
    states = []
    for day in dates:
        logical = datetime(day.year, day.month, day.day, tzinfo=UTC)
        run = dag.test(logical_date=logical)
        state = str(getattr(run.state, "value", run.state))
        log.info("%s %s: %s", dag_id, day, state)
        states.append((day, state))
        if state != "success":
            break
    return states
