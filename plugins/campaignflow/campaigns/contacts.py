"""Each customer's current contact and consent record, kept as a daily snapshot.

The raw ``customers`` table is a change log (sign-ups, consent changes, unsubscribes). The
snapshot for D is the newest record per customer among raw days <= D; it is rolled forward from
D-1's snapshot and D's changes, so a day costs one day of changes, not the whole history.
"""

from __future__ import annotations

import pandas as pd

from campaignflow.ingest.consent import CHANNEL_COLUMNS, CHANNELS, newest_statements

CONTACT_COLUMNS = [
    "customer_id",
    "email",
    "phone",
    "country",
    "marketing_consent",
    "unsubscribed",
    *CHANNEL_COLUMNS,
]
_ORDER = ["customer_id", "dt", "_row"]  # which record is newest: later day, then later line


def latest_contacts(log: pd.DataFrame) -> pd.DataFrame:
    """Newest record per customer of a change log with ``dt`` and ``_row`` columns; on each consent
    channel, the customer's newest statement (:func:`campaignflow.ingest.consent.newest_statements`).

    Returns:
        One row per customer, sorted by id, with :data:`CONTACT_COLUMNS` plus ``dt`` and ``_row``
        (kept so the snapshot can be rolled forward).
    """
    latest = newest_statements(log.sort_values(_ORDER, kind="stable"), "customer_id")
    return latest.reindex(columns=[*CONTACT_COLUMNS, "dt", "_row"]).reset_index(drop=True)


def roll_forward(previous: pd.DataFrame, changes: pd.DataFrame | None) -> pd.DataFrame:
    """D's snapshot from D-1's snapshot and D's raw changes (None: no changes that day)."""
    if changes is None or changes.empty:
        return previous.reset_index(drop=True)
    return latest_contacts(
        pd.concat([previous, changes.reindex(columns=[*CONTACT_COLUMNS, "dt", "_row"])], ignore_index=True)
    )


def closed(contacts: pd.DataFrame, channel: str) -> pd.Series:
    """Rows whose consent for ``channel`` (email, phone) is explicitly withheld."""
    column = CHANNELS[channel][0]
    if column not in contacts.columns:
        return pd.Series(False, index=contacts.index)
    return contacts[column].eq(False).fillna(False).astype(bool)


def open_channels(contacts: pd.DataFrame | None) -> pd.DataFrame | None:
    """``contacts`` without the identifiers of channels their customer closed (what may be exported)."""
    if contacts is None:
        return None
    out = contacts.copy()
    for channel in CHANNELS:
        out.loc[closed(out, channel), channel] = None
    return out
