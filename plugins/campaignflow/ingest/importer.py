"""Bring your own data: a plain order log (customer, timestamp, amount) into landing and raw.

A log may be order-level (one row per order) or, with a product column, line-level (one row per
order line: rows sharing an order id make one order whose amount is the sum of its lines). Rows
with a negative quantity or amount, or whose order id starts with a cancellation prefix, are
returns and land in the ``returns`` table, never as orders.

The whole file is checked before anything is written: unreadable values and rule violations are
reported with file, line, column and rule (never the value of a PII column), and then nothing
lands. An import whose days overlap days already in the landing zone is refused unless the caller
says how to combine them: ``merge`` (add orders not yet there; an order id already there with
different content is an error) or ``replace`` (the file's days replace the landed ones).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from campaignflow.errors import BadInput, ImportRejected, StorageUnavailable
from campaignflow.ingest.reader import CsvOptions, read_csv_text
from campaignflow.ingest.schemas import ORDER_LINES, ORDERS, RETURNS, ROW_COLUMN, RowError, TableSchema, coerce
from campaignflow.ingest.validation import validate_frame, with_lag
from campaignflow.io import datasets, landing
from campaignflow.io.lake import Lake
from campaignflow.io.storage import ObjectStore
from campaignflow.settings import EARLIEST_DATE

log = logging.getLogger(__name__)

Mode = Literal["refuse", "merge", "replace"]
NAMED_TIMESTAMP_FORMATS = ("auto", "iso", "epoch_s", "epoch_ms", "excel")
# Dates written the local way: 11/1/2000, 01.03.2024, 1-3-2024 (day and month in either order), maybe a time.
_LOCAL_DATE = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_MAX_SHOWN = 10


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column holds each field; customer, timestamp and amount (or quantity × unit price)."""

    customer_id: str = "customer_id"
    order_ts: str = "order_ts"
    amount: str | None = "amount"
    order_id: str | None = None
    currency: str | None = None
    product_id: str | None = None  # given: each row is an order line and amount is the line total
    quantity: str | None = None
    unit_price: str | None = None  # with quantity and no amount: line total = quantity × unit price

    def rename(self) -> dict[str, str]:
        fields = {
            "customer_id": self.customer_id,
            "order_ts": self.order_ts,
            "amount": self.amount,
            "order_id": self.order_id,
            "currency": self.currency,
            "product_id": self.product_id,
            "quantity": self.quantity,
            "unit_price": self.unit_price,
        }
        return {src: name for name, src in fields.items() if src}


@dataclass(frozen=True)
class ImportOptions:
    """How to read the values of a log (see ``campaignflow import-orders --help``)."""

    csv: CsvOptions = field(default_factory=CsvOptions)
    decimal_comma: bool = False  # "1.234,56" means 1234.56
    timezone: str | None = None  # zone of timestamps written without an offset (None: UTC)
    timestamp_format: str = "auto"  # one of NAMED_TIMESTAMP_FORMATS, or a strftime pattern ("%d.%m.%Y %H:%M")
    return_prefix: str | None = None  # order ids starting with this are cancellations (e.g. "C")
    non_merchandise: frozenset[str] = frozenset()  # product codes that are not products (postage, fees)
    currency: str | None = None  # for orders without a currency column (None: UNK; amounts never converted)
    true_values: frozenset[str] = frozenset()  # yes/no columns written another way ("ja", "oui"), lower case
    false_values: frozenset[str] = frozenset()
    now: datetime | None = None  # orders after this are rejected as future-dated (None: the clock)


@dataclass
class ImportedLog:
    orders: pd.DataFrame  # typed orders with a ``dt`` (order day) column
    lines: pd.DataFrame | None  # typed order lines with ``dt``, when the log names products
    returns: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[*RETURNS.names, "dt"]))
    notes: list[str] = field(default_factory=list)  # how the log was read, for the import's summary


def read_source(path: Path, options: CsvOptions | None = None) -> pd.DataFrame:
    """All columns as text, with ``_row`` = CSV line number (Parquet: row number + 1).

    Raises:
        BadInput: not a readable CSV or Parquet file (names the file and the reason).
    """
    if not path.exists():
        raise BadInput(f"{path}: no such file")
    if path.is_dir():
        raise BadInput(f"{path}: is a directory; name one CSV or Parquet file (import several one by one)")
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        raise BadInput(f"{path}: an Excel workbook", remedy="save the sheet as CSV (UTF-8) or Parquet and import that")
    data = path.read_bytes()
    if path.suffix.lower() in (".parquet", ".pq") or data[:4] == b"PAR1":
        return _parquet_as_text(data, path)
    return read_csv_text(data, str(path), options or CsvOptions())


