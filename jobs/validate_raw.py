"""Validate: run the GX suites on a staged day; commit it to raw, or quarantine it with a report."""

from __future__ import annotations

from typing import Any

from campaignflow.ingest.staging import promote_days
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    committed = promote_days(rt.lake, [ds])
    return {"dt": ds, "raw_rows": committed.get(ds, {})}


add_arguments, run_args, main = date_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
