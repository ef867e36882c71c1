"""A failed task posts a short summary to a webhook (Slack, Teams, any JSON endpoint).

The webhook is the Airflow connection ``campaignflow_webhook`` (an ``http`` connection whose host,
or ``extra.url``, is the URL; its password, when set, goes as a bearer token). Without that
connection nothing is sent. The summary names the DAG, run, task, date, try and the error's kind
and first line, with anything that looks like an email address or phone number masked: no PII
leaves through a notification. Sending never fails the callback: a webhook that is down is logged.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from typing import Any

log = logging.getLogger(__name__)

CONNECTION_ID = "campaignflow_webhook"
MAX_ERROR_CHARS = 300
_EMAIL = re.compile(r"\S+@\S+")  # anything shaped like an address, valid or not
_PHONE = re.compile(r"\+?\d[\d ()./-]{6,}\d")


def scrub(text: str) -> str:
    """``text`` with email addresses and phone-like digit runs replaced."""
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))


def failure_summary(context: dict[str, Any]) -> dict[str, Any]:
    """The JSON body for a failed task instance (pure: built from the callback's context)."""
    ti = context.get("ti") or context.get("task_instance")
    error = context.get("exception")
    first_line = str(error).strip().splitlines()[0] if error and str(error).strip() else ""
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None)
    task_id = getattr(ti, "task_id", None)
    run_id = context.get("run_id") or getattr(ti, "run_id", None)
    text = f"campaignflow: {dag_id}.{task_id} failed for {context.get('ds')} (try {getattr(ti, 'try_number', '?')})"
    return {
        "text": text,
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "ds": context.get("ds"),
        "try_number": getattr(ti, "try_number", None),
        "error_type": type(error).__name__ if error else None,
        "error": scrub(first_line)[:MAX_ERROR_CHARS],
    }


def webhook_target(conn: Any) -> tuple[str, dict[str, str]]:
    """URL and headers of a webhook connection."""
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    url = extra.get("url") or conn.host or ""
    if url and "://" not in url:
        scheme = conn.schema or "https"
        url = f"{scheme}://{url}" + (f":{conn.port}" if conn.port else "")
    headers = {"Content-Type": "application/json"}
    if conn.password:
        headers["Authorization"] = f"Bearer {conn.password}"
    return url, headers


def post_failure(context: dict[str, Any]) -> None:
    """``on_failure_callback``: send :func:`failure_summary` to the webhook connection, if one exists."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(CONNECTION_ID)
    except AirflowNotFoundException:
        return
    url, headers = webhook_target(conn)
    body = json.dumps(failure_summary(context)).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers, method="POST"), timeout=10) as reply:
            log.info("failure posted to %s: HTTP %s", CONNECTION_ID, reply.status)
    except OSError as err:
        log.warning("could not post the failure to %s: %s", CONNECTION_ID, err)
