"""Bring your own data: a plain order log (customer, timestamp, amount) into landing and raw.

A log may be order-level (one row per order) or, with a product column, line-level (one row per
order line: rows sharing an order id make one order whose amount is their sum). The whole file is
checked before anything is written: unreadable values and rule violations are reported with file,
line, column and rule, and then nothing lands.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from campaignflow.ingest.schemas import ORDER_LINES, ORDERS, ROW_COLUMN, TableSchema, coerce
from campaignflow.ingest.staging import BatchRejected, read_csv_text
from campaignflow.ingest.validation import validate_frame, with_lag
from campaignflow.io.storage import ObjectStore
from campaignflow.synthetic.generate import LANDING_DONE, landing_key, to_csv

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column holds each field; only customer, timestamp and amount are required."""

    customer_id: str = "customer_id"
    order_ts: str = "order_ts"
    amount: str = "amount"
    order_id: str | None = None
    currency: str | None = None
    product_id: str | None = None  # given: each row is an order line and amount is the line total
    quantity: str | None = None

    def rename(self) -> dict[str, str]:
        optional = {
            "order_id": self.order_id,
            "currency": self.currency,
            "product_id": self.product_id,
            "quantity": self.quantity,
        }
        pairs = {self.customer_id: "customer_id", self.order_ts: "order_ts", self.amount: "amount"}
        pairs.update({src: name for name, src in optional.items() if src})
        return pairs


@dataclass
class ImportedLog:
    orders: pd.DataFrame  # typed orders with a ``dt`` (order day) column
    lines: pd.DataFrame | None  # typed order lines with ``dt``, when the log names products


def read_source(path: Path) -> pd.DataFrame:
    """All columns as text, with ``_row`` = CSV line number (Parquet: row number + 1)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path).astype("string")
        frame[ROW_COLUMN] = range(2, len(frame) + 2)
        return frame
    return read_csv_text(path.read_bytes())


def prepare_orders(text: pd.DataFrame, mapping: ColumnMapping, file: str) -> ImportedLog:
    """Map, type and validate an order log; derive missing order ids.

    Raises:
        BatchRejected: with every unreadable value or failed rule (file, line, column, rule).
        ValueError: a mapped column is not in the file, or a quantity column without products.
    """
    absent = [src for src in mapping.rename() if src not in text.columns]
    if absent:
        raise ValueError(
            f"{file}: column(s) {absent} not found; the file has {[c for c in text.columns if c != ROW_COLUMN]}"
        )
    if mapping.quantity and not mapping.product_id:
        raise ValueError(f"{file}: a quantity column needs a product column (--product-col)")
    frame = text[[*mapping.rename(), ROW_COLUMN]].rename(columns=mapping.rename())
    if "order_id" not in frame.columns:
        frame["order_id"] = _derived_ids(frame)
    typed, errors = coerce(ORDERS, frame, file)
    lines = None
    if mapping.product_id:
        line_text = frame.assign(unit_price="0", quantity=frame["quantity"] if mapping.quantity else "1")
        lines, line_errors = coerce(ORDER_LINES, line_text, file)
        errors += [e for e in line_errors if e.column == "quantity"]
    if errors:
        errors.sort(key=lambda e: e.row)
        shown = "\n  ".join(str(e) for e in errors[:10])
        raise BatchRejected(
            f"{len(errors)} unreadable value(s), nothing imported:\n  {shown}",
            {"file": file, "errors": [vars(e) for e in errors]},
        )
    typed["dt"] = typed["order_ts"].dt.strftime("%Y-%m-%d")
    typed["currency"] = typed["currency"].fillna("UNK")
    if lines is not None:
        lines["unit_price"] = (typed["amount"] / lines["quantity"].astype("float64")).round(4)
        typed = _orders_from_lines(typed, file)
        lines["dt"] = lines["order_id"].map(typed.set_index("order_id")["dt"])
        _check(ORDER_LINES, lines, file)
    _check(ORDERS, typed, file)
    return ImportedLog(typed, lines)


def _orders_from_lines(lines: pd.DataFrame, file: str) -> pd.DataFrame:
    """One order per order id: first line's customer, earliest time, summed amount."""
    owners = lines.groupby("order_id")["customer_id"].nunique()
    shared = owners[owners > 1].index
    if len(shared):
        rows = sorted(lines.loc[lines["order_id"].isin(shared), ROW_COLUMN].tolist())[:10]
        raise BatchRejected(
            f"{file}: {len(shared)} order id(s) appear with more than one customer (lines {rows}), nothing imported",
            {"file": file, "column": "order_id", "rule": "one customer per order", "rows": rows},
        )
    orders = (
        lines.groupby("order_id", sort=False)
        .agg(
            customer_id=("customer_id", "first"),
            order_ts=("order_ts", "min"),
            amount=("amount", "sum"),
            currency=("currency", "first"),
            **{ROW_COLUMN: (ROW_COLUMN, "min")},
        )
        .reset_index()
    )
    orders["amount"] = orders["amount"].round(2)
    orders["dt"] = orders["order_ts"].dt.strftime("%Y-%m-%d")
    return orders


def _check(schema: TableSchema, frame: pd.DataFrame, file: str) -> None:
    report = validate_frame(schema, with_lag(schema, frame, frame["dt"]))
    if not report.success:
        lines = "\n  ".join(f.describe(file) for f in report.failures)
        raise BatchRejected(f"order log failed validation, nothing imported:\n  {lines}", report.to_dict())


def write_landing(log: ImportedLog, landing: ObjectStore) -> dict[str, Any]:
    """One landing partition per day from the first to the last order (empty days included)."""
    orders = log.orders
    days = pd.date_range(orders["dt"].min(), orders["dt"].max(), freq="D").strftime("%Y-%m-%d")
    tables = {"orders": (orders, ORDERS, ["order_ts", "order_id"])}
    if log.lines is not None:
        tables["order_lines"] = (log.lines, ORDER_LINES, ["order_id", ROW_COLUMN])
    for day in days:
        for name, (frame, schema, order) in tables.items():
            chunk = frame[frame["dt"] == day].sort_values(order)[schema.names]
            landing.write_bytes(landing_key(day, name), to_csv(chunk))
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
