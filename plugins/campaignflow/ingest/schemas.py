"""Table contracts for the landing and raw zones: columns, types and which are required.

Landing files are CSV as a shop exports them; :func:`coerce` turns their text into typed columns
and reports every value it cannot parse (file line, column, rule) instead of dropping rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from campaignflow.errors import BadInput

Kind = Literal["string", "timestamp", "float", "int", "bool"]

ROW_COLUMN = "_row"  # 1-based line number in the source file (header is line 1)
_ARROW = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
}
_PANDAS_NULL = {
    "string": "string",
    "timestamp": "datetime64[us]",
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
}
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
# What spreadsheets and databases write where an id is missing; never a real customer or order.
PLACEHOLDERS = frozenset({"null", "nil", "none", "nan", "n/a", "na", "#n/a", "-", "--", "?", "undefined", "unknown"})


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False  # a null here fails validation
    pii: bool = False  # values never appear in reports or logs
    identifier: bool = False  # an id: placeholder values ("NULL", "N/A", "-") are errors, not ids
    doc: str = ""  # what it means (docs/data-contract.md)
    example: str = ""


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]
    time_column: str | None = None
    unique_key: str | None = None
    max_lateness_days: int = 0  # how many days before the partition date a record may be dated

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def with_absent_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with each schema column it lacks added as typed nulls (an optional column a
        shop does not send), so the partition has the table's layout."""
        missing = {
            c.name: pd.Series(pd.NA, index=frame.index, dtype=_PANDAS_NULL[c.kind])
            for c in self.columns
            if c.name not in frame.columns
        }
        return frame.assign(**missing) if missing else frame

    def arrow_schema(self) -> pa.Schema:
        """The typed layout of a raw partition: the columns plus ``_row``."""
        return pa.schema([pa.field(c.name, _ARROW[c.kind]) for c in self.columns] + [pa.field(ROW_COLUMN, pa.int64())])


ORDERS = TableSchema(
    "orders",
    (
        Column(
            "order_id",
            "string",
            required=True,
            identifier=True,
            doc="the order (basket, invoice); derived when the log has none",
            example="536365",
        ),
        Column(
            "customer_id",
            "string",
            required=True,
            identifier=True,
            doc="who ordered; text, leading zeros kept",
            example="00418683",
        ),
        Column("order_ts", "timestamp", required=True, doc="when, in UTC", example="2024-06-30T14:05:00"),
        Column(
            "amount",
            "float",
            required=True,
            doc="the order's value (sum of its lines), never negative",
            example="49.90",
        ),
        Column(
            "currency",
            "string",
            doc="ISO 4217 code; UNK when the log has none (amounts are not converted)",
            example="EUR",
        ),
    ),
    time_column="order_ts",
    unique_key="order_id",
)
ORDER_LINES = TableSchema(
    "order_lines",
    (
        Column(
            "order_id", "string", required=True, identifier=True, doc="the order the line belongs to", example="536365"
        ),
        Column("product_id", "string", required=True, identifier=True, doc="what was bought", example="85123A"),
        Column("quantity", "int", required=True, doc="units, at least 1 (returns are in returns)", example="6"),
        Column("unit_price", "float", required=True, doc="price of one unit, never negative", example="2.55"),
    ),
)
EVENTS = TableSchema(
    "events",
    (
        Column("event_id", "string", required=True, identifier=True, doc="the event", example="e-1"),
        Column("customer_id", "string", required=True, identifier=True, doc="whose event", example="c42"),
        Column(
            "event_ts",
            "timestamp",
            required=True,
            doc="when, in UTC (up to 7 days late)",
            example="2024-06-30T14:05:00",
        ),
        Column(
            "event_type",
            "string",
            required=True,
            doc="view, add_to_cart, search, email_open or email_click",
            example="view",
        ),
        Column("product_id", "string", doc="the product viewed or carted; null for others", example="85123A"),
    ),
    time_column="event_ts",
    unique_key="event_id",
    max_lateness_days=7,
)
CUSTOMERS = TableSchema(
    "customers",
    (
        Column(
            "customer_id",
            "string",
            required=True,
            identifier=True,
            doc="the customer, as in orders",
            example="00418683",
        ),
        Column(
            "email",
            "string",
            pii=True,
            doc="as typed; exports carry only the SHA-256 of its normal form; null: never emailed",
            example="Ann.Lee+news@Example.com",
        ),
        Column(
            "phone",
            "string",
            pii=True,
            doc="as typed, read with the country when it has no code; exports carry a hash",
            example="0612345678",
        ),
        Column("country", "string", doc="ISO 3166 code; blank: the shop's country (--country)", example="NL"),
        Column(
            "signup_ts",
            "timestamp",
            required=True,
            doc="when the customer signed up; absent: when the record was made",
            example="2023-11-02T09:00:00",
        ),
        Column(
            "marketing_consent",
            "bool",
            required=True,
            doc="opted in to marketing; absent: false, so nobody is exported",
            example="true",
        ),
        Column(
            "unsubscribed",
            "bool",
            required=True,
            doc="unsubscribed: never contacted, whatever the consent says",
            example="false",
        ),
        Column(
            "email_consent",
            "bool",
            doc="false closes email (never exported, the mailbox blocked); true or null: open with marketing_consent",
            example="true",
        ),
        Column(
            "phone_consent",
            "bool",
            doc="false closes phone (SMS, ad platforms' phone match); true or null: open with marketing_consent",
            example="false",
        ),
        Column(
            "email_consent_ts",
            "timestamp",
            doc="when email_consent was stated; the newest statement per channel wins; null: the record's day",
            example="2024-03-01T10:15:00",
        ),
        Column(
            "phone_consent_ts",
            "timestamp",
            doc="when phone_consent was stated; the newest statement per channel wins; null: the record's day",
            example="2024-05-20T18:02:00",
        ),
    ),
    unique_key="customer_id",
)
PRODUCTS = TableSchema(
    "products",
    (
        Column(
            "product_id",
            "string",
            required=True,
            identifier=True,
            doc="the product, as in order lines",
            example="4710199010372",
        ),
        Column("category", "string", required=True, doc="the shop's category (any level)", example="110411"),
        Column("price", "float", required=True, doc="list price of one unit, never negative", example="15.0"),
    ),
    unique_key="product_id",
)

