"""The feature jobs on a long-lived Spark Connect server started by the fixture (not in-process)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from campaignflow.io import datasets
from campaignflow.io.spark_engine import start_local_server, stop_local_server
from tests.conftest import ROOT

pytestmark = [pytest.mark.spark]


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("connect")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start_local_server(Path(home), port)
    yield f"sc://127.0.0.1:{port}"
    assert stop_local_server(Path(home), port)


def run_job(job: str, ds: str, lake: Path, url: str) -> dict:  # type: ignore[type-arg]
    """The job as a task runs it: its own process, attaching to the shared server."""
    env = {**os.environ, "CAMPAIGNFLOW_SPARK": url, "CAMPAIGNFLOW_LAKE": str(lake)}
    done = subprocess.run(
        [sys.executable, "-m", f"jobs.{job}", "--date", ds], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"attached ({url})" in done.stderr  # Spark Connect, not an in-process JVM
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_feature_and_segment_jobs_on_spark_connect(connect_url: str, tmp_path: Path) -> None:
    from campaignflow.features.reference import reference_features
    from tests.data.test_customer_features import DATES, assert_same_features, random_raw, runtime, write_raw

    rt = runtime(tmp_path)
    write_raw(rt.lake, random_raw(11))
    lake = Path(rt.settings.lake_uri)
    results = [run_job("build_features", d, lake, connect_url) for d in DATES[:2]]
    assert [r["mode"] for r in results] == ["rebuilt", "incremental"]
    for d in DATES[:2]:
        got = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(d))
        assert_same_features(got, reference_features(rt.lake, date.fromisoformat(d)))
    segments = run_job("build_segments", DATES[1], lake, connect_url)
    assert segments["kmeans_fitted_now"] and segments["customers"] == results[1]["customers"]