def _parquet_as_text(data: bytes, path: Path) -> pd.DataFrame:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as err:
        raise BadInput(f"{path}: not a readable Parquet file (truncated or damaged?): {err}") from None
    frame = pd.DataFrame(index=range(table.num_rows))
    for name in table.column_names:
        column = table.column(name).to_pandas()
        frame[name] = _as_text(column)
    frame[ROW_COLUMN] = np.arange(2, len(frame) + 2)
    return frame


def _as_text(column: pd.Series) -> pd.Series:
    """Values as a shop would write them: ids stored as floats (42.0) become "42", not "42.0"."""
    present = column.notna()
    if pd.api.types.is_float_dtype(column) and (column[present] == column[present].round()).all():
        return column.astype("Int64").astype("string")
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.map(lambda v: v.isoformat() if pd.notna(v) else None).astype("string")
    return column.astype("string").where(present, None)


def prepare_orders(
    text: pd.DataFrame, mapping: ColumnMapping, file: str, options: ImportOptions | None = None
) -> ImportedLog:
    """Map, type and validate an order log; split off returns; derive missing order ids.

    Raises:
        BadInput: a mapped column is missing or an option cannot apply.
        ImportRejected: with every unreadable value or failed rule (file, line, column, rule).
    """
    options = options or ImportOptions()
    _check_mapping(text, mapping, file)
    frame = text[[*mapping.rename(), ROW_COLUMN]].rename(columns=mapping.rename())
    if frame.empty:
        raise BadInput(f"{file}: no data rows (only a header)")
    errors: list[RowError] = []
    frame["order_ts"] = normalise_timestamps(frame, "order_ts", file, options, errors)
    if options.decimal_comma:
        _check_decimal_comma(frame, file)
    for col in ("amount", "quantity", "unit_price"):
        if col in frame.columns and options.decimal_comma:
            frame[col] = frame[col].str.replace(r"[.\s']", "", regex=True).str.replace(",", ".", regex=False)
    if "amount" not in frame.columns:
        qty = pd.to_numeric(frame["quantity"], errors="coerce")
        price = pd.to_numeric(frame["unit_price"], errors="coerce")
        frame["amount"] = (qty * price).round(4).astype("string")
        frame.loc[qty.isna() | price.isna(), "amount"] = frame["quantity"].where(qty.isna(), frame["unit_price"])
    notes = []
    if "order_id" not in frame.columns:
        per_day = mapping.product_id is not None
        frame["order_id"] = _derived_ids(frame, per_day)
        notes.append(
            "no order id: each customer's lines on one day are one order"
            if per_day
            else "no order id: each row is one order (ids derived from customer, time and amount)"
        )
    if "quantity" not in frame.columns:
        frame["quantity"] = "1"
    is_return = _is_return(frame, options)
    for col in ("amount", "quantity"):  # a return's value and quantity are recorded as positive
        frame.loc[is_return, col] = frame.loc[is_return, col].str.lstrip("-")
    typed, errs = coerce(ORDERS, frame, file)
    errors += errs
    lines = None
    if mapping.product_id:
        line_text = frame.assign(unit_price="0")
        lines, line_errors = coerce(ORDER_LINES, line_text, file)
        errors += [e for e in line_errors if e.column == "quantity"]
    returns, return_errors = coerce(RETURNS, _return_text(frame, options), file)
    errors += [e for e in return_errors if e.column == "quantity"]
    errors += _date_rules(typed, file, options)
    if errors:
        reject(errors, file)
    typed["dt"] = typed["order_ts"].dt.strftime("%Y-%m-%d")
    typed["currency"] = typed["currency"].fillna(options.currency or "UNK")
    returns = returns[is_return].copy()
    returns["dt"] = typed.loc[is_return, "dt"]
    typed = typed[~is_return]
    if lines is not None:
        other = ~is_return & (lines["quantity"].eq(0).fillna(False) | lines["product_id"].isin(options.non_merchandise))
        if other.any():
            notes.append(
                f"{int(other.sum())} non-merchandise line(s) (quantity 0, or a code given as non-merchandise) "
                "count in their orders' amounts but are not products"
            )
        lines = lines[~is_return & ~other].copy()
        lines["unit_price"] = (typed["amount"] / lines["quantity"].astype("float64")).round(4)
        typed = _orders_from_lines(typed, file)
        lines["dt"] = lines["order_id"].map(typed.set_index("order_id")["dt"])
        _check(ORDER_LINES, lines, file)
    else:
        _check_one_day_per_order(typed, file)
    _check(ORDERS, typed, file)
    if len(returns):
        _check(RETURNS, returns, file)
    notes += _unusual_ids(typed, returns)
    log.info("%s: %d orders, %d returns, %d lines", file, len(typed), len(returns), 0 if lines is None else len(lines))
    return ImportedLog(typed.reset_index(drop=True), lines, returns.reset_index(drop=True), notes)


