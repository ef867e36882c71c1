"""Snapshot contacts: each customer's current contact and consent record as of D, into dims/contacts/dt=D.

Rolled forward from D-1's snapshot and D's raw customer changes; rebuilt from all raw days when
D-1 has no snapshot (first run, or a gap in a backfill), or when the raw customer days up to D-1
are no longer those D-1's snapshot was built from (``campaignflow import customers`` landed records
on past days: an unsubscribe imported today must reach every later snapshot).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

import pandas as pd

from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    from campaignflow.campaigns.contacts import CONTACT_COLUMNS, latest_contacts, roll_forward

    yesterday = (date.fromisoformat(ds) - timedelta(days=1)).isoformat()
    previous = datasets.CONTACTS.at(yesterday)
    today = datasets.raw("customers").at(ds)
    meta_before = rt.lake.manifest(previous)["meta"] if rt.lake.is_committed(previous) else {}
    unchanged = meta_before.get("inputs") == customer_days_digest(rt, yesterday)
    if meta_before and not meta_before.get("absent") and unchanged:
        changes = rt.lake.read_frame(today).assign(dt=ds) if rt.lake.is_committed(today) else None
        snapshot, mode = roll_forward(rt.lake.read_frame(previous), changes), "rolled forward"
    else:
        log = rt.lake.read_range(datasets.raw("customers"), end=ds)
        snapshot = latest_contacts(log) if log is not None else pd.DataFrame(columns=[*CONTACT_COLUMNS, "dt", "_row"])
        mode = "rebuilt" if log is not None else "absent"
    meta = {"mode": mode, "absent": mode == "absent", "inputs": customer_days_digest(rt, ds)}
    rt.lake.write_frame(datasets.CONTACTS.at(ds), snapshot, meta)
    return {"dt": ds, "customers": len(snapshot), "mode": mode}


def customer_days_digest(rt: Runtime, end: str) -> str:
    """A digest of the raw customer days up to ``end`` (dates and file checksums, from manifests)."""
    from campaignflow.features.lineage import partition_checksum

    days = rt.lake.committed_dates(datasets.raw("customers"), end=end)
    parts = "|".join(f"{d}:{partition_checksum(rt.lake, 'customers', d)}" for d in days)
    return hashlib.sha256(parts.encode()).hexdigest()[:24]


def contacts_as_of(rt: Runtime, ds: str) -> pd.DataFrame | None:
    """D's contact snapshot; None when the shop sends no customer file."""
    ref = datasets.CONTACTS.at(ds)
    if rt.lake.manifest(ref)["meta"].get("absent"):
        return None
    return rt.lake.read_frame(ref)


add_arguments, run_args, main = date_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
