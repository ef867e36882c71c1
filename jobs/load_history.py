"""Load history: ingest and validate a range of landing days into raw (onboarding a shop).

The same staging and validation code as the daily DAG, but each table's suite runs once per
chunk of days rather than once per day, so a year of history loads in minutes.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterable
from typing import Any

from campaignflow.errors import DateOutOfRange
from campaignflow.ingest.staging import promote_days, stage_day
from campaignflow.io import datasets, landing
from campaignflow.jobcli import iso_date, job_main
from campaignflow.runtime import Runtime

log = logging.getLogger(__name__)

CHUNK_DAYS = 31


def run(
    rt: Runtime, start: str | None, end: str | None, progress: Callable[[Iterable[str]], Iterable[str]] = lambda it: it
) -> dict[str, Any]:
    dates = landing.complete_dates(rt.landing, start, end)
    if not dates:
        raise DateOutOfRange(f"no complete landing days in {rt.landing.uri} between {start or '-'} and {end or '-'}")
    rows: dict[str, int] = {}
    flagged: dict[str, dict[str, Any]] = {}
    pending: list[str] = []
    for d in progress(dates):
        stage_day(rt.landing, rt.lake, d)
        pending.append(d)
        if len(pending) == CHUNK_DAYS or d == dates[-1]:
            for day, per_table in promote_days(rt.lake, pending).items():
                for table, n in per_table.items():
                    rows[table] = rows.get(table, 0) + n
                    _count_outliers(rt, table, day, flagged)
            pending = []
    for what, seen in flagged.items():
        log.warning("flagged, kept: %s: %d row(s) (first lines %s)", what, seen["rows"], seen["lines"])
    out = {"from": dates[0], "to": dates[-1], "days": len(dates), "raw_rows": rows}
    return {**out, "flagged": flagged} if flagged else out


def _count_outliers(rt: Runtime, table: str, day: str, flagged: dict[str, dict[str, Any]]) -> None:
    """Add a committed day's outliers (unusual values, kept and flagged in its manifest) to ``flagged``."""
    for outlier in rt.lake.manifest(datasets.raw(table).at(day))["meta"].get("outliers", []):
        seen = flagged.setdefault(f"{table}.{outlier['column']} {outlier['rule']}", {"rows": 0, "lines": []})
        seen["rows"] += int(outlier["unexpected_count"])
        seen["lines"] = sorted(seen["lines"] + outlier["rows"])[:5]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", type=iso_date, help="first day (default: earliest landed)")
    parser.add_argument("--to", dest="end", type=iso_date, help="last day (default: latest landed)")


def run_args(args: argparse.Namespace) -> dict[str, Any]:
    from tqdm import tqdm

    return run(Runtime.from_settings(), args.start, args.end, progress=lambda it: tqdm(it, desc="load", unit="day"))


def main(argv: list[str] | None = None) -> int:
    return job_main(__doc__ or "", add_arguments, run_args, argv)


if __name__ == "__main__":
    raise SystemExit(main())