def _check_decimal_comma(frame: pd.DataFrame, file: str) -> None:
    """``--decimal-comma`` on a file written with decimal points would multiply its amounts by 100."""
    for col in ("amount", "unit_price"):
        if col not in frame.columns:
            continue
        values = frame[col].dropna().astype(str).str.strip()
        if not values.str.contains(",", regex=False).any() and values.str.fullmatch(r"-?\d+\.\d{1,2}").any():
            raise BadInput(
                f"{file}: --decimal-comma was given, but column {col!r} is written with decimal points "
                "and no commas (as 19.90): read that way every amount would be 100 times too large",
                remedy="import again without --decimal-comma",
            )


def _unusual_ids(orders: pd.DataFrame, returns: pd.DataFrame) -> list[str]:
    """Notes on ids that are real but worth a look: customers told apart only by case, returns of
    orders this file does not hold (bought before its history, or unknown)."""
    notes = []
    ids = pd.Series(orders["customer_id"].unique(), dtype="string")
    folded = ids.str.casefold()
    clashes = int(folded.duplicated(keep=False).sum())
    if clashes:
        notes.append(
            f"{clashes} customer id(s) differ from another only in upper/lower case: kept as different customers"
        )
    named = returns["order_id"].dropna()
    unknown = int((~named.isin(orders["order_id"])).sum())
    if unknown:
        notes.append(
            f"{unknown} return line(s) name an order this file does not hold (older, or unknown): kept as returns"
        )
    return notes


def _check_mapping(text: pd.DataFrame, mapping: ColumnMapping, file: str) -> None:
    absent = [src for src in mapping.rename() if src not in text.columns]
    if absent:
        found = [c for c in text.columns if c != ROW_COLUMN]
        raise BadInput(f"{file}: column(s) {absent} not found; the file has {found}")
    if mapping.quantity and not mapping.product_id:
        raise BadInput(f"{file}: a quantity column needs a product column (--product-col)")
    if not mapping.amount and not (mapping.quantity and mapping.unit_price):
        raise BadInput(f"{file}: name an amount column, or a quantity and a unit price column")


