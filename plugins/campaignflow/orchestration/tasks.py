"""The one wrapper every DAG task body goes through: run a job, map its errors for Airflow.

Permanent errors (bad batch, missing history or input, bad campaign spec) fail the task at once,
without retries, with the cause and remedy as the message; a step with nothing to do yet is skipped
with its reason; transient errors and bugs propagate, so Airflow retries them with backoff.
Imported inside task bodies only (nothing heavy at parse time).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from campaignflow.errors import PermanentError, StepSkipped

if TYPE_CHECKING:
    from campaignflow.runtime import Runtime

AWS_CONNECTION_ID = "campaignflow_aws"


def run_job(job: str, ds: str, *args: Any, outlet_events: Any = None, outlets: Iterable[Any] = (), **kw: Any) -> Any:
    """``jobs.<job>.run(runtime, ds, *args, **kw)`` with Airflow's failure semantics.

    With ``outlet_events``, each of ``outlets`` gets an asset event naming the committed partition.
    """
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from campaignflow.orchestration.assets import record_partition

    rt = connected_runtime()
    module = importlib.import_module(f"jobs.{job}")
    try:
        result = module.run(rt, ds, *args, **kw)
    except PermanentError as err:
        raise AirflowFailException(err.explain()) from err
    except StepSkipped as err:
        raise AirflowSkipException(err.explain()) from err
    if outlet_events is not None:
        record_partition(outlet_events, outlets, ds, result if isinstance(result, dict) else None)
    return result


def ahead_days(dag_run: Any) -> int:
    """How many following dates a task of ``dag_run`` may build ahead: ``CAMPAIGNFLOW_BACKFILL_AHEAD_DAYS``
    in a backfill (its later runs' inputs are often validated already), none in any other run."""
    from campaignflow.orchestration.policy import is_backfill
    from campaignflow.settings import Settings

    return Settings.from_env().backfill_ahead_days if is_backfill(getattr(dag_run, "run_type", None)) else 0


def connected_runtime() -> Runtime:
    """The :class:`~campaignflow.runtime.Runtime` as tasks see it: the environment, completed by the
    Airflow connections (sensors and the report app use it outside :func:`run_job`)."""
    from campaignflow.runtime import Runtime

    use_connections()
    return Runtime.from_settings()


def use_connections() -> None:
    """The engine and object-store settings from Airflow connections, where the environment has none."""
    use_spark_connection()
    use_aws_connection()


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


def use_aws_connection() -> None:
    """Take the object store's endpoint and credentials from the Airflow connection ``campaignflow_aws``
    (type ``aws``; ``extra.endpoint_url`` for an S3-compatible store) for what the environment does not
    set. Airflow masks the secret in task logs once the connection is read."""
    import os

    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(AWS_CONNECTION_ID)
    except AirflowNotFoundException:
        return
    for key, value in aws_environment(conn.login, conn.password, conn.extra_dejson).items():
        os.environ.setdefault(key, value)


def aws_environment(login: str | None, password: str | None, extra: dict[str, Any]) -> dict[str, str]:
    """The environment an ``aws`` connection stands for (pure; empty values left out)."""
    pairs = {
        "AWS_ACCESS_KEY_ID": login or extra.get("aws_access_key_id"),
        "AWS_SECRET_ACCESS_KEY": password or extra.get("aws_secret_access_key"),
        "AWS_SESSION_TOKEN": extra.get("aws_session_token"),
        "AWS_DEFAULT_REGION": extra.get("region_name"),
        "CAMPAIGNFLOW_S3_ENDPOINT_URL": extra.get("endpoint_url"),
    }
    return {k: str(v) for k, v in pairs.items() if v}


def check_campaigns() -> list[str]:
    """Every campaign spec, validated against the rule columns; the active campaigns' names."""
    from airflow.sdk.exceptions import AirflowFailException

    from campaignflow.campaigns.spec import load_campaigns
    from campaignflow.settings import Settings

    try:
        return [spec.name for spec in load_campaigns(Settings.from_env().campaigns_dir)]
    except PermanentError as err:
        raise AirflowFailException(err.explain()) from err
