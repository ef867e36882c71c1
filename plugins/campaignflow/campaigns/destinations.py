"""Destination files: hashed identifiers only, in the platform's normalisation."""

from __future__ import annotations

import io

import pandas as pd

from campaignflow.campaigns.identifiers import normalise_email, normalise_phone, sha256_hex
from campaignflow.campaigns.spec import Destination


def export_rows(treatment: pd.DataFrame, contacts: pd.DataFrame | None, destination: Destination) -> pd.DataFrame:
    """One row per treated customer with the destination's hashed identifiers; no raw PII.

    Args:
        treatment: audience rows of the treatment group (customer_id).
        contacts: latest contact record per customer (email, phone, country); None if the shop
            sends no customer file (the result is then empty).
        destination: which identifiers to emit.

    Returns:
        Rows sorted by the identifier columns (stable bytes, and no rank order leaks out), with the
        campaign's content columns when the destination carries content.
    """
    from campaignflow.campaigns.content import CONTENT_COLUMNS

    content = [c for c in CONTENT_COLUMNS if c in treatment.columns] if destination.content else []
    if contacts is None:
        return pd.DataFrame({name: pd.Series([], dtype=object) for name in [*destination.identifiers, *content]})
    joined = treatment[["customer_id", *content]].merge(contacts, on="customer_id", how="left")
    out = pd.DataFrame(index=joined.index)
    if "email_sha256" in destination.identifiers:
        out["email_sha256"] = [
            sha256_hex(normalise_email(e)) for e in joined["email"].where(joined["email"].notna(), None)
        ]
    if "phone_sha256" in destination.identifiers:
        out["phone_sha256"] = [
            sha256_hex(normalise_phone(p, c))
            for p, c in zip(joined["phone"].where(joined["phone"].notna(), None), joined["country"], strict=True)
        ]
    out = out.dropna(how="all")
    for col in content:
        out[col] = joined.loc[out.index, col]
    keys = list(destination.identifiers)
    return out.sort_values(keys, na_position="last", ignore_index=True, kind="stable")


def to_csv_bytes(rows: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    rows.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode()
