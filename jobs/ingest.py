"""Ingest: type one day's landing export into the staging zone (unparseable values reject the batch)."""

from __future__ import annotations

from typing import Any

from campaignflow.ingestion import stage_day
from campaignflow.jobcli import add_date_argument, for_date, job_main
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    result = stage_day(rt.landing, rt.lake, ds)
    return {"dt": ds, "rows": result.rows, "absent_tables": result.missing}


add_arguments = add_date_argument
run_args = for_date(run)


def main(argv: list[str] | None = None) -> int:
    return job_main(__doc__ or "", add_arguments, run_args, argv)


if __name__ == "__main__":
    raise SystemExit(main())
