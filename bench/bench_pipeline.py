"""Benchmark: each daily stage on a generated shop (same job code as the DAG, without Airflow).

python bench/bench_pipeline.py --customers 20000 --days 374

Per stage: wall seconds and CPU-seconds (this process and its children, the local Spark JVM
included), on three dates in one warm process: the first (nine days before the end of the
generated days: it trains the first models, building their snapshots' features and labels), a week
later (the weekly retrainings) and the day after (nothing to train: a plain daily date). The days
between run untimed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from campaignflow.io.storage import LocalStore
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings
from campaignflow.synthetic.generate import ShopSpec, generate_shop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000, help="customer base size")
    parser.add_argument("--days", type=int, default=374, help="days generated (the 9th last is measured first)")
    args = parser.parse_args()
    from jobs import (
        build_audiences,
        build_features,
        build_segments,
        export_audience,
        ingest,
        load_history,
        recommend_products,
        score_customers,
        snapshot_contacts,
        train_churn,
        train_recommender,
        validate_raw,
    )

    root = Path(tempfile.mkdtemp(prefix="cf-bench-"))
    start = date(2024, 1, 1)
    first = start + timedelta(days=args.days - 9)
    settings = Settings.under(root)
    rt = Runtime.from_settings(settings)
    timings: dict[str, Any] = {}
    cpu: dict[str, float] = {}

    def timed(name: str, fn: Any, *a: Any) -> Any:
        t, c = time.perf_counter(), cpu_seconds()
        out = fn(*a)
        if name:
            timings[name] = round(time.perf_counter() - t, 1)
            cpu[name] = round(cpu_seconds() - c, 1)
        return out

    def stages(day: str, label: str) -> dict[str, Any]:
        """Every daily stage at ``day``, timed under ``label`` (untimed when it is empty)."""
        named = (lambda name: f"{label}{name}") if label else (lambda name: "")
        timed(named("ingest_day"), ingest.run, rt, day)
        timed(named("validate_day"), validate_raw.run, rt, day)
        timed(named("snapshot_contacts"), snapshot_contacts.run, rt, day)
        timed(named("build_features"), build_features.run, rt, day)
        timed(named("build_segments"), build_segments.run, rt, day)
        trained = timed(named("train_churn"), train_churn.run, rt, day)
        timed(named("train_recommender"), train_recommender.run, rt, day)
        timed(named("recommend_products"), recommend_products.run, rt, day)
        timed(named("score_customers"), score_customers.run, rt, day)
        planned = timed(named("build_audiences (every campaign)"), build_audiences.run, rt, day)
        for campaign in planned["campaigns"]:
            timed(named(f"export_audience ({campaign})"), export_audience.run, rt, day, campaign)
        return dict(trained)

    gen = timed(
        "generate",
        generate_shop,
        ShopSpec(customers=args.customers, days=args.days, start=start),
        rt.landing,
        LocalStore(root / "truth"),
    )
    timed("load_history", load_history.run, rt, None, (first - timedelta(days=1)).isoformat())
    trained = stages(first.isoformat(), "first date: ")  # trains the first models (snapshots' features + labels)
    for k in range(1, 7):
        stages((first + timedelta(days=k)).isoformat(), "")
    stages((first + timedelta(days=7)).isoformat(), "a week later (weekly retrain): ")
    stages((first + timedelta(days=8)).isoformat(), "the day after (nothing to train): ")
    report = {
        "benchmark": "pipeline",
        "customers": args.customers,
        "days": args.days,
        "rows": gen.rows,
        "seconds": timings,
        "cpu_seconds": cpu,
        "model_metrics": trained["metrics"],
        "peak_rss_mib_python": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}",
    }
    print(json.dumps(report, indent=2))
    shutil.rmtree(root)


def cpu_seconds() -> float:
    """CPU time of this process and its live children (the local Spark JVM), user + system."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


if __name__ == "__main__":
    main()
