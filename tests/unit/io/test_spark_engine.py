"""Which Spark a job attaches to: environment and Airflow connection to engine."""

from __future__ import annotations

import pytest

from campaignflow.io.spark_engine import ENV, Engine, configured_engine, engine_from_connection


@pytest.mark.parametrize(
    ("env", "engine"),
    [
        ({}, Engine(master="local[2]")),
        ({ENV: "local", "CAMPAIGNFLOW_SPARK_MASTER": "local[4]"}, Engine(master="local[4]")),
        ({ENV: "sc://spark-connect:15002"}, Engine(remote="sc://spark-connect:15002")),
        ({ENV: "spark://master:7077"}, Engine(master="spark://master:7077")),
        ({ENV: "yarn"}, Engine(master="yarn")),
    ],
)
def test_environment_chooses_the_engine(env: dict[str, str], engine: Engine) -> None:
    assert configured_engine(env) == engine


@pytest.mark.parametrize(
    ("conn", "value"),
    [
        (("spark_connect", "10.0.0.5", 15003), "sc://10.0.0.5:15003"),
        (("spark_connect", "sc://10.0.0.5", None), "sc://10.0.0.5:15002"),
        (("spark", "spark://master", 7077), "spark://master:7077"),
        (("spark", "local[4]", None), "local[4]"),
    ],
)
def test_airflow_connection_to_engine(conn: tuple[str, str, int | None], value: str) -> None:
    assert engine_from_connection(*conn) == value


def test_unknown_connection_type_is_refused() -> None:
    with pytest.raises(ValueError, match="use 'spark_connect' or 'spark'"):
        engine_from_connection("postgres", "db", 5432)


def test_tasks_take_the_engine_from_the_airflow_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from campaignflow.orchestration.tasks import use_spark_connection

    monkeypatch.setenv("AIRFLOW_CONN_CAMPAIGNFLOW_SPARK", "spark-connect://10.0.0.7:15010")
    monkeypatch.setenv(ENV, "")  # unset; restored when the test ends
    use_spark_connection()
    assert os.environ[ENV] == "sc://10.0.0.7:15010"
    monkeypatch.setenv(ENV, "local")  # the environment wins over the connection
    use_spark_connection()
    assert os.environ[ENV] == "local"


def test_server_command_binds_the_host_and_points_s3a_at_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    from campaignflow.io.spark import CODEGEN_CACHE_ENTRIES
    from campaignflow.io.spark_engine import SERVER_CLASS, server_command

    monkeypatch.setenv("CAMPAIGNFLOW_S3_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")  # as an in-process session leaves it
    cmd, env = server_command(15009, "0.0.0.0")
    confs = dict(c.split("=", 1) for c in cmd[cmd.index("--master") + 2 : -1] if c != "--conf")
    assert cmd[cmd.index("--class") + 1] == SERVER_CLASS
    assert confs["spark.connect.grpc.binding.address"] == "0.0.0.0"
    assert confs["spark.connect.grpc.binding.port"] == "15009"
    assert confs["spark.hadoop.fs.s3a.endpoint"] == "http://minio:9000"
    assert confs["spark.sql.codegen.cache.maxEntries"] == CODEGEN_CACHE_ENTRIES  # static: only at the server's start
    assert "SPARK_LOCAL_IP" not in env  # a service listens on every interface
    monkeypatch.delenv("CAMPAIGNFLOW_S3_ENDPOINT_URL")
    cmd, env = server_command(15009)
    assert not any("fs.s3a" in c for c in cmd)
    assert env["SPARK_LOCAL_IP"] == "127.0.0.1"
