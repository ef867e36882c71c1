"""The feature jobs on a long-lived Spark Connect server started by the fixture (not in-process)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from campaignflow.io import datasets
from campaignflow.io.spark_engine import start_local_server, stop_local_server

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("connect")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start_local_server(Path(home), port)
    yield f"sc://127.0.0.1:{port}"
    assert stop_local_server(Path(home), port)


def test_feature_and_segment_jobs_on_spark_connect(connect_url: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.features.reference import reference_features
    from campaignflow.io.spark import get_spark, is_connect
    from jobs import build_features, build_segments
    from tests.unit.features.test_customer_features import DATES, assert_same_features, random_raw, runtime, write_raw

    monkeypatch.setenv("CAMPAIGNFLOW_SPARK", connect_url)
    assert is_connect(get_spark())
    rt = runtime(tmp_path)
    write_raw(rt.lake, random_raw(11))
    results = [build_features.run(rt, d) for d in DATES[:2]]
    assert [r["mode"] for r in results] == ["rebuilt", "incremental"]
    for d in DATES[:2]:
        got = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(d))
        assert_same_features(got, reference_features(rt.lake, date.fromisoformat(d)))
    segments = build_segments.run(rt, DATES[1])
    assert segments["kmeans_fitted_now"] and segments["customers"] == results[1]["customers"]
