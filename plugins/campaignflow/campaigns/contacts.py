"""Each customer's current contact and consent record, kept as a daily snapshot.

The raw ``customers`` table is a change log (sign-ups, consent changes, unsubscribes). The
snapshot for D is the newest record per customer among raw days <= D; it is rolled forward from
D-1's snapshot and D's changes, so a day costs one day of changes, not the whole history.
"""

from __future__ import annotations

import pandas as pd

CONTACT_COLUMNS = ["customer_id", "email", "phone", "country", "marketing_consent", "unsubscribed"]
_ORDER = ["customer_id", "dt", "_row"]  # which record is newest: later day, then later line


def latest_contacts(log: pd.DataFrame) -> pd.DataFrame:
    """Newest record per customer of a change log with ``dt`` and ``_row`` columns.

    Returns:
        One row per customer, sorted by id, with :data:`CONTACT_COLUMNS` plus ``dt`` and ``_row``
        (kept so the snapshot can be rolled forward).
    """
    ordered = log.sort_values(_ORDER, kind="stable")
    latest = ordered.drop_duplicates("customer_id", keep="last")
    return latest[[*CONTACT_COLUMNS, "dt", "_row"]].reset_index(drop=True)


def roll_forward(previous: pd.DataFrame, changes: pd.DataFrame | None) -> pd.DataFrame:
    """D's snapshot from D-1's snapshot and D's raw changes (None: no changes that day)."""
    if changes is None or changes.empty:
        return previous.reset_index(drop=True)
    return latest_contacts(pd.concat([previous, changes[[*CONTACT_COLUMNS, "dt", "_row"]]], ignore_index=True))
