"""Benchmark the recommender: training throughput, top-10 scoring for every customer, memory, quality.

python bench/bench_recommender.py --customers 1000000 --products 20000 --days 120 --out /data/cf-recs

A generated shop is written straight to ``raw/`` (``generate_raw``; a re-run reuses it), then, as
``train-recommender`` does at its last day: interactions, the model trained on windows before
T = D − 28 d (CPU here, CUDA where a GPU is visible) and judged with the baselines on (T, D]; then
top-10 for every customer in batched matrix products on the device. Reported: seconds per step,
training samples/s, scoring customers/s, peak RSS, and the test metrics of model and baselines.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from campaignflow.io.lake import Lake
from campaignflow.io.storage import LocalStore
from campaignflow.synthetic.generate import ShopSpec, generate_raw

START = date(2024, 1, 1)
HORIZON = 28


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--out", required=True, help="working folder (kept: a re-run reuses the shop)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    from campaignflow.recommend import baselines, bpr, interactions, training

    root = Path(args.out).resolve()
    lake = Lake(LocalStore(root / "lake"))
    ds = (START + timedelta(days=args.days - 1)).isoformat()
    report: dict[str, Any] = {
        "benchmark": "recommender",
        "customers": args.customers,
        "products": args.products,
        "days": args.days,
        "as_of": ds,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}",
        "seconds": {},
    }
    seconds = report["seconds"]
    t = time.perf_counter()
    if not (root / "_generated").exists():
        spec = ShopSpec(args.customers, args.days, START, products=args.products, return_rate=0.05)
        generate_raw(spec, lake, LocalStore(root / "truth"))
        (root / "_generated").write_text("ok")
    seconds["generate_raw"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    activity = interactions.load_activity(lake, ds)
    seconds["read raw (orders, lines, events, returns, products)"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    result = training.train_and_judge(activity, ds, HORIZON, 7)
    seconds["train + judge (windows, model, three baselines)"] = round(time.perf_counter() - t, 1)
    report["training"] = result.metrics["training"]
    report["test"] = {"model": result.metrics["test"], **result.metrics["baselines"]}
    report["peak_rss_mib_after_training"] = peak_rss_mib()

    t = time.perf_counter()
    now = interactions.interactions(activity, ds)
    customers = pd.Index(sorted(set(activity.orders["customer_id"]) | set(now["customer_id"])))
    index = baselines.Index(customers, result.model.products)
    history = bpr.History.of(now, index, ds)
    seconds["interactions at D for scoring"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    top, _ = result.model.top(history, 10)
    scoring = time.perf_counter() - t
    report["distinct_products_recommended"] = len(set(top.ravel().tolist()))
    seconds[f"top-10 for {len(customers)} customers"] = round(scoring, 1)
    report["scoring_customers_per_s"] = round(len(customers) / scoring)
    report["peak_rss_mib"] = peak_rss_mib()
    (root / "report.json").write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
