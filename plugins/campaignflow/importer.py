"""Bring your own data: a plain order log (customer, timestamp, amount) into landing and raw.

The whole file is checked before anything is written: unreadable values and rule violations are
reported with file, line, column and rule, and then nothing lands.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from campaignflow.ingestion import BatchRejected, read_csv_text
from campaignflow.schemas import ORDERS, ROW_COLUMN, coerce
from campaignflow.shop.generate import LANDING_DONE, landing_key, to_csv
from campaignflow.storage import ObjectStore
from campaignflow.validation import validate_frame, with_lag

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column holds each order field (order id and currency are optional)."""

    customer_id: str = "customer_id"
    order_ts: str = "order_ts"
    amount: str = "amount"
    order_id: str | None = None
    currency: str | None = None

    def rename(self) -> dict[str, str]:
        pairs = {self.customer_id: "customer_id", self.order_ts: "order_ts", self.amount: "amount"}
        if self.order_id:
            pairs[self.order_id] = "order_id"
        if self.currency:
            pairs[self.currency] = "currency"
        return pairs


def read_source(path: Path) -> pd.DataFrame:
    """All columns as text, with ``_row`` = CSV line number (Parquet: row number + 1)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path).astype("string")
        frame[ROW_COLUMN] = range(2, len(frame) + 2)
        return frame
    return read_csv_text(path.read_bytes())


def prepare_orders(text: pd.DataFrame, mapping: ColumnMapping, file: str) -> pd.DataFrame:
    """Map, type and validate an order log; derive missing order ids.

    Raises:
        BatchRejected: with every unreadable value or failed rule (file, line, column, rule).
        ValueError: a mapped column is not in the file.
    """
    absent = [src for src in mapping.rename() if src not in text.columns]
    if absent:
        raise ValueError(
            f"{file}: column(s) {absent} not found; the file has {[c for c in text.columns if c != ROW_COLUMN]}"
        )
    frame = text[[*mapping.rename(), ROW_COLUMN]].rename(columns=mapping.rename())
    if "order_id" not in frame.columns:
        frame["order_id"] = _derived_ids(frame)
    typed, errors = coerce(ORDERS, frame, file)
    if errors:
        shown = "\n  ".join(str(e) for e in errors[:10])
        raise BatchRejected(
            f"{len(errors)} unreadable value(s), nothing imported:\n  {shown}",
            {"file": file, "errors": [vars(e) for e in errors]},
        )
    typed["dt"] = typed["order_ts"].dt.strftime("%Y-%m-%d")
    typed["currency"] = typed["currency"].fillna("UNK") if "currency" in typed else "UNK"
    report = validate_frame(ORDERS, with_lag(ORDERS, typed, typed["dt"]))
    if not report.success:
        lines = "\n  ".join(f.describe(file) for f in report.failures)
        raise BatchRejected(f"order log failed validation, nothing imported:\n  {lines}", report.to_dict())
    return typed


def write_landing(orders: pd.DataFrame, landing: ObjectStore) -> dict[str, Any]:
    """One landing partition per day from the first to the last order (empty days included)."""
    days = pd.date_range(orders["dt"].min(), orders["dt"].max(), freq="D").strftime("%Y-%m-%d")
    by_day = dict(tuple(orders.groupby("dt")))
    columns = ORDERS.names
    for day in days:
        chunk = by_day.get(day, orders.iloc[0:0])[columns].sort_values(["order_ts", "order_id"])
        landing.write_bytes(landing_key(day, "orders"), to_csv(chunk))
        landing.write_bytes(f"dt={day}/{LANDING_DONE}", b"")
    return {
        "rows": len(orders),
        "customers": int(orders["customer_id"].nunique()),
        "from": days[0],
        "to": days[-1],
        "days": len(days),
    }


def _derived_ids(frame: pd.DataFrame) -> list[str]:
    """Stable ids for logs without one: hash of customer, timestamp, amount and occurrence."""
    key = frame["customer_id"].astype(str) + "|" + frame["order_ts"].astype(str) + "|" + frame["amount"].astype(str)
    occurrence = key.groupby(key).cumcount().astype(str)
    return ["I" + hashlib.sha256(f"{k}|{n}".encode()).hexdigest()[:16] for k, n in zip(key, occurrence, strict=True)]
