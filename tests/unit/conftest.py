"""The unit tier: no JVM, no Airflow database, no S3 server. A test here that reaches for one fails
and names the tier it belongs in (the folder is the classification)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def _refuse(what: str, tier: str) -> object:
    def refuse(*args: object, **kwargs: object) -> object:
        pytest.fail(f"the unit tier starts no {what}: move this test to tests/{tier}/", pytrace=False)

    return refuse


@pytest.fixture(scope="package", autouse=True)
def no_heavy_parts() -> Iterator[None]:
    """Package-wide, so that module fixtures are held to the tier too."""
    import campaignflow.io.spark as spark
    from campaignflow.orchestration import airflow_runner

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spark, "get_spark", _refuse("JVM (Spark)", "data"))
        patch.setattr(airflow_runner, "run_dates", _refuse("Airflow run", "e2e"))
        patch.setattr(airflow_runner, "migrate_db", _refuse("Airflow database", "e2e"))
        yield


@pytest.fixture
def spark() -> None:
    pytest.fail("the unit tier starts no JVM (Spark): move this test to tests/data/", pytrace=False)


@pytest.fixture
def s3_endpoint() -> None:
    pytest.fail("the unit tier starts no S3 server: move this test to tests/integration/", pytrace=False)