def normalise_timestamps(
    frame: pd.DataFrame, column: str, file: str, options: ImportOptions, errors: list[RowError]
) -> pd.Series:
    """ISO-8601 UTC text for every readable timestamp of ``column`` (each unreadable one an error)."""
    raw = frame[column].astype("string").str.strip()
    kind = options.timestamp_format
    if kind not in NAMED_TIMESTAMP_FORMATS and "%" not in kind:
        raise BadInput(
            f"--timestamp-format {kind!r} is neither a named format nor a strftime pattern",
            remedy=f"use one of {', '.join(NAMED_TIMESTAMP_FORMATS)} or a pattern such as '%d.%m.%Y %H:%M'",
        )
    numeric = pd.to_numeric(raw, errors="coerce")
    if kind == "auto" and numeric.notna().all() and len(raw):
        hint = "epoch_ms" if (numeric > 1e11).all() else "epoch_s" if (numeric > 1e8).all() else "excel"
        raise BadInput(
            f"{file}: column {column!r} holds numbers, not dates",
            remedy=f"say how to read them: --timestamp-format {hint} (or epoch_s, epoch_ms, excel)",
        )
    if kind in ("epoch_s", "epoch_ms"):
        _check_epoch_unit(numeric, column, kind, file)
        parsed = pd.to_datetime(numeric, unit=kind.removeprefix("epoch_"), utc=True)
    elif kind == "excel":
        parsed = (_EXCEL_EPOCH + pd.to_timedelta(numeric, unit="D")).dt.tz_localize("UTC")
    elif "%" in kind:
        try:
            parsed = _localised(pd.to_datetime(raw, errors="coerce", format=kind), options)
        except ValueError as err:
            raise BadInput(f"--timestamp-format {kind!r} is not a usable strftime pattern ({err})") from None
    else:
        try:
            parsed = pd.to_datetime(raw, errors="coerce", format="ISO8601")
        except (ValueError, TypeError):  # mixed offsets, or offsets and naive values mixed
            parsed = pd.Series(dtype=object)
        if not pd.api.types.is_datetime64_any_dtype(parsed):
            parsed = raw.map(_parse_one)
            parsed = parsed.map(lambda ts: ts if ts is None or ts.tzinfo else ts.tz_localize(options.timezone or "UTC"))
            parsed = pd.to_datetime(parsed, utc=True)
        elif kind == "auto" and parsed.isna().all() and raw.notna().any():
            parsed = _localised(_local_dates(raw, column, file), options)
        else:
            parsed = _localised(parsed, options)
        parsed = parsed.dt.tz_convert("UTC")
    bad = raw.notna() & parsed.isna()
    for idx in np.flatnonzero(bad.to_numpy(dtype=bool)):
        row = int(frame[ROW_COLUMN].iloc[idx])
        errors.append(RowError(file, row, column, f"not a valid timestamp ({kind})", str(raw.iloc[idx])))
    return parsed.dt.tz_localize(None).dt.strftime("%Y-%m-%dT%H:%M:%S.%f").where(~bad & raw.notna(), "")


def _check_epoch_unit(numeric: pd.Series, column: str, kind: str, file: str) -> None:
    """Epoch seconds are about 1e9 today, milliseconds about 1e12: a unit that does not fit is refused."""
    present = numeric.dropna()
    if present.empty:
        return
    big = bool((present.abs() > 1e11).all())
    if big != (kind == "epoch_ms"):
        other = "epoch_ms" if kind == "epoch_s" else "epoch_s"
        raise BadInput(
            f"{file}: column {column!r}: the numbers (median {present.median():.0f}) are not {kind}",
            remedy=f"import again with --timestamp-format {other}",
        )


def _localised(parsed: pd.Series, options: ImportOptions) -> pd.Series:
    """Naive timestamps read in ``options.timezone`` (UTC when none), as UTC."""
    if parsed.dt.tz is not None:
        return parsed.dt.tz_convert("UTC")
    try:
        local = parsed.dt.tz_localize(options.timezone or "UTC", ambiguous="NaT", nonexistent="NaT")
    except Exception as err:  # unknown zone name
        raise BadInput(f"--timezone {options.timezone!r} is not a time zone name ({err})") from None
    return local.dt.tz_convert("UTC")


def local_date_format(values: pd.Series, column: str, file: str) -> str | None:
    """The strftime pattern of dates written the local way (``11/1/2000``, ``01.03.2024 10:30``).

    Returns None when the values are not such dates. The day/month order is read from the values
    themselves: a first field over 12 is a day, a second one over 12 is a day.

    Raises:
        BadInput: the order cannot be told (every day of the file is 12 or less), or both orders occur.
    """
    parts = values.dropna().str.extract(_LOCAL_DATE)
    if parts.empty or parts[0].isna().any():
        return None
    first, second = parts[0].astype(int), parts[2].astype(int)
    sep = parts[1].iloc[0]
    if (parts[1] != sep).any():
        return None
    day_first, month_first = (first > 12).any(), (second > 12).any()
    both = f"'%d{sep}%m{sep}%Y' (day first) or '%m{sep}%d{sep}%Y' (month first)"
    if day_first == month_first:
        why = "both orders occur" if day_first else "no day in the file is over 12, so the order cannot be told"
        raise BadInput(
            f"{file}: column {column!r} holds dates written the local way ({why})",
            remedy=f"say how they are written: --timestamp-format {both}, with ' %H:%M' if they carry a time",
        )
    date_part = f"%d{sep}%m{sep}%Y" if day_first else f"%m{sep}%d{sep}%Y"
    times = parts[4].dropna()
    if times.empty:
        return date_part
    return date_part + (" %H:%M:%S" if times.str.count(":").max() == 2 else " %H:%M")


