"""Measure campaigns: lift of every audience whose response window closes on D.

An audience built on D0 with ``response_window_days`` W is measured on D = D0 + W from the raw
orders (and returns) of (D0, D]: conversion and revenue per customer, treatment vs control (and vs
the global control when there is one), into ``measurement/campaign_lift/dt=D``.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta
from typing import Any

import pandas as pd

from campaignflow.errors import MissingPartition
from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    from campaignflow.campaigns.measurement import Lift, measure, outcomes
    from campaignflow.campaigns.spec import load_campaigns

    rows, measured = [], []
    for spec in load_campaigns(rt.settings.campaigns_dir, active_only=False):
        start = (date.fromisoformat(ds) - timedelta(days=spec.response_window_days)).isoformat()
        audience_ref = datasets.audience(spec.name).at(start)
        if not rt.lake.is_committed(audience_ref):
            continue
        members = rt.lake.read_frame(audience_ref, ["customer_id", "group"])
        orders, returns = window(rt, start, ds)
        results = outcomes(members, orders, returns)
        price = spec.budget.cost_per_contact
        for versus in ("control", "global_control"):
            lift = measure(results, spec.name, start, ds, price, versus)
            if lift is not None:
                rows.append(lift.to_dict())
        measured.append(spec.name)
    frame = pd.DataFrame(rows, columns=[f.name for f in fields(Lift)])
    note = None if measured else f"no campaign's response window closes on {ds}"
    rt.lake.write_frame(datasets.CAMPAIGN_LIFT.at(ds), frame, {"campaigns": measured, "note": note})
    return {"dt": ds, "measured": measured, "results": rows, "note": note}


def window(rt: Runtime, start: str, end: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Raw orders (and returns, where the shop sends them) of the days in (start, end].

    Raises:
        MissingPartition: a day's orders are not in the lake yet (the measurement waits for them).
    """
    first = date.fromisoformat(start) + timedelta(days=1)
    days = [(first + timedelta(days=i)).isoformat() for i in range((date.fromisoformat(end) - first).days + 1)]
    missing = [d for d in days if not rt.lake.is_committed(datasets.raw("orders").at(d))]
    if missing:
        raise MissingPartition(
            f"raw orders of {missing[0]} (and {len(missing) - 1} more day(s)) are not committed: "
            f"the response window ({start}, {end}] is not complete",
            remedy="run the daily pipeline for those dates first",
        )
    orders = rt.lake.read_dates(datasets.raw("orders"), days, ["customer_id", "amount"])
    dates = rt.lake.committed_dates(datasets.raw("returns"), days[0], days[-1])
    returns = rt.lake.read_dates(datasets.raw("returns"), dates, ["customer_id", "amount"]) if dates else None
    return orders if orders is not None else pd.DataFrame(columns=["customer_id", "amount"]), returns


add_arguments, run_args, main = date_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
