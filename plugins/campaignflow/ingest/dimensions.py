"""Bring a shop's own customers (contacts and consent) and product catalogue into landing and raw.

Both tables are change logs: each record lands on the day it was made (its ``updated_ts``, else the
newest of its dates), and the lake's view as of D is the newest record per id among days <= D. A
record dated before the landed history lands on its first day, one dated after it on its last day
(the summary counts both), so an import never creates a day without orders.

Consent is explicit: ``marketing_consent`` is false unless the file says otherwise, and a customer
without email or phone is kept (scored, never exported). With both ``consent_ts`` and
``unsubscribed_ts`` the later event decides. Two records of one customer at the same time that
disagree keep the restrictive consent (no consent, unsubscribed) and are flagged; in ``merge`` mode a
customer landed already on a day keeps an unsubscribe the new file does not have, so a re-import never
undoes one. Per channel (``email_consent``, ``phone_consent``) the newest statement wins
(:mod:`campaignflow.ingest.consent`): a record silent on a channel, or one stating it earlier, never
reopens a channel the customer closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from campaignflow.errors import BadInput
from campaignflow.ingest.consent import newest_statements
from campaignflow.ingest.importer import ImportOptions, Mode, normalise_timestamps, reject
from campaignflow.ingest.reader import read_csv_text
from campaignflow.ingest.schemas import CUSTOMERS, PRODUCTS, ROW_COLUMN, RowError, TableSchema, coerce
from campaignflow.ingest.validation import validate_frame
from campaignflow.io import landing
from campaignflow.io.storage import ObjectStore

log = logging.getLogger(__name__)

RECORD_TS = "updated_ts"  # when a record was made: which day it lands on (not landed itself)
# Fields a mapping may name beyond the landed schema (read on import, not landed), with what they mean.
_UPDATED = "when the record was made: the day it takes effect (absent: the newest of its dates)"
EXTRA_FIELDS: dict[str, dict[str, str]] = {
    "customers": {
        "updated_ts": _UPDATED,
        "consent_ts": "when the consent was given; with unsubscribed_ts, the later event decides",
        "unsubscribed_ts": "when the customer unsubscribed; with consent_ts, the later event decides",
    },
    "products": {"updated_ts": _UPDATED},
}
SCHEMAS: dict[str, TableSchema] = {"customers": CUSTOMERS, "products": PRODUCTS}


@dataclass
class PreparedDimension:
    table: str
    frame: pd.DataFrame  # the landed columns, plus ``dt`` (the landing day) and ``_row``
    notes: list[str] = field(default_factory=list)
    flagged: dict[str, int] = field(default_factory=dict)  # unusual but kept: what and how many


def fields(table: str) -> list[str]:
    """Every field a mapping of ``table`` may name."""
    return [*SCHEMAS[table].names, *EXTRA_FIELDS[table]]


def mapped(text: pd.DataFrame, table: str, columns: dict[str, str], file: str) -> pd.DataFrame:
    """The file's columns renamed to fields: ``columns`` (field → source) first, then same-named ones.

    Raises:
        BadInput: an unknown field, or a mapped column the file does not have.
    """
    unknown = sorted(set(columns) - set(fields(table)))
    if unknown:
        raise BadInput(f"{file}: {table} have no field(s) {unknown}; the fields are {fields(table)}")
    absent = sorted(src for src in columns.values() if src not in text.columns)
    if absent:
        found = [c for c in text.columns if c != ROW_COLUMN]
        raise BadInput(f"{file}: column(s) {absent} not found; the file has {found}")
    sources = {f: columns.get(f, f) for f in fields(table) if columns.get(f, f) in text.columns}
    out = pd.DataFrame({name: text[src] for name, src in sources.items()})
    out[ROW_COLUMN] = text[ROW_COLUMN].to_numpy()
    key = SCHEMAS[table].names[0]
    if key not in out.columns:
        raise BadInput(f"{file}: no {key} column", remedy=f"name it: --col {key}=<your column>")
    return out


def prepare(
    table: str,
    text: pd.DataFrame,
    columns: dict[str, str],
    file: str,
    landed_days: list[str],
    options: ImportOptions | None = None,
    country: str | None = None,
) -> PreparedDimension:
    """Map, type and check a customers or products file, and give each record its landing day.

    Args:
        landed_days: the complete landing days (the shop's history); records land inside it.
        country: the shop's country, for customers whose country is blank (phones without a code).

    Raises:
        BadInput: a mapping problem, or no landed history to attach the records to.
        ImportRejected: unreadable values or failed rules (file, line, column, rule), nothing written.
    """
    options = options or ImportOptions()
    if not landed_days:
        raise BadInput(f"{file}: no landed days to attach {table} to", remedy="import the orders first")
    frame = mapped(text, table, columns, file)
    if frame.empty:
        raise BadInput(f"{file}: no data rows (only a header)")
    notes: list[str] = []
    errors: list[RowError] = []
    stamps = [c.name for c in SCHEMAS[table].columns if c.kind == "timestamp"] + list(EXTRA_FIELDS[table])
    for col in stamps:
        if col in frame.columns:
            frame[col] = normalise_timestamps(frame, col, file, options, errors)
    schema = SCHEMAS[table]
    for col in (c.name for c in schema.columns if c.kind == "bool" and c.name in frame.columns):
        said = frame[col].astype("string").str.strip().str.lower()
        frame[col] = frame[col].mask(said.isin(options.true_values).fillna(False), "true")
        frame[col] = frame[col].mask(said.isin(options.false_values).fillna(False), "false")
    if table == "customers":
        if "marketing_consent" not in frame.columns:
            notes.append("no marketing_consent column: nobody has consent, so nobody is exported")
        frame = frame.assign(
            marketing_consent=frame.get("marketing_consent", "false"), unsubscribed=frame.get("unsubscribed", "false")
        )
        if country:
            given = frame.get("country", pd.Series(None, index=frame.index, dtype="string"))
            frame["country"] = given.where(given.notna() & (given.astype("string").str.strip() != ""), country)
    signup_given = "signup_ts" in frame.columns
    if table == "customers" and not signup_given:  # set from the record's time below
        frame = frame.assign(signup_ts=landed_days[0])
    typed, errs = coerce(schema, frame, file)
    errors += errs
    times = {}
    for col in EXTRA_FIELDS[table]:
        extra, errs = coerce(_timestamp_schema(col), frame.assign(**{col: frame.get(col)}), file)
        times[col] = extra[col]
    if errors:
        reject(errors, file)
    flagged: dict[str, int] = {}
    if table == "customers":
        typed = _consent_events(typed, times, notes)
    record = times["updated_ts"]
    if table == "customers":
        events = [times["consent_ts"], times["unsubscribed_ts"]]
        if signup_given:
            events.append(typed["signup_ts"])
        record = record.fillna(pd.concat(events, axis=1).max(axis=1))
        if not signup_given:  # required downstream: a customer known since the record
            typed["signup_ts"] = record.fillna(pd.Timestamp(landed_days[0])).astype("datetime64[us]")
            notes.append("no signup_ts column: each customer counts as signed up when their record was made")
    day = record.dt.strftime("%Y-%m-%d")
    undated = int(day.isna().sum())
    if undated:
        notes.append(f"{undated} record(s) without a date: known from the first landed day {landed_days[0]}")
    day = day.fillna(landed_days[0])
    early, late = int((day < landed_days[0]).sum()), int((day > landed_days[-1]).sum())
    if early:
        notes.append(f"{early} record(s) dated before the history: landed on its first day {landed_days[0]}")
    if late:
        notes.append(f"{late} record(s) dated after the history: landed on its last day {landed_days[-1]}")
    typed["dt"] = day.clip(landed_days[0], landed_days[-1])
    typed["_at"] = record.fillna(pd.Timestamp(landed_days[0]))
    typed = _one_record_per_day(typed, schema, flagged)
    report = validate_frame(schema, typed)
    if not report.success:
        reject([RowError(file, r, f.column, f.rule, None) for f in report.failures for r in f.rows or [0]], file)
    flagged.update({f"{w.column}: {w.rule}": w.unexpected_count for w in report.warnings})
    log.info("%s: %d %s record(s) on %d day(s)", file, len(typed), table, typed["dt"].nunique())
    return PreparedDimension(table, typed.drop(columns="_at").reset_index(drop=True), notes, flagged)


def _timestamp_schema(col: str) -> TableSchema:
    from campaignflow.ingest.schemas import Column

    return TableSchema(col, (Column(col, "timestamp"),))


def _consent_events(typed: pd.DataFrame, times: dict[str, pd.Series], notes: list[str]) -> pd.DataFrame:
    """With both event times, the later event decides: an unsubscribe after the consent withdraws it,
    a consent after the unsubscribe is a new opt-in."""
    given, gone = times["consent_ts"], times["unsubscribed_ts"]
    both = given.notna() & gone.notna()
    if not both.any():
        return typed
    out = typed.copy()
    withdrawn, renewed = both & (gone >= given), both & (given > gone)
    out.loc[withdrawn, ["marketing_consent", "unsubscribed"]] = [False, True]
    out.loc[renewed & out["marketing_consent"].fillna(False).astype(bool), "unsubscribed"] = False
    notes.append(
        f"consent history: {int(withdrawn.sum())} unsubscribe(s) after the consent, "
        f"{int(renewed.sum())} consent(s) given again after an unsubscribe"
    )
    return out


def _one_record_per_day(typed: pd.DataFrame, schema: TableSchema, flagged: dict[str, int]) -> pd.DataFrame:
    """The newest record per id and day; records of one time that disagree keep the restrictive consent."""
    key = schema.names[0]
    typed = typed.sort_values([key, "dt", "_at", ROW_COLUMN], kind="stable")
    values = [c for c in schema.names if c != key]
    exact = typed.duplicated([key, "dt", "_at", *values])
    if exact.any():
        flagged["identical duplicate records dropped"] = int(exact.sum())
        typed = typed[~exact]
    ties = typed.duplicated([key, "dt", "_at"], keep=False)
    if ties.any():
        flagged[f"{key}s with conflicting records at one time"] = int(typed.loc[ties, key].nunique())
        if schema is CUSTOMERS:
            strict = typed[ties].groupby([key, "dt", "_at"])
            typed.loc[ties, "marketing_consent"] = strict["marketing_consent"].transform("min").to_numpy()
            typed.loc[ties, "unsubscribed"] = strict["unsubscribed"].transform("max").to_numpy()
    if schema is CUSTOMERS:  # per channel, the day's newest statement (closed on a tie)
        day_key = typed[key].astype(str) + "\x00" + typed["dt"]
        typed = newest_statements(typed.assign(_day_key=day_key), "_day_key").drop(columns="_day_key")
    return typed.drop_duplicates([key, "dt"], keep="last")


def write_landing(prepared: PreparedDimension, store: ObjectStore, mode: Mode) -> dict[str, Any]:
    """Each record into its landing day's ``<table>.csv``; days stay complete (markers untouched).

    ``refuse``: days that already have the table are an error; ``replace``: this file's records
    replace them; ``merge``: a landed id keeps its record unless this file has one for the same day
    (which replaces it, keeping a landed unsubscribe).

    Raises:
        BadInput: ``refuse`` and some of the days have the table already.
    """
    table, frame = prepared.table, prepared.frame
    schema = SCHEMAS[table]
    days = sorted(frame["dt"].unique())
    landed = [d for d in days if store.exists(landing.table_key(d, table))]
    if landed and mode == "refuse":
        raise BadInput(
            f"{len(landed)} landing day(s) have {table} already ({landed[0]} … {landed[-1]}); nothing imported",
            remedy="say how to combine them: --mode merge (newer records win, an unsubscribe is kept) "
            "or --mode replace (this file's records replace the landed ones)",
        )
    key = schema.names[0]
    for day in days:
        mine = frame[frame["dt"] == day]
        if mode == "merge" and day in landed:
            mine = _merge(store, day, table, mine)
        store.write_bytes(landing.table_key(day, table), landing.to_csv(mine.sort_values(key)[schema.names]))
    return {
        "table": table,
        "records": len(frame),
        "ids": int(frame[key].nunique()),
        "days": len(days),
        "from": days[0],
        "to": days[-1],
        "mode": mode,
    }


def _merge(store: ObjectStore, day: str, table: str, mine: pd.DataFrame) -> pd.DataFrame:
    schema = SCHEMAS[table]
    key = schema.names[0]
    uri = store.full_uri(landing.table_key(day, table))
    existing, errors = coerce(schema, read_csv_text(store.read_bytes(landing.table_key(day, table)), uri), uri)
    if errors:
        raise BadInput(f"{uri}: the landed file cannot be merged: {errors[0]}")
    both = pd.concat([existing.assign(dt=day), mine], ignore_index=True)
    if table == "customers":  # a landed unsubscribe or closed channel survives a re-import of an older export
        both["unsubscribed"] = both.groupby(key)["unsubscribed"].transform("max")
        return newest_statements(both, key)
    return both.drop_duplicates(key, keep="last")


PRICE_TOLERANCE = 0.5  # a catalogue price this far (relative) from what the lines were sold at is flagged


def price_disagreements(catalogue: pd.DataFrame, lines: pd.DataFrame) -> int:
    """Products whose catalogue price differs from the median unit price of their order lines by more
    than :data:`PRICE_TOLERANCE` (discounts and price changes are real: flagged, never refused)."""
    sold = lines.groupby("product_id", observed=True)["unit_price"].median()
    both = catalogue.drop_duplicates("product_id", keep="last").set_index("product_id")["price"]
    both = both[both.index.isin(sold.index)]
    median = sold.reindex(both.index)
    off = (both - median).abs() > PRICE_TOLERANCE * median.abs()
    return int(off.sum())


def affected_days(prepared: PreparedDimension) -> tuple[str, str]:
    """The first and last landing day the import wrote (to load into raw again)."""
    days = np.sort(prepared.frame["dt"].unique())
    return str(days[0]), str(days[-1])
