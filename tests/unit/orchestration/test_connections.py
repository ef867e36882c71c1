"""Storage and engine endpoints come from Airflow connections when the environment does not set them."""

from __future__ import annotations

import json
import os

import pytest

from campaignflow.orchestration.tasks import aws_environment, use_aws_connection


def test_aws_environment_from_an_aws_connection() -> None:
    extra = {"endpoint_url": "http://minio:9000", "region_name": "eu-west-1"}
    assert aws_environment("key", "secret", extra) == {
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "CAMPAIGNFLOW_S3_ENDPOINT_URL": "http://minio:9000",
    }
    assert aws_environment(None, None, {}) == {}  # an instance role: nothing to set


def test_connection_fills_only_what_the_environment_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "aws", "login": "AKIA1", "password": "pw", "extra": {"endpoint_url": "http://s3.local:9"}}
    monkeypatch.setenv("AIRFLOW_CONN_CAMPAIGNFLOW_AWS", json.dumps(conn))
    for key in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "CAMPAIGNFLOW_S3_ENDPOINT_URL"):
        # set, then delete: monkeypatch records the key's state, so what the code sets is undone after
        monkeypatch.setenv(key, "placeholder")
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    use_aws_connection()
    assert os.environ["AWS_ACCESS_KEY_ID"] == "from-env"
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == "pw"
    assert os.environ["CAMPAIGNFLOW_S3_ENDPOINT_URL"] == "http://s3.local:9"
