"""Benchmark: each daily stage on a generated shop (same job code as the DAG, without Airflow).

python bench/bench_pipeline.py --customers 20000 --days 240
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
    parser.add_argument("--days", type=int, default=240, help="days of history")
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
    last = (start + timedelta(days=args.days - 1)).isoformat()
    settings = Settings.under(root)
    rt = Runtime.from_settings(settings)
    timings: dict[str, Any] = {}

    def timed(name: str, fn: Any, *a: Any) -> Any:
        t = time.perf_counter()
        out = fn(*a)
        timings[name] = round(time.perf_counter() - t, 1)
        return out

    gen = timed(
        "generate",
        generate_shop,
        ShopSpec(customers=args.customers, days=args.days, start=start),
        rt.landing,
        LocalStore(root / "truth"),
    )
    timed("load_history", load_history.run, rt, None, (date.fromisoformat(last) - timedelta(days=1)).isoformat())
    timed("ingest_day", ingest.run, rt, last)
    timed("validate_day", validate_raw.run, rt, last)
    timed("snapshot_contacts", snapshot_contacts.run, rt, last)
    timed("build_features", build_features.run, rt, last)
    timed("build_segments", build_segments.run, rt, last)
    trained = timed("train_churn (incl. snapshots' features + labels)", train_churn.run, rt, last)
    timed("train_recommender", train_recommender.run, rt, last)
    timed("recommend_products", recommend_products.run, rt, last)
    timed("score_customers", score_customers.run, rt, last)
    planned = timed("build_audiences (every campaign)", build_audiences.run, rt, last)
    for campaign in planned["campaigns"]:
        timed(f"export_audience ({campaign})", export_audience.run, rt, last, campaign)
    report = {
        "benchmark": "pipeline",
        "customers": args.customers,
        "days": args.days,
        "rows": gen.rows,
        "seconds": timings,
        "model_metrics": trained["metrics"],
        "peak_rss_mib_python": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}",
    }
    print(json.dumps(report, indent=2))
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