# Line level, like a shop's cancellation invoices: one row per returned product, so a return id (a
# cancellation invoice, a refund basket) may repeat on its lines, and a line may repeat a product.
RETURNS = TableSchema(
    "returns",
    (
        Column(
            "return_id",
            "string",
            required=True,
            identifier=True,
            doc="the return or cancellation invoice (one row per line)",
            example="C536379",
        ),
        Column("customer_id", "string", required=True, identifier=True, doc="who returned", example="14527"),
        Column(
            "return_ts",
            "timestamp",
            required=True,
            doc="when, in UTC (up to 7 days late)",
            example="2010-12-01T09:41:00",
        ),
        Column("amount", "float", required=True, doc="value refunded, as a positive number", example="27.50"),
        Column(
            "order_id",
            "string",
            identifier=True,
            doc="the original order; null when the return does not name it",
            example="536390",
        ),
        Column(
            "product_id",
            "string",
            identifier=True,
            doc="the product returned; null for an order-level refund",
            example="22941",
        ),
        Column("quantity", "int", doc="units returned, positive", example="3"),
        Column("currency", "string", doc="ISO 4217 code", example="GBP"),
    ),
    time_column="return_ts",
    max_lateness_days=7,
)

TABLES: dict[str, TableSchema] = {t.name: t for t in (ORDERS, ORDER_LINES, EVENTS, CUSTOMERS, PRODUCTS, RETURNS)}
EVENT_TYPES = ("view", "add_to_cart", "search", "email_open", "email_click")


@dataclass(frozen=True)
class RowError:
    """One value that could not be read."""

    file: str
    row: int
    column: str
    rule: str
    value: str | None

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (value {self.value!r})"
        return f"{self.file}: line {self.row}, column {self.column!r}: {self.rule}{shown}"


def coerce(schema: TableSchema, text: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[RowError]]:
    """Type the text columns of a landing file.

    Args:
        schema: the table contract.
        text: all-string frame as read from the file, with a ``_row`` line-number column.
        file: file name for error messages.

    Returns:
        The typed frame (schema columns plus ``_row``) and every unparseable value; empty cells
        become nulls (validation decides whether a null is allowed).
    """
    missing = [c.name for c in schema.columns if c.required and c.name not in text.columns]
    if missing:
        found = [c for c in text.columns if c != ROW_COLUMN]
        raise BadInput(f"{file}: missing required column(s) {missing}; the file has {found}")
    out = pd.DataFrame({ROW_COLUMN: text[ROW_COLUMN].astype("int64")})
    errors: list[RowError] = []
    for col in schema.columns:
        raw = text[col.name] if col.name in text.columns else pd.Series(pd.NA, index=text.index, dtype="object")
        raw = raw.astype("string").str.strip()
        raw = raw.mask(raw == "")
        typed, bad = _parse(raw, col.kind)
        out[col.name] = typed
        for idx in np.flatnonzero(bad.to_numpy()):
            value = None if col.pii else str(raw.iloc[idx])
            errors.append(RowError(file, int(out[ROW_COLUMN].iloc[idx]), col.name, f"not a valid {col.kind}", value))
        if col.identifier:
            placeholder = raw.str.lower().isin(PLACEHOLDERS).fillna(False).to_numpy(dtype=bool)
            for idx in np.flatnonzero(placeholder):
                rule = "a placeholder for a missing id, not an id"
                errors.append(RowError(file, int(out[ROW_COLUMN].iloc[idx]), col.name, rule, str(raw.iloc[idx])))
    return out, sorted(errors, key=lambda e: (e.row, e.column))


def _parse(raw: pd.Series, kind: Kind) -> tuple[pd.Series, pd.Series]:
    present = raw.notna()
    if kind == "string":
        return raw.astype(object).where(present, None), pd.Series(False, index=raw.index)
    if kind == "float":
        typed = pd.to_numeric(raw, errors="coerce").astype("float64")
        typed = typed.where(np.isfinite(typed))
    elif kind == "int":
        num = pd.to_numeric(raw, errors="coerce")
        integral = num.notna() & (num == num.round())
        typed = num.where(integral).astype("Int64")
    elif kind == "timestamp":
        typed = pd.to_datetime(raw, errors="coerce", utc=True, format="ISO8601").dt.tz_localize(None)
        typed = typed.astype("datetime64[us]")
    elif kind == "bool":
        low = raw.str.lower()
        typed = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        typed[low.isin(_TRUE).fillna(False)] = True
        typed[low.isin(_FALSE).fillna(False)] = False
    else:  # pragma: no cover - Kind is closed
        raise ValueError(kind)
    bad = present & typed.isna()
    return typed, bad
