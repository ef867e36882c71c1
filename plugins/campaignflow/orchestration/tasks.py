"""The one wrapper every DAG task body goes through: run a job, map its errors for Airflow.

Permanent errors (bad batch, missing history or input, bad campaign spec) fail the task at once,
without retries, with the cause and remedy as the message; transient errors and bugs propagate, so
Airflow retries them with backoff. Imported inside task bodies only (nothing heavy at parse time).
"""

from __future__ import annotations

import importlib
from typing import Any

from campaignflow.errors import PermanentError


def run_job(job: str, ds: str, *args: Any) -> Any:
    """``jobs.<job>.run(runtime, ds, *args)`` with Airflow's failure semantics."""
    from airflow.sdk.exceptions import AirflowFailException

    from campaignflow.runtime import Runtime

    use_spark_connection()
    module = importlib.import_module(f"jobs.{job}")
    try:
        return module.run(Runtime.from_settings(), ds, *args)
    except PermanentError as err:
        raise AirflowFailException(err.explain()) from err


def use_spark_connection() -> None:
    """Take the Spark engine from the Airflow connection ``campaignflow_spark`` when the environment
    does not set ``CAMPAIGNFLOW_SPARK`` (see :mod:`campaignflow.io.spark_engine`)."""
    import os

    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    from campaignflow.io.spark_engine import CONNECTION_ID, ENV, engine_from_connection

    if os.environ.get(ENV):
        return
    try:
        conn = BaseHook.get_connection(CONNECTION_ID)
    except AirflowNotFoundException:
        return
    os.environ[ENV] = engine_from_connection(conn.conn_type, conn.host, conn.port)


def check_campaigns() -> list[str]:
    """Every campaign spec, validated against the rule columns; the active campaigns' names."""
    from airflow.sdk.exceptions import AirflowFailException

    from campaignflow.campaigns.spec import load_campaigns
    from campaignflow.settings import Settings

    try:
        return [spec.name for spec in load_campaigns(Settings.from_env().campaigns_dir)]
    except PermanentError as err:
        raise AirflowFailException(err.explain()) from err
