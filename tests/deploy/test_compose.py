"""The production-like compose stack is well-formed and wires every Airflow component the same way."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from campaignflow.orchestration.airflow_runner import SCHEDULER_SETTINGS
from tests.conftest import ROOT

COMPOSE = ROOT / "docker" / "docker-compose.yaml"
AIRFLOW_SERVICES = ("airflow-init", "api-server", "scheduler", "dag-processor", "triggerer", "airflow-worker")


def _compose_cli() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_compose_config_validates() -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    out = subprocess.run([*cli, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_airflow_services_share_image_env_and_dependencies() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert {"postgres", "redis", "minio", "minio-init", *AIRFLOW_SERVICES} <= set(services)
    for name in AIRFLOW_SERVICES:
        svc = services[name]
        assert svc["image"] == "campaignflow:latest"
        env = svc["environment"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
        assert env["CAMPAIGNFLOW_LAKE"].startswith("s3://")
        # the object store comes from the Airflow connection, as in a deployment: no endpoint or key in env
        assert not {"CAMPAIGNFLOW_S3_ENDPOINT_URL", "AWS_SECRET_ACCESS_KEY"} & set(env)
        aws = json.loads(env["AIRFLOW_CONN_CAMPAIGNFLOW_AWS"])
        assert aws["conn_type"] == "aws" and aws["extra"]["endpoint_url"] == "http://minio:9000"
        assert "postgres" in svc["depends_on"]
        # as the test stacks and local installs
        assert {k: env.get(k) for k in SCHEDULER_SETTINGS} == SCHEDULER_SETTINGS
    assert services["airflow-worker"]["command"] == ["celery", "worker"]
    assert services["airflow-init"]["entrypoint"] == ["campaignflow"] and services["airflow-init"]["command"] == [
        "airflow-init"
    ]
    assert services["api-server"]["ports"] == ["8080:8080"]
    # secrets come from the environment with development defaults, never hard-coded alone
    text = COMPOSE.read_text()
    assert "${POSTGRES_PASSWORD:-" in text and "${MINIO_ROOT_PASSWORD:-" in text


def test_tasks_attach_to_the_compose_spark_connect_service() -> None:
    """The Airflow services reach the spark-connect service through the campaignflow_spark connection."""
    from campaignflow.io.spark_engine import CONNECTION_ID, engine_from_connection

    services = yaml.safe_load(COMPOSE.read_text())["services"]
    server = services["spark-connect"]
    assert server["image"] == "campaignflow:latest"
    assert server["entrypoint"] == ["campaignflow"]
    assert server["command"][:2] == ["spark", "serve"] and "0.0.0.0" in server["command"]
    port = int(server["environment"]["CAMPAIGNFLOW_SPARK_CONNECT_PORT"])
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert "CAMPAIGNFLOW_SPARK" not in env  # the connection decides, as in a deployment
        conn = json.loads(env[f"AIRFLOW_CONN_{CONNECTION_ID.upper()}"])
        assert engine_from_connection(conn["conn_type"], conn["host"], conn["port"]) == f"sc://spark-connect:{port}"
        if name != "airflow-init":
            assert services[name]["depends_on"]["spark-connect"] == {"condition": "service_healthy"}
