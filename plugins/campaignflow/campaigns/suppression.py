"""Suppression lists: people who must never be contacted, kept as hashes only.

A list is imported from a CSV with any of ``email``, ``phone`` (+ ``country``), ``email_sha256``,
``phone_sha256`` columns; raw values are normalised and hashed on import and never stored. The
newest import on or before D is the list as of D. The list named ``do_not_contact`` applies to every
campaign; others apply to the campaigns naming them in ``exclude.suppression_lists``.
"""

from __future__ import annotations

import re

import pandas as pd

from campaignflow.campaigns.identifiers import canonical_email, normalise_email, normalise_phone, sha256_hex
from campaignflow.errors import BadInput
from campaignflow.io import datasets
from campaignflow.io.lake import Lake

GLOBAL_LIST = "do_not_contact"
ACCEPTED = ("email", "phone", "country", "email_sha256", "phone_sha256")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def hashed_entries(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """``frame``'s identifiers as one ``sha256`` column (normalised first; pre-hashed ones checked).

    Raises:
        BadInput: no identifier column, or a pre-hashed value that is not 64 hex characters
            (naming the file, column and line).
    """
    columns = [c for c in ("email", "phone", "email_sha256", "phone_sha256") if c in frame.columns]
    if not columns:
        raise BadInput(f"{source}: a suppression list needs a column of {list(ACCEPTED)}; it has {list(frame.columns)}")
    hashes: list[str | None] = []
    if "email" in frame.columns:
        emails = frame["email"].where(frame["email"].notna(), None)
        hashes += [sha256_hex(normalise_email(e)) for e in emails]
        hashes += [sha256_hex(canonical_email(e)) for e in emails]  # the mailbox, however it was typed
    if "phone" in frame.columns:
        countries = frame["country"] if "country" in frame.columns else pd.Series(None, index=frame.index)
        phones = frame["phone"].where(frame["phone"].notna(), None).astype(object)
        hashes += [sha256_hex(normalise_phone(p, c)) for p, c in zip(phones, countries, strict=True)]
    for col in ("email_sha256", "phone_sha256"):
        if col in frame.columns:
            values = frame[col].dropna().astype(str).str.strip().str.lower()
            bad = values[~values.str.match(_HEX64)]
            if len(bad):
                raise BadInput(f"{source}: column {col}, line {int(bad.index[0]) + 2}: not a SHA-256 hex digest")
            hashes += values.tolist()
    unique = sorted({h for h in hashes if h})
    return pd.DataFrame({"sha256": unique})


def import_list(lake: Lake, name: str, frame: pd.DataFrame, ds: str, source: str) -> int:
    """Commit ``frame`` as suppression list ``name`` as of ``ds``; the number of identifiers kept."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", name):
        raise BadInput(f"suppression list name {name!r}: use lower-case letters, digits, '-' or '_'")
    entries = hashed_entries(frame, source)
    lake.write_frame(datasets.suppression(name).at(ds), entries, {"source": source, "rows_read": len(frame)})
    return len(entries)


def lists_as_of(lake: Lake, ds: str) -> dict[str, frozenset[str]]:
    """Every suppression list as of ``ds`` (its newest import on or before ``ds``)."""
    out = {}
    for name in lake.store.list_dirs("suppression"):
        dates = lake.committed_dates(datasets.suppression(name), end=ds)
        if dates:
            out[name] = frozenset(lake.read_frame(datasets.suppression(name).at(dates[-1]))["sha256"])
    return out
