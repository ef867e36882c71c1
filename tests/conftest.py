"""Shared fixtures. Airflow reads its config at import, so its environment is set here, first."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="campaignflow-tests-"))
os.environ["CAMPAIGNFLOW_HOME"] = str(_SESSION_HOME)
for key in (
    "CAMPAIGNFLOW_LAKE",
    "CAMPAIGNFLOW_LANDING",
    "CAMPAIGNFLOW_EXPORTS",
    "CAMPAIGNFLOW_S3_ENDPOINT_URL",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
):
    os.environ.pop(key, None)
os.environ["AIRFLOW_HOME"] = str(_SESSION_HOME / "airflow")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"

from campaignflow.orchestration.airflow_runner import configure_airflow_env  # noqa: E402

configure_airflow_env()

from campaignflow.io.lake import Lake  # noqa: E402
from campaignflow.io.storage import LocalStore  # noqa: E402
from campaignflow.runtime import Runtime  # noqa: E402
from campaignflow.synthetic.generate import ShopSpec, generate_shop  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The session's own Airflow home and lake go when the session ends."""
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(LocalStore(tmp_path / "lake"))


@pytest.fixture
def runtime_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """Settings pointing at a fresh lake under tmp_path (what tasks read from the environment)."""
    monkeypatch.setenv("CAMPAIGNFLOW_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("CAMPAIGNFLOW_CAMPAIGNS_DIR", str(ROOT / "campaigns"))
    yield Runtime.from_settings()


def make_shop(
    root: Path, customers: int = 300, days: int = 40, start: date = date(2024, 1, 1), seed: int = 3, **kw: object
) -> tuple[LocalStore, LocalStore]:
    landing, truth = LocalStore(root / "landing"), LocalStore(root / "truth")
    generate_shop(ShopSpec(customers=customers, days=days, start=start, seed=seed, **kw), landing, truth)  # type: ignore[arg-type]
    return landing, truth


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    from campaignflow.io.spark import get_spark

    return get_spark()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from tests.s3server import s3_server

    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> Iterator[str]:
    from tests.s3server import bucket

    with bucket(s3_endpoint) as name:
        yield name


@pytest.fixture(scope="session")
def daily_shop(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str):  # type: ignore[no-untyped-def]
    """The shared shop (tests/daily_shop.py) with its daily runs of D1 and D2 through ``dag.test``."""
    from campaignflow.orchestration.airflow_runner import run_dates
    from tests.daily_shop import D1, D2, environment, make_daily_shop
    from tests.s3server import bucket

    with bucket(s3_endpoint) as name:
        shop = make_daily_shop(tmp_path_factory.mktemp("daily"), name, s3_endpoint)
        with environment(shop.env):
            states = run_dates([D1, D2])
        yield shop, states


@pytest.fixture(scope="session")
def scheduler_stack(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str):  # type: ignore[no-untyped-def]
    """A real Airflow (LocalExecutor, PostgreSQL) on its own copy of the shared shop (history loaded)."""
    from tests.scheduler.stack import scheduler_with_shop

    with scheduler_with_shop(tmp_path_factory.mktemp("scheduler"), s3_endpoint, "LocalExecutor") as running:
        yield running


@pytest.fixture(scope="session")
def backfilled_stack(scheduler_stack):  # type: ignore[no-untyped-def]
    """The stack after backfilling the suite's daily DAGs over D1..D2 (README runbook order)."""
    from tests.scheduler.stack import backfill_suite

    stack, shop = scheduler_stack
    return stack, shop, backfill_suite(stack)


# the tiers, cheapest first: a test's folder is its tier, and the hook below marks it so (`-m unit`)
TIERS = {
    "unit": "pure Python: no JVM, no Airflow database, no server (make test-unit)",
    "data": "Spark and Great Expectations on generated data",
    "model": "models trained on a generated shop",
    "dags": "the DAG files and plugins as Airflow parses them",
    "deploy": "the deployment files",
    "integration": "S3 over HTTP, Spark Connect, publishing",
    "e2e": "the daily DAGs end to end through dag.test",
    "scheduler": "a real Airflow scheduler on PostgreSQL",
    "browser": "the Airflow UI in headless Chromium",
}
_LAST = ("tests/scheduler/test_celery.py", "tests/scheduler/test_backfill.py", "tests/browser/")


def pytest_configure(config: pytest.Config) -> None:
    for tier, meaning in TIERS.items():
        config.addinivalue_line("markers", f"{tier}: tier {meaning}")


def tier_of(item: pytest.Item) -> str:
    """The folder under tests/ that holds the test."""
    parts = item.path.relative_to(ROOT / "tests").parts
    if len(parts) < 2 or parts[0] not in TIERS:
        raise pytest.UsageError(f"{item.nodeid}: every test lives in a tier folder ({', '.join(TIERS)})")
    return parts[0]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test is marked with its tier and the tiers run cheapest first (a broken unit fails in
    seconds). The real-Airflow checks run last, Celery's own stack first, then the shared
    LocalExecutor stack and the browser on it: the stack lives until the session ends, so nothing
    else runs beside it."""
    order = list(TIERS)
    for item in items:
        item.add_marker(tier_of(item))

    def rank(item: pytest.Item) -> tuple[int, int]:
        path = item.nodeid
        last = next((i + 1 for i, prefix in enumerate(_LAST) if path.startswith(prefix)), 0)
        return order.index(tier_of(item)), last

    items.sort(key=rank)  # stable: the order within each group is kept
