"""Injected data faults, to exercise validation and quarantine."""

from __future__ import annotations

import numpy as np
import pandas as pd

FAULTS = ("duplicates", "late_events", "nulls", "malformed")


def inject(
    tables: dict[str, pd.DataFrame], faults: set[str], rate: float, rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    """Return copies of a day's tables with the named faults applied to a ``rate`` share of rows.

    - duplicates: some orders exported twice (same order_id).
    - late_events: some events dated 8-30 days before the export day (beyond the allowed lateness).
    - nulls: some orders and events without a customer_id.
    - malformed: unparseable amounts and timestamps in orders.
    """
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown fault(s) {sorted(unknown)}; choose from {FAULTS}")
    out = {name: frame.copy() for name, frame in tables.items()}
    orders, events = out["orders"], out["events"]

    def pick(frame: pd.DataFrame, at_least: int = 1) -> np.ndarray:
        k = min(len(frame), max(at_least, round(rate * len(frame))))
        return np.sort(rng.choice(len(frame), k, replace=False))

    if "duplicates" in faults and len(orders):
        out["orders"] = orders = pd.concat([orders, orders.iloc[pick(orders)]], ignore_index=True)
    if "late_events" in faults and len(events):
        rows = pick(events)
        shift = pd.to_timedelta(rng.integers(8, 31, len(rows)), unit="D")
        events.loc[events.index[rows], "event_ts"] = events["event_ts"].iloc[rows] - shift
    if "nulls" in faults:
        for frame in (orders, events):
            if len(frame):
                frame.loc[frame.index[pick(frame)], "customer_id"] = None
    if "malformed" in faults and len(orders):
        orders["amount"] = orders["amount"].map(str)  # text columns, as in a hand-edited export
        orders["order_ts"] = orders["order_ts"].dt.strftime("%Y-%m-%dT%H:%M:%S")
        rows = pick(orders, at_least=2)  # both kinds of damage, however small the day
        half = len(rows) // 2
        orders.loc[orders.index[rows[:half]], "order_ts"] = "31/02/2024 25:61"
        orders.loc[orders.index[rows[half:]], "amount"] = "N/A"
    return out
