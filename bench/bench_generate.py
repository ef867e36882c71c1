"""Benchmark: generate a shop of N customers × D days; report wall time, peak memory, rows and bytes.

python bench/bench_generate.py --customers 1000000 --days 365
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from campaignflow.io.storage import LocalStore
from campaignflow.synthetic.generate import ShopSpec, generate_shop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000, help="customer base size")
    parser.add_argument("--days", type=int, default=365, help="days to generate")
    parser.add_argument("--out", help="directory to write to (default: a temp dir, deleted afterwards)")
    args = parser.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="cf-bench-"))
    started = time.perf_counter()
    result = generate_shop(
        ShopSpec(customers=args.customers, days=args.days, start=date(2024, 1, 1)),
        LocalStore(root / "landing"),
        LocalStore(root / "truth"),
    )
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    report = {
        "benchmark": "generate",
        "customers": args.customers,
        "days": args.days,
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rows": result.rows,
        "landing_gib": round(size / 2**30, 2),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, python {platform.python_version()}",
    }
    print(json.dumps(report, indent=2))
    if not args.out:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
