"""Which Spark a job runs on, and a long-lived local Spark Connect server that tasks attach to.

``CAMPAIGNFLOW_SPARK`` chooses the engine (an Airflow connection ``campaignflow_spark`` can set it
too, see :func:`engine_from_connection`):

* ``local`` (default): in-process ``local[2]``; right for the CLI, tests and ``dag.test`` where
  every task shares one Python process.
* ``connect-local``: one Spark Connect server on this machine, started on demand by the first task
  that needs it and shared by every later task (a task attaches in about a second instead of paying
  a cold JVM start). ``campaignflow spark start|stop|status`` manages it by hand.
* ``sc://host:port``: a Spark Connect endpoint (a deployment's service or a cluster).
* ``spark://…``, ``yarn``, ``k8s://…``, ``local[N]``: a classic master URL.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "CAMPAIGNFLOW_SPARK"
CONNECT_PORT_ENV = "CAMPAIGNFLOW_SPARK_CONNECT_PORT"
DEFAULT_CONNECT_PORT = 15002
CONNECTION_ID = "campaignflow_spark"
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


@dataclass(frozen=True)
class Engine:
    """``remote`` is a Spark Connect URL, ``master`` a classic master URL; exactly one is set."""

    remote: str | None = None
    master: str | None = None

    def describe(self) -> str:
        return f"Spark Connect {self.remote}" if self.remote else f"Spark master {self.master}"


def configured_engine(env: dict[str, str] | None = None) -> Engine:
    """The engine the environment asks for; ``connect-local`` starts the local server if needed."""
    env = dict(os.environ) if env is None else env
    choice = env.get(ENV, "local").strip()
    if choice in ("", "local"):
        return Engine(master=env.get("CAMPAIGNFLOW_SPARK_MASTER", "local[2]"))
    if choice == "connect-local":
        return Engine(
            remote=ensure_local_server(server_home(env), int(env.get(CONNECT_PORT_ENV, DEFAULT_CONNECT_PORT)))
        )
    if choice.startswith("sc://"):
        return Engine(remote=choice)
    return Engine(master=choice)


def engine_from_connection(conn_type: str | None, host: str | None, port: int | None) -> str:
    """The ``CAMPAIGNFLOW_SPARK`` value an Airflow connection stands for.

    ``spark_connect`` (or ``sc``) → ``sc://host:port``; ``spark`` → the master URL in ``host``
    (``spark://h:7077``, ``yarn``, ``local[4]``) with ``port`` appended when given.
    """
    kind = (conn_type or "").lower().replace("-", "_")
    host = (host or "").strip()
    if kind in ("spark_connect", "sc"):
        return f"sc://{host.removeprefix('sc://') or '127.0.0.1'}:{port or DEFAULT_CONNECT_PORT}"
    if kind == "spark":
        if host.startswith("spark://") and port:
            return f"{host}:{port}"
        return host or "local"
    raise ValueError(f"connection {CONNECTION_ID!r} has type {conn_type!r}; use 'spark_connect' or 'spark'")


def server_home(env: dict[str, str]) -> Path:
    from campaignflow.settings import default_home

    return Path(env.get("CAMPAIGNFLOW_HOME", str(default_home()))) / "spark-connect"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def ensure_local_server(home: Path, port: int = DEFAULT_CONNECT_PORT, timeout_s: float = 120) -> str:
    """Attach to the local Spark Connect server on ``port``, starting it first if none listens.

    One server per port on this machine; a lock file makes concurrent tasks start it once.
    """
    url = f"sc://127.0.0.1:{port}"
    if port_open(port):
        return url
    import fcntl

    home.mkdir(parents=True, exist_ok=True)
    with open(home / f"start-{port}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not port_open(port):
            start_local_server(home, port, timeout_s)
    return url


def server_command(port: int, host: str = "127.0.0.1") -> tuple[list[str], dict[str, str]]:
    """The spark-submit line (and environment) of a Spark Connect server listening on ``host:port``.

    The master is ``CAMPAIGNFLOW_SPARK_CONNECT_MASTER`` (default ``local[*]``); with
    ``CAMPAIGNFLOW_S3_ENDPOINT_URL`` set, the server's s3a filesystem talks to that endpoint
    (credentials from the standard AWS variables or the instance role).
    """
    from pyspark.find_spark_home import _find_spark_home

    from campaignflow.io.spark import SESSION_CONF, check_java

    check_java()
    spark_home = _find_spark_home()
    confs = {
        **SESSION_CONF,
        "spark.connect.grpc.binding.address": host,
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.memory": os.environ.get("CAMPAIGNFLOW_SPARK_DRIVER_MEMORY", "2g"),
    }
    if endpoint := os.environ.get("CAMPAIGNFLOW_S3_ENDPOINT_URL"):
        confs |= {"spark.hadoop.fs.s3a.endpoint": endpoint, "spark.hadoop.fs.s3a.path.style.access": "true"}
    cmd = [os.path.join(spark_home, "bin", "spark-submit"), "--class", SERVER_CLASS, "--name", "campaignflow-connect"]
    cmd += ["--master", os.environ.get("CAMPAIGNFLOW_SPARK_CONNECT_MASTER", "local[*]")]
    for key, value in confs.items():
        cmd += ["--conf", f"{key}={value}"]
    cmd.append("spark-internal")
    env = {**os.environ, "SPARK_HOME": spark_home}
    env.pop("SPARK_LOCAL_IP", None)
    if host in ("127.0.0.1", "localhost"):
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return cmd, env


def serve(port: int, host: str) -> None:
    """Run a Spark Connect server in the foreground (a deployment's service); never returns."""
    cmd, env = server_command(port, host)
    log.info("Spark Connect server on %s:%d (foreground)", host, port)
    os.execvpe(cmd[0], cmd, env)


def start_local_server(home: Path, port: int, timeout_s: float = 120) -> int:
    """Start a detached Spark Connect server (local master) and wait until it listens; its pid."""
    cmd, env = server_command(port)
    home.mkdir(parents=True, exist_ok=True)
    logfile = home / f"server-{port}.log"
    with open(logfile, "ab") as out:  # the server keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    (home / f"server-{port}.pid").write_text(str(proc.pid))
    log.info("starting Spark Connect server on 127.0.0.1:%d (pid %d, log %s)", port, proc.pid, logfile)
    deadline = time.monotonic() + timeout_s
    while not port_open(port):
        if proc.poll() is not None:
            raise RuntimeError(f"Spark Connect server exited with {proc.returncode}; see {logfile}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"Spark Connect server did not listen on {port} within {timeout_s:.0f} s; see {logfile}")
        time.sleep(0.5)
    log.info("Spark Connect server ready on sc://127.0.0.1:%d", port)
    return proc.pid


def stop_local_server(home: Path, port: int = DEFAULT_CONNECT_PORT, timeout_s: float = 30) -> bool:
    """Stop the server this machine started on ``port``; False if none was running."""
    pidfile = home / f"server-{port}.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pidfile.unlink()
        return False
    deadline = time.monotonic() + timeout_s
    while port_open(port) and time.monotonic() < deadline:
        time.sleep(0.3)
    if port_open(port):
        os.killpg(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
    return True
