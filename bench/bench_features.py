"""Benchmark the feature layer at scale: history length, reference engine, engine start, backfill.

python bench/bench_features.py --customers 1000000 --days 761 --out /data/cf-bench

One generated shop, written straight to ``raw/`` (``generate_raw``: no CSV landing, no raw GX, which
are other benchmarks' business). With L its last day, B the backfill length and D = L - B the
"daily" date:

* long lake: every day (2 years of history at D when ``--days`` = 730 + B + 1);
* short lake: the same shop's last ``--short-days`` days of orders, lines and events up to D, with
  its whole customer file (hard links, no copy): the same customers, three months of history;
* on each: ``build_features`` at D-1 (first run: every daily aggregate plus a fold from scratch),
  then at D (the nightly incremental job, whose validation time is reported on its own);
* the DuckDB reference (one SQL over all raw history) at D on the long lake, same cores;
* fixed engine cost: a fresh process attaching to a warm Spark Connect server and running a query,
  vs a fresh process starting its own in-process Spark;
* backfill: ``build_features`` for D+1 … D+B on the long lake, one date after the other, as a
  backfill's DAG runs do;
* range: the same dates again, their states and features removed first, built by one run at D+1
  that builds D+2 … D+B ahead in one pass (as a backfill's first feature build does when their raw
  days are validated already).

Peak memory is the resident size of this process and its children (the JVM), sampled.
The report (JSON) is rewritten after every step, so a partial run still leaves its numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil

from campaignflow.io import datasets
from campaignflow.io.storage import LocalStore
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings
from campaignflow.synthetic.generate import ShopSpec, generate_raw

START = date(2023, 1, 1)


class PeakMemory:
    """Samples the resident memory of this process tree (Python + JVM) in the background."""

    def __init__(self, every_s: float = 0.5) -> None:
        self.peak = 0
        self._every = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self._every)

    def reset(self) -> None:
        self.peak = 0

    def mib(self) -> int:
        return round(self.peak / 2**20)


class Report:
    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path, self.data = path, {**header, "steps": {}}
        self.memory = PeakMemory()

    @contextmanager
    def step(self, name: str, **extra: Any) -> Iterator[dict[str, Any]]:
        entry: dict[str, Any] = dict(extra)
        self.memory.reset()
        started = time.perf_counter()
        print(f"[bench] {name} ...", flush=True)
        yield entry
        entry["seconds"] = round(time.perf_counter() - started, 1)
        entry["peak_rss_mib"] = self.memory.mib()
        self.data["steps"][name] = entry
        self.save()
        print(f"[bench] {name}: {json.dumps(entry)}", flush=True)

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=2, default=str))


def runtime(root: Path) -> Runtime:
    lake = root / "lake"
    return Runtime.from_settings(
        Settings(lake_uri=str(lake), landing_uri=str(root / "landing"), exports_uri=str(root / "exports"))
    )


def link_recent_raw(long_root: Path, short_root: Path, first: str, last: str) -> int:
    """Hard-link the long lake's raw partitions in [first, last] (catalogue and customers: up to last)."""
    count = 0
    for table in datasets.RAW_TABLES:
        source = long_root / "lake" / datasets.raw(table).key
        if not source.exists():
            continue
        for part in sorted(source.glob("dt=*")):
            dt = part.name.removeprefix("dt=")
            if dt > last or (dt < first and table not in ("products", "customers")):
                continue
            target = short_root / "lake" / datasets.raw(table).key / part.name
            target.mkdir(parents=True, exist_ok=True)
            for f in part.iterdir():
                if not (target / f.name).exists():
                    os.link(f, target / f.name)
            count += 1
    return count


def engine_start_costs(home: Path) -> dict[str, float]:
    """Seconds for a fresh process to get a session and run one query: Connect (warm server) vs in-process."""
    from campaignflow.io.spark_engine import ensure_local_server, stop_local_server

    probe = (
        "import time; t=time.perf_counter(); from campaignflow.io.spark import get_spark; "
        "get_spark().range(1000).count(); print(round(time.perf_counter()-t, 2))"
    )
    env = {**os.environ, "CAMPAIGNFLOW_HOME": str(home)}
    port = 15042
    started = time.perf_counter()
    ensure_local_server(home / "spark-connect", port)
    out: dict[str, float] = {"connect_server_start": round(time.perf_counter() - started, 1)}

    def fresh(engine: str) -> float:
        e = {**env, "CAMPAIGNFLOW_SPARK": engine}
        run = subprocess.run([sys.executable, "-c", probe], env=e, capture_output=True, text=True, check=True)
        return float(run.stdout.strip().splitlines()[-1])

    try:
        fresh(f"sc://127.0.0.1:{port}")  # the server's own first-query warm-up, paid once per server
        connect = [fresh(f"sc://127.0.0.1:{port}") for _ in range(3)]
    finally:
        stop_local_server(home / "spark-connect", port)
    in_process = [fresh("local") for _ in range(2)]
    out["connect_attach_and_query"] = round(sorted(connect)[1], 2)
    out["in_process_start_and_query"] = round(min(in_process), 2)
    return out


