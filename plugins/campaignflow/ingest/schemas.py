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

    def arrow_schema(self) -> pa.Schema:
        """The typed layout of a raw partition: the columns plus ``_row``."""
        return pa.schema([pa.field(c.name, _ARROW[c.kind]) for c in self.columns] + [pa.field(ROW_COLUMN, pa.int64())])


ORDERS = TableSchema(
    "orders",
    (
        Column("order_id", "string", required=True, identifier=True),
        Column("customer_id", "string", required=True, identifier=True),
        Column("order_ts", "timestamp", required=True),
        Column("amount", "float", required=True),
        Column("currency", "string"),
    ),
    time_column="order_ts",
    unique_key="order_id",
)
ORDER_LINES = TableSchema(
    "order_lines",
    (
        Column("order_id", "string", required=True, identifier=True),
        Column("product_id", "string", required=True, identifier=True),
        Column("quantity", "int", required=True),
        Column("unit_price", "float", required=True),
    ),
)
EVENTS = TableSchema(
    "events",
    (
        Column("event_id", "string", required=True, identifier=True),
        Column("customer_id", "string", required=True, identifier=True),
        Column("event_ts", "timestamp", required=True),
        Column("event_type", "string", required=True),
        Column("product_id", "string"),
    ),
    time_column="event_ts",
    unique_key="event_id",
    max_lateness_days=7,
)
CUSTOMERS = TableSchema(
    "customers",
    (
        Column("customer_id", "string", required=True, identifier=True),
        Column("email", "string", pii=True),
        Column("phone", "string", pii=True),
        Column("country", "string"),
        Column("signup_ts", "timestamp", required=True),
        Column("marketing_consent", "bool", required=True),
        Column("unsubscribed", "bool", required=True),
    ),
    unique_key="customer_id",
)
PRODUCTS = TableSchema(
    "products",
    (
        Column("product_id", "string", required=True, identifier=True),
        Column("category", "string", required=True),
        Column("price", "float", required=True),
    ),
    unique_key="product_id",
)

# Line level, like a shop's cancellation invoices: one row per returned product, so a return id (a
# cancellation invoice, a refund basket) may repeat on its lines, and a line may repeat a product.
RETURNS = TableSchema(
    "returns",
    (
        Column("return_id", "string", required=True, identifier=True),
        Column("customer_id", "string", required=True, identifier=True),
        Column("return_ts", "timestamp", required=True),
        Column("amount", "float", required=True),  # value refunded, as a positive number
        Column("order_id", "string", identifier=True),  # the original order, when known
        Column("product_id", "string", identifier=True),
        Column("quantity", "int"),
        Column("currency", "string"),
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
