"""Validate: run the GX suites on a staged day; commit it to raw, or quarantine it with a report."""

from __future__ import annotations

from typing import Any

from campaignflow.ingestion import promote_days
from campaignflow.jobcli import add_date_argument, for_date, job_main
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    committed = promote_days(rt.lake, [ds])
    return {"dt": ds, "raw_rows": committed.get(ds, {})}


add_arguments = add_date_argument
run_args = for_date(run)


def main(argv: list[str] | None = None) -> int:
    return job_main(__doc__ or "", add_arguments, run_args, argv)


if __name__ == "__main__":
    raise SystemExit(main())