def feature_run(rt: Runtime, ds: str) -> dict[str, Any]:
    from jobs import build_features

    result = build_features.run(rt, ds)
    return {k: result[k] for k in ("mode", "customers", "daily_built", "validation_seconds") if k in result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000, help="customer base size")
    parser.add_argument("--days", type=int, default=761, help="days generated (history at D = days - backfill - 1)")
    parser.add_argument("--short-days", type=int, default=91, help="days of history in the short lake")
    parser.add_argument("--backfill-days", type=int, default=30, help="dates in the backfill after D")
    parser.add_argument("--out", required=True, help="working folder (kept: a re-run reuses the generated shop)")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["engine", "long", "long-first", "short", "duckdb", "backfill", "range"],
    )
    args = parser.parse_args()

    root = Path(args.out).resolve()
    long_root, short_root = root / "long", root / "short"
    os.environ["CAMPAIGNFLOW_HOME"] = str(root / "home")
    last = START + timedelta(days=args.days - 1)
    d = last - timedelta(days=args.backfill_days)
    daily, before = d.isoformat(), (d - timedelta(days=1)).isoformat()
    earlier = json.loads((root / "report.json").read_text()) if (root / "report.json").exists() else {}
    report = Report(
        root / "report.json",
        {
            "benchmark": "features",
            "customers": args.customers,
            "days_generated": args.days,
            "daily_date": daily,
            "history_days_long": (d - START).days + 1,
            "history_days_short": args.short_days,
            "engine": os.environ.get("CAMPAIGNFLOW_SPARK", "local"),
            "spark_driver_memory": os.environ.get("CAMPAIGNFLOW_SPARK_DRIVER_MEMORY", "2g"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"{round(psutil.virtual_memory().total / 2**30)} GiB, python {platform.python_version()}",
        },
    )
    long_rt = runtime(long_root)
    marker = long_root / "_generated.json"
    if not marker.exists():
        from tqdm import tqdm

        with report.step("generate_raw") as e:
            gen = generate_raw(
                ShopSpec(customers=args.customers, days=args.days, start=START),
                long_rt.lake,
                LocalStore(long_root / "truth"),
                progress=lambda it: tqdm(it, desc="generate", unit="day", mininterval=30),
            )
            e["rows"] = gen.rows
        marker.write_text(json.dumps(gen.rows))
    report.data["rows_generated"] = json.loads(marker.read_text())

    if "engine" not in args.skip:
        with report.step("engine_fixed_cost") as e:
            e.update(engine_start_costs(root / "home"))

    timed: Callable[[str, Runtime, str], dict[str, Any]]

    def timed(name: str, rt: Runtime, ds: str) -> dict[str, Any]:
        with report.step(name, dt=ds) as e:
            e.update(feature_run(rt, ds))
        return e

    report.data["steps"] = dict(earlier.get("steps", {}))  # skipped steps keep an earlier run's numbers
    for key in ("backfill_days", "ratio_backfill_vs_daily"):
        if key in earlier:
            report.data[key] = earlier[key]
    if "long" in args.skip:
        long_daily = report.data["steps"]["long: daily job at D (incremental)"]
    else:
        if "long-first" not in args.skip:  # else the state at D-1 of an earlier run is reused
            timed("long: first run at D-1 (all daily aggregates + fold)", long_rt, before)
        long_daily = timed("long: daily job at D (incremental)", long_rt, daily)

    if "short" not in args.skip:
        first = (d - timedelta(days=args.short_days - 1)).isoformat()
        link_recent_raw(long_root, short_root, first, daily)
        short_rt = runtime(short_root)
        timed("short: first run at D-1 (all daily aggregates + fold)", short_rt, before)
        short_daily = timed("short: daily job at D (incremental)", short_rt, daily)
        report.data["ratio_daily_long_vs_short"] = round(long_daily["seconds"] / short_daily["seconds"], 2)

    if "duckdb" not in args.skip:
        from campaignflow.features.reference import reference_features

        with report.step("duckdb reference at D (all raw history, from scratch)", dt=daily) as e:
            e["customers"] = len(reference_features(long_rt.lake, d))

    if "backfill" not in args.skip:
        per_day = []
        with report.step(f"long: backfill of {args.backfill_days} dates after D") as e:
            for k in range(1, args.backfill_days + 1):
                ds = (d + timedelta(days=k)).isoformat()
                t = time.perf_counter()
                out = feature_run(long_rt, ds)
                per_day.append({"dt": ds, "seconds": round(time.perf_counter() - t, 1), **out})
            e["modes"] = sorted({p["mode"] for p in per_day})
            e["validation_seconds"] = round(sum(p["validation_seconds"] for p in per_day), 1)
        report.data["backfill_days"] = per_day
        steps = report.data["steps"]
        backfill = steps[f"long: backfill of {args.backfill_days} dates after D"]
        report.data["ratio_backfill_vs_daily"] = round(backfill["seconds"] / long_daily["seconds"], 2)
    if "range" not in args.skip:
        from jobs import build_features

        dates = [(d + timedelta(days=k)).isoformat() for k in range(1, args.backfill_days + 1)]
        for ds in dates:
            for dataset in (datasets.FEATURE_STATE, datasets.CUSTOMER_FEATURES):
                long_rt.lake.store.delete_prefix(dataset.at(ds).key)
        name = f"long: the {args.backfill_days} dates after D in one run (D+1, the rest built ahead)"
        with report.step(name) as e:
            out = build_features.run(long_rt, dates[0], ahead=len(dates) - 1)
            e["built_ahead"] = len(out["built_ahead"])
        if f"long: backfill of {args.backfill_days} dates after D" in report.data["steps"]:
            one_by_one = report.data["steps"][f"long: backfill of {args.backfill_days} dates after D"]["seconds"]
            report.data["ratio_range_vs_one_by_one"] = round(report.data["steps"][name]["seconds"] / one_by_one, 3)
    report.data["validation_share_daily"] = round(long_daily["validation_seconds"] / long_daily["seconds"], 3)
    report.save()
    print(json.dumps({k: v for k, v in report.data.items() if k != "backfill_days"}, indent=2, default=str))


if __name__ == "__main__":
    main()
