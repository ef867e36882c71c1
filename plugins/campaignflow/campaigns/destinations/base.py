"""What every destination shares: hashed-identifier rows, chunked files, stable bytes."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from campaignflow.campaigns.identifiers import normalise_email, normalise_phone, sha256_hex

EmailRule = Callable[[str | None], str | None]
PhoneRule = Callable[[str | None, str | None], str | None]


@dataclass(frozen=True)
class Platform:
    """One destination platform.

    Attributes:
        type: the spec's ``destinations[].type``.
        email: raw email → the platform's normalised form (None: unusable).
        phone: raw phone and country → the platform's normalised form (None: unusable).
        headers: our identifier column → the platform's column header.
        file_format: "csv" or "parquet".
        max_rows: rows per file (the platform's documented limit per upload; None: one file).
        mirror: the platform keeps a list that should mirror the audience, so each publication
            also carries the adds and removes against the previous one.
        content: whether the platform takes personalised content columns.
    """

    type: str
    headers: dict[str, str]
    file_format: str = "csv"
    max_rows: int | None = None
    mirror: bool = False
    content: bool = False
    email: EmailRule = normalise_email
    phone: PhoneRule = normalise_phone

    def encode(self, rows: pd.DataFrame) -> bytes:
        """One file's bytes: the platform's headers, stable across runs."""
        renamed = rows.rename(columns=self.headers)
        if self.file_format == "parquet":
            from campaignflow.io.lake import frame_to_parquet

            return frame_to_parquet(renamed.reset_index(drop=True))
        buf = io.StringIO()
        renamed.to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue().encode()

    def decode(self, files: dict[str, bytes], stem: str = "audience") -> pd.DataFrame:
        """The rows of a publication's ``<stem>-*`` files back under our column names (``encode``'s inverse)."""
        back = {v: k for k, v in self.headers.items()}
        parts = []
        for name, data in sorted(files.items()):
            if not name.startswith(f"{stem}-"):
                continue
            if self.file_format == "parquet":
                import pyarrow.parquet as pq

                parts.append(pq.read_table(io.BytesIO(data)).to_pandas())
            else:
                parts.append(pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False).replace("", None))
        return pd.concat(parts, ignore_index=True).rename(columns=back)

    def files(self, rows: pd.DataFrame, stem: str = "audience") -> dict[str, bytes]:
        """``rows`` as ``<stem>-00001.<ext>`` … chunks of at most :attr:`max_rows` (one empty file for none)."""
        size = self.max_rows or max(len(rows), 1)
        starts = range(0, max(len(rows), 1), size)
        return {
            f"{stem}-{i + 1:05d}.{self.file_format}": self.encode(rows.iloc[s : s + size]) for i, s in enumerate(starts)
        }


def export_rows(
    treatment: pd.DataFrame,
    contacts: pd.DataFrame | None,
    platform: Platform,
    identifiers: list[str],
    with_content: bool = False,
) -> pd.DataFrame:
    """One row per treated customer with the platform's hashed identifiers; no raw PII.

    Args:
        treatment: audience rows of the treatment group (customer_id, content columns).
        contacts: latest contact record per customer (email, phone, country); None if the shop
            sends no customer file (the result is then empty).
        platform: whose normalisation to apply.
        identifiers: which identifiers to emit (``email_sha256``, ``phone_sha256``).
        with_content: carry the campaign's content columns.

    Returns:
        Rows sorted by the identifier columns (stable bytes, and no rank order leaks out); a
        customer with no usable identifier is left out, and identical identifiers appear once.
    """
    from campaignflow.campaigns.content import CONTENT_COLUMNS

    content = [c for c in CONTENT_COLUMNS if c in treatment.columns] if with_content else []
    if contacts is None or treatment.empty:
        return pd.DataFrame({name: pd.Series([], dtype=object) for name in [*identifiers, *content]})
    joined = treatment[["customer_id", *content]].merge(contacts, on="customer_id", how="left")
    out = pd.DataFrame(index=joined.index)
    if "email_sha256" in identifiers:
        emails = joined["email"].where(joined["email"].notna(), None)
        out["email_sha256"] = [sha256_hex(platform.email(e)) for e in emails]
    if "phone_sha256" in identifiers:
        phones = joined["phone"].where(joined["phone"].notna(), None)
        out["phone_sha256"] = [sha256_hex(platform.phone(p, c)) for p, c in zip(phones, joined["country"], strict=True)]
    out = out.dropna(how="all").drop_duplicates(subset=list(identifiers))  # a shared mailbox is one contact
    for col in content:
        out[col] = joined.loc[out.index, col]
    return out.sort_values(list(identifiers), na_position="last", ignore_index=True, kind="stable")


def identifier_keys(rows: pd.DataFrame, identifiers: list[str]) -> pd.Series:
    """One key per row from its hashed identifiers (for adds/removes between publications)."""
    return rows[list(identifiers)].fillna("").astype(str).agg("|".join, axis=1)


def export_files(
    rows: pd.DataFrame, platform: Platform, identifiers: list[str], previous: pd.DataFrame | None
) -> tuple[dict[str, bytes], dict[str, int]]:
    """The platform's files for ``rows``, plus adds/removes against ``previous`` for a mirror.

    Returns:
        (file name → bytes, counts: rows, and adds/removes for a mirror-style platform).
    """
    files = platform.files(rows)
    counts = {"rows": len(rows)}
    if platform.mirror:
        before = previous if previous is not None else rows.iloc[0:0]
        now_keys, before_keys = identifier_keys(rows, identifiers), identifier_keys(before, identifiers)
        adds = rows[~now_keys.isin(set(before_keys))]
        removes = before[~before_keys.isin(set(now_keys))][list(identifiers)]
        files |= platform.files(adds, "adds") | platform.files(removes.reset_index(drop=True), "removes")
        counts |= {"adds": len(adds), "removes": len(removes)}
    return files, counts
