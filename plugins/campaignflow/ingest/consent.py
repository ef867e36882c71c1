"""Per-channel consent as timed statements: on each channel the customer's newest statement wins.

A record states a channel's consent when its flag (``email_consent``, ``phone_consent``) is set; the
statement's time is the channel's own timestamp (``email_consent_ts``, ``phone_consent_ts``), else the
day of the record. A record silent on a channel changes nothing there, an older statement never
overrides a newer one (an export replayed later cannot reopen a channel the customer closed), and two
statements at the same time keep the restrictive one (closed).
"""

from __future__ import annotations

import pandas as pd

# channel -> (its consent flag, when that flag was stated); False closes the channel (its identifier is
# never exported, and the mailbox or number is blocked for every record that carries it); True or null:
# open while marketing_consent is.
CHANNELS: dict[str, tuple[str, str]] = {
    "email": ("email_consent", "email_consent_ts"),
    "phone": ("phone_consent", "phone_consent_ts"),
}
CHANNEL_COLUMNS = [c for pair in CHANNELS.values() for c in pair]


def newest_statements(records: pd.DataFrame, key: str) -> pd.DataFrame:
    """The last record per ``key`` (``records`` are oldest first, with a ``dt`` day column), each
    channel's flag and time replaced by the key's newest statement on that channel (null: never stated).

    The statement's time is written out (the record's day where it had none), so a result can be
    resolved again with newer records and give the same answer as resolving everything at once.
    """
    latest = records.drop_duplicates(key, keep="last").set_index(key)
    for flag, stamp in CHANNELS.values():
        if flag not in records.columns:  # a log from before the channels existed
            latest[flag] = pd.Series(pd.NA, index=latest.index, dtype="boolean")
            latest[stamp] = pd.Series(pd.NaT, index=latest.index, dtype="datetime64[us]")
            continue
        said = records[records[flag].notna()]
        at = said[stamp] if stamp in said.columns else pd.Series(pd.NaT, index=said.index)
        at = pd.to_datetime(at).fillna(pd.to_datetime(said["dt"])).astype("datetime64[us]")
        # newest last; at one time the closed statement (False) sorts after the open one and wins
        ordered = said.assign(**{stamp: at, "_closed": ~said[flag].astype(bool)}).sort_values(
            [key, stamp, "_closed"], kind="stable"
        )
        newest = ordered.drop_duplicates(key, keep="last").set_index(key)
        latest[flag] = newest[flag].reindex(latest.index).astype("boolean")
        latest[stamp] = newest[stamp].reindex(latest.index)
    return latest.reset_index()
