"""The orchestration benchmark's measures, on a hand-made timeline (seconds after 12:00:00 UTC)."""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta

import pytest

from bench.bench_orchestration import (
    CpuTrace,
    cpu_by_kind,
    daily_dags,
    idle_share,
    process_cpu,
    process_kind,
    timeline,
    wait_latencies,
)

NOON = datetime.fromisoformat("2024-01-02T12:00:00+00:00")


def stamp(seconds: float) -> str:
    return (NOON + timedelta(seconds=seconds)).isoformat()


def ti(dag_id: str, task_id: str, start: float, end: float) -> dict[str, object]:
    return {"dag_id": dag_id, "task_id": task_id, "start_date": stamp(start), "end_date": stamp(end)}


ROWS = [
    ti("ingest_features", "wait_for_landing", 0, 1),
    ti("ingest_features", "validate_raw", 2, 10),
    ti("ingest_features", "build_features", 11, 30),
    ti("ingest_features", "snapshot_contacts", 11, 14),
    ti("ingest_features", "build_segments", 31, 40),
    ti("campaign_daily", "wait_for_features", 1, 42.5),  # the last commit ended at 40
    ti("campaign_daily", "score_customers", 43, 50),
]


def test_idle_share_counts_the_time_no_task_but_a_wait_ran() -> None:
    # busy: 2-10, 11-30 (snapshot_contacts inside it), 31-40, 43-50 = 43 of the 50 s
    assert idle_share(ROWS, NOON.timestamp(), NOON.timestamp() + 50) == pytest.approx(7 / 50)


def test_wait_latency_runs_from_the_last_commit_to_the_wait_ending() -> None:
    assert wait_latencies(ROWS) == {"campaign_daily.wait_for_features": 2.5}


def test_timeline_lists_every_task_by_start() -> None:
    lines = timeline(ROWS, NOON.timestamp())
    assert lines[0] == "   0.0–   1.0 ingest_features.wait_for_landing"
    assert lines[-1] == "  43.0–  50.0 campaign_daily.score_customers"
    starts = [float(line.split("–")[0]) for line in lines]
    assert starts == sorted(starts) and len(lines) == len(ROWS)


def test_cpu_by_kind_counts_what_each_kind_used_between_snapshots() -> None:
    before = {"1:10": ("scheduler", 5.0), "2:20": ("postgres", 1.0), "3:30": ("other", 9.0)}
    after = {"1:10": ("scheduler", 7.5), "2:20": ("postgres", 1.0), "4:40": ("postgres", 0.5), "5:50": ("other", 2.0)}
    assert cpu_by_kind(before, after) == {"scheduler": 2.5, "other": 2.0, "postgres": 0.5}  # a new process counts whole
    now = process_cpu()
    assert now and all(cpu >= 0 for _, cpu in now.values())


def test_process_kinds_tell_the_spark_server_from_other_java() -> None:
    from campaignflow.io.spark_engine import SERVER_CLASS

    assert process_kind(f"/usr/bin/java -cp jars/* {SERVER_CLASS} --port 15002") == "spark connect server (JVM)"
    assert process_kind("/usr/bin/java -jar some-other-service.jar") == "other"
    assert process_kind("airflow worker -- 01a240e4-88d3") == "executor workers and their tasks"
    assert process_kind("/venv/bin/python /venv/bin/airflow scheduler") == "scheduler"


def test_cpu_trace_interpolates_what_was_used_between_two_times() -> None:
    readings = iter(float(v) for v in range(10_000))  # one CPU-second more at every sample
    with CpuTrace(interval=0.01, read=lambda: next(readings)) as trace:
        while len(trace.samples) < 5:
            time.sleep(0.001)
    (t1, c1), (t2, _), (t3, c3) = trace.samples[1:4]
    assert trace.between(t1, t3) == pytest.approx(c3 - c1) == pytest.approx(2.0)
    # halfway between two samples (epoch seconds 10 ms apart carry about 1e-5 of rounding)
    assert trace.between(t1, (t1 + t2) / 2) == pytest.approx(0.5, abs=1e-3)
    assert trace.between(t1, t1) == 0.0


def test_dags_option_takes_daily_dags_only() -> None:
    assert daily_dags("ingest_features") == ("ingest_features",)
    assert daily_dags("ingest_features, train_models") == ("ingest_features", "train_models")
    for bad in ("ingest_feature", "ingest_features,nightly", ","):
        with pytest.raises(argparse.ArgumentTypeError, match="not a daily DAG"):
            daily_dags(bad)
    waits = "campaign_daily waits for the partitions of train_models: name it too"
    with pytest.raises(argparse.ArgumentTypeError, match=waits):
        daily_dags("ingest_features,campaign_daily")  # its runs would wait a day for models