def _local_dates(raw: pd.Series, column: str, file: str) -> pd.Series:
    pattern = local_date_format(raw, column, file)
    if pattern is None:
        return pd.to_datetime(raw, errors="coerce", format="ISO8601")
    log.info("%s: reading %s as %s (the day/month order follows from the values)", file, column, pattern)
    date_only = pattern.split(" ")[0]
    parsed = pd.to_datetime(raw, errors="coerce", format=pattern)
    return parsed.fillna(pd.to_datetime(raw, errors="coerce", format=date_only))


def _parse_one(value: Any) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(value) if pd.notna(value) else None
    except (ValueError, TypeError):
        return None


def _is_return(frame: pd.DataFrame, options: ImportOptions) -> pd.Series:
    negative = frame["amount"].str.strip().str.startswith("-").fillna(False)
    negative |= frame["quantity"].str.strip().str.startswith("-").fillna(False)
    if options.return_prefix:
        negative |= frame["order_id"].str.startswith(options.return_prefix).fillna(False)
    return negative.astype(bool)


def _return_text(frame: pd.DataFrame, options: ImportOptions) -> pd.DataFrame:
    """A return's own id is its invoice's; the original order is known only for a negative line of a
    plain order (a cancellation invoice, ``C536379``, does not name the order it cancels)."""
    out = frame.assign(return_id=frame["order_id"], return_ts=frame["order_ts"])
    if options.return_prefix:
        out.loc[out["order_id"].str.startswith(options.return_prefix).fillna(False), "order_id"] = None
    if "product_id" not in out.columns:
        out["product_id"] = None
    return out


def _date_rules(orders: pd.DataFrame, file: str, options: ImportOptions) -> list[RowError]:
    """Placeholder dates (before the earliest date) and dates after now are never orders."""
    now = pd.Timestamp(options.now or datetime.now(UTC)).tz_localize(None)
    errors = []
    rules = (
        (orders["order_ts"] < pd.Timestamp(EARLIEST_DATE), f"dated before {EARLIEST_DATE} (a placeholder date?)"),
        (orders["order_ts"] > now, f"dated in the future (after {now:%Y-%m-%d %H:%M} UTC)"),
    )
    for mask, rule in rules:
        for idx in np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool)):
            value = str(orders["order_ts"].iloc[idx])
            errors.append(RowError(file, int(orders[ROW_COLUMN].iloc[idx]), "order_ts", rule, value))
    return errors


def reject(errors: list[RowError], file: str) -> None:
    """Raise every problem of a file at once (the first few shown, all in the report)."""
    errors.sort(key=lambda e: (e.row, e.column))
    shown = "\n  ".join(str(e) for e in errors[:_MAX_SHOWN])
    more = f"\n  ... and {len(errors) - _MAX_SHOWN} more" if len(errors) > _MAX_SHOWN else ""
    raise ImportRejected(
        f"{len(errors)} problem(s), nothing imported:\n  {shown}{more}",
        {"file": file, "errors": [vars(e) for e in errors]},
        remedy=_remedy(errors),
    )


def _remedy(errors: list[RowError]) -> str:
    if any(e.rule.startswith("not a valid timestamp") for e in errors):
        return (
            "fix the rows named above, or say how the timestamps are written: --timestamp-format with a "
            "pattern such as '%d.%m.%Y %H:%M' or '%m/%d/%Y' (or epoch_s, epoch_ms, excel), then import again"
        )
    return ImportRejected.default_remedy


def _orders_from_lines(lines: pd.DataFrame, file: str) -> pd.DataFrame:
    """One order per order id: its customer, earliest time, summed amount; one customer and day each."""
    owners = lines.groupby("order_id")["customer_id"].nunique()
    shared = owners[owners > 1].index
    if len(shared):
        rows = sorted(lines.loc[lines["order_id"].isin(shared), ROW_COLUMN].tolist())[:_MAX_SHOWN]
        raise ImportRejected(
            f"{file}: {len(shared)} order id(s) appear with more than one customer (lines {rows}), nothing imported",
            {"file": file, "column": "order_id", "rule": "one customer per order", "rows": rows},
        )
    _check_one_day_per_order(lines, file)
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


