"""The failure webhook: the summary carries what on-call needs and no PII, and it really is POSTed."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaignflow.orchestration.notify import failure_summary, post_failure, scrub, webhook_target


def _context(error: Exception) -> dict[str, Any]:
    ti = SimpleNamespace(
        dag_id="campaign_daily", task_id="build_audiences", run_id="scheduled__2024-04-07", try_number=2
    )
    return {"ti": ti, "ds": "2024-04-07", "run_id": ti.run_id, "exception": error}


def test_summary_names_the_task_and_masks_contacts() -> None:
    error = ValueError("bad row for jane.doe+vip@example.co.uk / +44 20 7946 0958 in orders.csv\nsecond line")
    body = failure_summary(_context(error))
    assert body["dag_id"] == "campaign_daily" and body["task_id"] == "build_audiences"
    assert body["ds"] == "2024-04-07" and body["try_number"] == 2 and body["error_type"] == "ValueError"
    assert "example.co.uk" not in json.dumps(body) and "7946" not in json.dumps(body)
    assert body["error"] == "bad row for <email> / <phone> in orders.csv"


@given(st.emails())
def test_scrub_removes_any_email(address: str) -> None:
    assert address not in scrub(f"customer {address} failed")


def test_webhook_target_from_connection() -> None:
    conn = SimpleNamespace(
        host="hooks.example.com/services/x", schema="https", port=None, password="s3cret", extra_dejson={}
    )
    url, headers = webhook_target(conn)
    assert url == "https://hooks.example.com/services/x" and headers["Authorization"] == "Bearer s3cret"
    conn = SimpleNamespace(host=None, schema=None, port=None, password=None, extra_dejson={"url": "http://h:1/x"})
    assert webhook_target(conn) == ("http://h:1/x", {"Content-Type": "application/json"})


def test_post_failure_reaches_a_real_http_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append((json.loads(self.rfile.read(length)), self.headers.get("Authorization")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        extra = json.dumps({"url": f"http://127.0.0.1:{server.server_port}/hook"})
        monkeypatch.setenv(
            "AIRFLOW_CONN_CAMPAIGNFLOW_WEBHOOK", json.dumps({"conn_type": "http", "password": "tok", "extra": extra})
        )
        post_failure(_context(RuntimeError("spark died")))
    finally:
        server.shutdown()
    assert len(received) == 1
    body, auth = received[0]
    assert body["task_id"] == "build_audiences" and body["error"] == "spark died" and auth == "Bearer tok"


def test_no_connection_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.request

    sent: list[object] = []
    monkeypatch.delenv("AIRFLOW_CONN_CAMPAIGNFLOW_WEBHOOK", raising=False)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: sent.append(a))
    post_failure(_context(RuntimeError("x")))
    assert sent == []
