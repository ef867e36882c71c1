"""Ingest: type one day's landing export into the staging zone (unparseable values reject the batch)."""

from __future__ import annotations

from typing import Any

from campaignflow.ingest.staging import stage_day
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    result = stage_day(rt.landing, rt.lake, ds)
    return {"dt": ds, "rows": result.rows, "absent_tables": result.missing}


add_arguments, run_args, main = date_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