def _check_one_day_per_order(frame: pd.DataFrame, file: str) -> None:
    """An order id is one order: on one day (order-level logs: also one row)."""
    days = frame.groupby("order_id")["dt"].nunique()
    reused = days[days > 1].index
    if len(reused):
        rows = sorted(frame.loc[frame["order_id"].isin(reused), ROW_COLUMN].tolist())[:_MAX_SHOWN]
        raise ImportRejected(
            f"{file}: column 'order_id' fails rule 'one order id, one day' for {len(reused)} id(s) "
            f"(lines {rows}), nothing imported",
            {"file": file, "column": "order_id", "rule": "one order id, one day", "rows": rows},
        )


def _check(schema: TableSchema, frame: pd.DataFrame, file: str) -> None:
    report = validate_frame(schema, with_lag(schema, frame, frame["dt"]))
    if not report.success:
        lines = "\n  ".join(f.describe(file) for f in report.failures)
        raise ImportRejected(f"order log failed validation, nothing imported:\n  {lines}", report.to_dict())


# -- landing -------------------------------------------------------------------------------------


def write_landing(imported: ImportedLog, store: ObjectStore, mode: Mode = "refuse") -> dict[str, Any]:
    """One landing day per day from the first to the last order (empty days included).

    Days already landed are combined as ``mode`` says; every day's files are written before any
    completion marker, so an interrupted import marks no new day complete.

    Raises:
        BadInput: overlapping days with ``mode="refuse"``, or conflicting order ids with ``"merge"``.
        StorageUnavailable: the store stopped answering part-way (the import can be re-run).
    """
    orders = imported.orders
    first, last = orders["dt"].min(), orders["dt"].max()
    if len(imported.returns):
        first, last = min(first, imported.returns["dt"].min()), max(last, imported.returns["dt"].max())
    days = list(pd.date_range(first, last, freq="D").strftime("%Y-%m-%d"))
    overlap = [d for d in landing.present_dates(store) if first <= d <= last]
    if overlap and mode == "refuse":
        raise BadInput(
            f"the landing zone {store.uri} already has {len(overlap)} day(s) between {first} and {last} "
            f"({overlap[0]} … {overlap[-1]}); nothing imported",
            remedy="say how to combine them: --mode merge (add orders not yet landed) "
            "or --mode replace (this file's days replace the landed ones)",
        )
    tables = _day_tables(imported)
    planned: dict[str, dict[str, pd.DataFrame]] = {}
    for day in days:
        mine = {name: frame[frame["dt"] == day] for name, (frame, _, _) in tables.items()}
        if mode == "merge" and day in overlap:
            mine = _merge_day(store, day, mine, tables)
        planned[day] = mine
    written = 0
    try:
        for day in days:
            for name, frame in planned[day].items():
                schema, order = tables[name][1], tables[name][2]
                store.write_bytes(landing.table_key(day, name), landing.to_csv(frame.sort_values(order)[schema.names]))
            written += 1
        for day in days:
            store.write_bytes(landing.marker_key(day), b"")
    except StorageUnavailable as err:
        raise StorageUnavailable(
            f"{err}; {written} of {len(days)} day(s) written, no new day marked complete",
            remedy="when the store is back, run the same import again with --mode replace (it is idempotent)",
        ) from err
    return {
        "rows": len(orders),
        "returns": len(imported.returns),
        "customers": int(orders["customer_id"].nunique()),
        "from": days[0],
        "to": days[-1],
        "days": len(days),
        "mode": mode,
        "overlapping_days": len(overlap),
        **({"notes": imported.notes} if imported.notes else {}),
    }


