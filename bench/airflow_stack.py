"""A real Airflow deployment for the tests and the benchmarks: scheduler, DAG processor, triggerer
and API server on a fresh PostgreSQL database, with the LocalExecutor or the CeleryExecutor (Redis
broker, a Celery worker process).

Nothing is mocked: the suite's DAG files are parsed by the DAG processor, runs are created by the
scheduler (backfills through Airflow's own CLI), tasks run in separate worker processes that talk to
the API server's execution API, and the test reads states through the public REST API with a JWT
from ``/auth/token``. The database (and the Redis DB) are created for the stack and dropped after.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaignflow.orchestration.airflow_runner import SCHEDULER_SETTINGS

ROOT = Path(__file__).resolve().parents[1]

PG = "host=127.0.0.1 port=5432 user=postgres"
REDIS_URL = "redis://127.0.0.1:6379"
USER, PASSWORD = "admin", "campaignflow-test-" + uuid.uuid4().hex[:8]
S3_SECRET = "cf-s3-secret-" + uuid.uuid4().hex  # moto takes any key; a distinctive one can be looked for in logs
TERMINAL = {"success", "failed"}
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AirflowStack:
    home: Path
    env: dict[str, str]
    port: int
    executor: str
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``airflow <args>`` against this stack; raise with its output when it fails."""
        out = subprocess.run(
            [str(BIN / "airflow"), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if out.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        return out

    def token(self) -> str:
        if self._token is None:
            body = json.dumps({"username": USER, "password": PASSWORD}).encode()
            req = urllib.request.Request(f"{self.url}/auth/token", body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as reply:
                self._token = json.loads(reply.read())["access_token"]
        return self._token

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the public REST API (``/api/v2/...``) as the test user."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"}
        req = urllib.request.Request(f"{self.url}/api/v2/{path}", data, headers, method=method)
        with urllib.request.urlopen(req, timeout=60) as reply:
            raw = reply.read()
        return json.loads(raw) if raw else None

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        """GET any path of the API server; (status, body)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            with urllib.request.urlopen(urllib.request.Request(f"{self.url}{path}", headers=headers), timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()
        except (urllib.error.URLError, ConnectionError):
            return 0, b""  # not listening yet

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"dags/{dag_id}/dagRuns?limit=100&order_by=logical_date")["dag_runs"])

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Until the DAG processor has parsed ``dag_id`` into the DB."""
        path = f"/api/v2/dags/{dag_id}"
        self.wait_until(lambda: self.get(path, self.token())[0] == 200, f"{dag_id} parsed", timeout)

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"dags/{dag_id}?update_mask=is_paused", {"is_paused": False})

    def start_dags(self, dag_ids: tuple[str, ...]) -> None:
        """Wait until each DAG is parsed, unpause it and end the run the scheduler makes for today."""
        for dag_id in dag_ids:
            self.wait_for_dag(dag_id)
            self.unpause(dag_id)
            self.stop_scheduled_runs(dag_id)

    def stop_scheduled_runs(self, dag_id: str, settle_s: float = 15) -> None:
        """End the run the scheduler makes for today on unpausing (catchup=False): the test's runs are
        backfills of history and should not share two cores with today's run. The update is tried
        again when PostgreSQL picked it as a deadlock victim (a 500) against the scheduler's own
        update of the run, which had just finished a task."""
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline:
            for run in self.runs(dag_id):
                if run["run_type"] == "scheduled":
                    try:
                        self.api("PATCH", f"dags/{dag_id}/dagRuns/{run['dag_run_id']}", {"state": "failed"})
                        return
                    except urllib.error.HTTPError as err:
                        if err.code != 500 or time.monotonic() > deadline:
                            raise
            time.sleep(1)

    def wait_for_runs(self, dag_id: str, count: int, run_type: str = "backfill", timeout: float = 900) -> list[dict]:
        """Until ``count`` runs of ``run_type`` exist and all are finished; their final records."""

        def of_type() -> list[dict]:
            return [r for r in self.runs(dag_id) if r["run_type"] == run_type]

        def finished(runs: list[dict]) -> bool:
            return len(runs) >= count and all(r["state"] in TERMINAL for r in runs)

        self.wait_until(lambda: finished(of_type()), f"{dag_id}: {count} {run_type} runs finished", timeout, poll_s=3)
        return of_type()  # finished runs do not change

    def backfill_cli(self, dag_id: str, first: object, last: object, max_active_runs: int = 2) -> None:
        """``airflow backfill create`` as the README's runbook runs it (re-run failed dates, keep completed)."""
        self.cli(
            "backfill",
            "create",
            "--dag-id",
            dag_id,
            "--from-date",
            str(first),
            "--to-date",
            str(last),
            "--max-active-runs",
            str(max_active_runs),
            "--reprocess-behavior",
            "failed",
        )

    def create_backfill(self, dag_id: str, first: str, last: str, reprocess: str, max_active_runs: int = 2) -> int:
        """``POST /api/v2/backfills`` (what the UI's backfill form sends); the backfill's id."""
        body = {
            "dag_id": dag_id,
            "from_date": f"{first}T00:00:00Z",
            "to_date": f"{last}T00:00:00Z",
            "reprocess_behavior": reprocess,
            "max_active_runs": max_active_runs,
        }
        return int(self.api("POST", "backfills", body)["id"])

    def wait_until(self, check: Callable[[], bool], what: str, timeout: float = 600, poll_s: float = 2) -> None:
        """Until ``check()`` holds; fails at once when an Airflow component died, and after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            if check():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {timeout}s\n{self.logs()}")
            time.sleep(poll_s)

    def wait_for_backfill(self, backfill_id: int, timeout: float = 900) -> dict[str, Any]:
        """Until the scheduler marks the backfill completed (all its runs finished); its record."""
        path = f"backfills/{backfill_id}"
        self.wait_until(lambda: bool(self.api("GET", path)["completed_at"]), f"{path} completed", timeout, poll_s=3)
        return dict(self.api("GET", path))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"])

    def failures(self, dag_id: str, run_id: str) -> str:
        """The failed tasks of a run with the tail of each one's log file."""
        out = []
        for ti in self.task_instances(dag_id, run_id):
            if ti["state"] not in ("success", "skipped"):
                logs = sorted((self.home / "logs").glob(f"dag_id={dag_id}/run_id={run_id}/task_id={ti['task_id']}/*"))
                tail = logs[-1].read_text(errors="replace")[-3000:] if logs else "(no log file)"
                out.append(f"--- {ti['task_id']}: {ti['state']}\n{tail}")
        return "\n".join(out)

    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"Airflow components exited: {dead}\n{self.logs()}")

    def logs(self, chars: int = 2500) -> str:
        parts = []
        for name in self.procs:
            path = self.home / f"{name}.out"
            if path.exists():
                parts.append(f"=== {name} ===\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)


def stack_env(home: Path, db_url: str, port: int, executor: str, extra: dict[str, str]) -> dict[str, str]:
    # the stack's own settings only: nothing from this process's Airflow or campaignflow environment
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "CAMPAIGNFLOW_"))}
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            **SCHEDULER_SETTINGS,  # as every deployment
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC": "5",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "GX_ANALYTICS_ENABLED": "False",
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            **extra,
        }
    )
    return env


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server; dropped afterwards."""
    import psycopg

    name = f"cf_airflow_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(f"{PG} dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_database() -> Iterator[str]:
    """A Redis DB number no other stack of this session uses, flushed afterwards."""
    import redis

    number = 8 + os.getpid() % 8
    client = redis.Redis.from_url(f"{REDIS_URL}/{number}")
    client.flushdb()
    try:
        yield f"{REDIS_URL}/{number}"
    finally:
        client.flushdb()


@contextmanager
def airflow_stack(
    home: Path, executor: str = "LocalExecutor", extra_env: dict[str, str] | None = None
) -> Iterator[AirflowStack]:
    """Start the components, yield the stack once the API answers, stop everything afterwards."""
    home.mkdir(parents=True, exist_ok=True)
    with postgres_database() as db_url, contextlib_redis(executor) as broker:
        port = free_port()
        extra = dict(extra_env or {})
        if broker:
            extra["AIRFLOW__CELERY__BROKER_URL"] = broker
            extra["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + db_url.replace("+psycopg2", "")
            extra["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = "2"
        stack = AirflowStack(home, stack_env(home, db_url, port, executor, extra), port, executor)
        subprocess.run(
            [str(BIN / "campaignflow"), "airflow-init"], env=stack.env, check=True, capture_output=True, timeout=600
        )
        commands = {
            "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(port)],
            "scheduler": ["scheduler"],
            "dag-processor": ["dag-processor"],
            "triggerer": ["triggerer"],  # every wait for a partition runs here
        }
        if executor == "CeleryExecutor":
            commands["celery-worker"] = ["celery", "worker", "--concurrency", "2", "--skip-serve-logs"]
        try:
            for name, args in commands.items():
                out = open(home / f"{name}.out", "wb")
                stack.procs[name] = subprocess.Popen(
                    [str(BIN / "airflow"), *args],
                    env=stack.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            _wait_http(stack, 180)
            yield stack
        finally:
            for proc in stack.procs.values():
                _stop(proc)


@contextmanager
def contextlib_redis(executor: str) -> Iterator[str | None]:
    if executor != "CeleryExecutor":
        yield None
        return
    with redis_database() as url:
        yield url


def _wait_http(stack: AirflowStack, timeout: float) -> None:
    stack.wait_until(lambda: stack.get("/api/v2/monitor/health")[0] == 200, "the API server answering", timeout)


def _stop(proc: subprocess.Popen[bytes], grace_s: float = 20) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def task_spark_env(home: Path, poll_seconds: float | None = None) -> dict[str, str]:
    """What the stack's tasks share: a home, one local Spark Connect server on a free port, and the
    waits' poll (None: the DAGs' default)."""
    env = {
        "CAMPAIGNFLOW_HOME": str(home),
        "CAMPAIGNFLOW_SPARK": "connect-local",
        "CAMPAIGNFLOW_SPARK_CONNECT_PORT": str(free_port()),
    }
    if poll_seconds is not None:
        env["CAMPAIGNFLOW_POKE_SECONDS"] = str(poll_seconds)
    return env


def spark_server(action: str, env: dict[str, str]) -> None:
    """``start`` or ``stop`` the Connect server the tasks with ``env`` attach to: the first task
    starts it otherwise, and it outlives the stack."""
    subprocess.run(
        [str(BIN / "campaignflow"), "spark", action], env={**os.environ, **env}, capture_output=True, timeout=300
    )
