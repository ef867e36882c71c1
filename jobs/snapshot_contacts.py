"""Snapshot contacts: each customer's current contact and consent record as of D, into dims/contacts/dt=D.

Rolled forward from D-1's snapshot and D's raw customer changes; rebuilt from all raw days when
D-1 has no snapshot (first run, or a gap in a backfill).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    from campaignflow.campaigns.contacts import CONTACT_COLUMNS, latest_contacts, roll_forward

    previous = datasets.CONTACTS.at((date.fromisoformat(ds) - timedelta(days=1)).isoformat())
    today = datasets.raw("customers").at(ds)
    if rt.lake.is_committed(previous) and not rt.lake.manifest(previous)["meta"].get("absent"):
        changes = rt.lake.read_frame(today).assign(dt=ds) if rt.lake.is_committed(today) else None
        snapshot, mode = roll_forward(rt.lake.read_frame(previous), changes), "rolled forward"
    else:
        log = rt.lake.read_range(datasets.raw("customers"), end=ds)
        snapshot = latest_contacts(log) if log is not None else pd.DataFrame(columns=[*CONTACT_COLUMNS, "dt", "_row"])
        mode = "rebuilt" if log is not None else "absent"
    meta = {"mode": mode, "absent": mode == "absent"}
    rt.lake.write_frame(datasets.CONTACTS.at(ds), snapshot, meta)
    return {"dt": ds, "customers": len(snapshot), "mode": mode}


def contacts_as_of(rt: Runtime, ds: str) -> pd.DataFrame | None:
    """D's contact snapshot; None when the shop sends no customer file."""
    ref = datasets.CONTACTS.at(ds)
    if rt.lake.manifest(ref)["meta"].get("absent"):
        return None
    return rt.lake.read_frame(ref)


add_arguments, run_args, main = date_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