def check_ids_against_lake(imported: ImportedLog, lake: Lake, mode: Mode) -> None:
    """An order id already committed on another day is the same order, not a new one: refuse it.

    Days this import replaces (``mode="replace"``) do not count; in ``merge`` mode an id landed on
    the same day is the merge's to compare.
    """
    new = imported.orders[["order_id", "dt", ROW_COLUMN]]
    first, last = new["dt"].min(), new["dt"].max()
    clashes = []
    for dt in lake.committed_dates(datasets.raw("orders")):
        if mode == "replace" and first <= dt <= last:
            continue
        landed = set(lake.read_frame(datasets.raw("orders").at(dt), columns=["order_id"])["order_id"])
        hit = new[new["order_id"].isin(landed) & (new["dt"] != dt)]
        clashes += [
            (oid, dt, day, row) for oid, day, row in zip(hit["order_id"], hit["dt"], hit[ROW_COLUMN], strict=True)
        ]
    if clashes:
        clashes.sort(key=lambda c: c[3])
        shown = ", ".join(
            f"line {row}: {oid} (landed {old}, here {day})" for oid, old, day, row in clashes[:_MAX_SHOWN]
        )
        raise BadInput(
            f"{len(clashes)} order id(s) are already in the lake on another day: {shown}; nothing imported",
            remedy="an order id names one order: fix the ids, or --mode replace if the landed days were wrong",
        )


def _day_tables(imported: ImportedLog) -> dict[str, tuple[pd.DataFrame, TableSchema, list[str]]]:
    tables = {"orders": (imported.orders, ORDERS, ["order_ts", "order_id"])}
    if imported.lines is not None:
        tables["order_lines"] = (imported.lines, ORDER_LINES, ["order_id", "product_id", ROW_COLUMN])
    tables["returns"] = (imported.returns, RETURNS, ["return_ts", "return_id"])
    return tables


def _merge_day(
    store: ObjectStore,
    day: str,
    mine: dict[str, pd.DataFrame],
    tables: dict[str, tuple[pd.DataFrame, TableSchema, list[str]]],
) -> dict[str, pd.DataFrame]:
    """Landed rows of ``day`` plus this import's rows that are not landed yet."""
    out = dict(mine)
    for name, (_, schema, _) in tables.items():
        key = landing.table_key(day, name)
        if not store.exists(key):
            continue
        existing, errors = coerce(schema, read_csv_text(store.read_bytes(key), store.full_uri(key)), key)
        if errors:
            raise BadInput(f"{store.full_uri(key)}: the landed file cannot be merged: {errors[0]}")
        id_col = "return_id" if name == "returns" else "order_id"
        new = mine[name]
        value_cols = [c for c in schema.names if c not in (id_col, "currency")]
        differ = _differing_ids(new, existing, id_col, value_cols)
        if differ:
            raise BadInput(
                f"{store.full_uri(key)}: {len(differ)} {id_col}(s) are landed already with different "
                f"values ({differ[:_MAX_SHOWN]}); nothing imported",
                remedy="use --mode replace if this file is the corrected export of those days",
            )
        fresh = new[~new[id_col].isin(existing[id_col])]
        out[name] = pd.concat([existing.assign(dt=day), fresh], ignore_index=True)
    return out


def _differing_ids(new: pd.DataFrame, existing: pd.DataFrame, id_col: str, value_cols: list[str]) -> list[str]:
    """Ids in both frames whose rows differ (an id may have several rows: an order's lines, a return's)."""

    def rows_per_id(frame: pd.DataFrame) -> pd.Series:
        text = frame[value_cols].astype("string").fillna("\x00").agg("\x1f".join, axis=1)
        return text.groupby(frame[id_col]).agg(lambda rows: "\x1e".join(sorted(rows)))

    if new.empty or existing.empty:
        return []
    ours, theirs = rows_per_id(new), rows_per_id(existing)
    both = ours.index.intersection(theirs.index)
    return sorted(str(i) for i in both if ours[i] != theirs[i])


def _derived_ids(frame: pd.DataFrame, per_day: bool) -> list[str]:
    """Stable ids for logs without one: a line-level log's order is its customer's day (the basket),
    an order-level log's is its row (hash of customer, timestamp, amount and occurrence)."""
    if per_day:
        customer, days = frame["customer_id"].astype(str).str.strip(), frame["order_ts"].astype(str).str[:10]
        return ["D" + hashlib.sha256(f"{c}|{d}".encode()).hexdigest()[:16] for c, d in zip(customer, days, strict=True)]
    key = frame["customer_id"].astype(str) + "|" + frame["order_ts"].astype(str) + "|" + frame["amount"].astype(str)
    occurrence = key.groupby(key).cumcount().astype(str)
    return ["I" + hashlib.sha256(f"{k}|{n}".encode()).hexdigest()[:16] for k, n in zip(key, occurrence, strict=True)]
