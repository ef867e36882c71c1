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
