"""Landing → staging → raw: type a day's export, validate it, then commit it or quarantine it.

``stage_day`` turns each landing file into a typed Parquet partition in the ``staging`` zone; a
file that cannot be read or typed rejects the whole day, which is quarantined with a report.
``promote_days`` validates staged partitions with the GX suites and either commits them to ``raw``
or moves them, with a report naming file, column, rule and lines, to ``quarantine``. Nothing in
``raw`` is touched by a rejected batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from campaignflow.errors import BadInput, BatchRejected
from campaignflow.ingest.reader import read_csv_text
from campaignflow.ingest.schemas import ROW_COLUMN, TABLES, RowError, TableSchema, coerce
from campaignflow.ingest.validation import ValidationReport, validate_frame, with_lag
from campaignflow.io import datasets, landing
from campaignflow.io.lake import Lake
from campaignflow.io.storage import ObjectStore

log = logging.getLogger(__name__)

_MAX_ERRORS_SHOWN = 10


@dataclass
class StageResult:
    dt: str
    rows: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def stage_day(store: ObjectStore, lake: Lake, dt: str) -> StageResult:
    """Parse and type every landing file of ``dt`` into ``staging/<table>/dt=``.

    Raises:
        BatchRejected: a required table is missing, a file cannot be read, or it has unparseable
            values; the landing files are quarantined with the report and nothing is staged.
    """
    files = landing.table_files(store, dt, tuple(TABLES))
    typed: dict[str, pd.DataFrame] = {}
    errors: list[RowError] = []
    problems: list[str] = [
        f"{store.full_uri(landing.day_prefix(dt))}: no {t}.csv in the day's export"
        for t in datasets.REQUIRED_RAW_TABLES
        if t not in files
    ]
    columns: dict[str, dict[str, list[str]]] = {}
    headers: dict[str, list[str]] = {}
    for table, key in sorted(files.items()):
        source = store.full_uri(key)
        try:
            text = read_csv_text(store.read_bytes(key), source)
            frame, errs = coerce(TABLES[table], text, source)
        except BadInput as err:
            problems.append(str(err))
            continue
        typed[table] = frame
        headers[table] = [c for c in text.columns if c != ROW_COLUMN]
        columns[table] = column_changes(TABLES[table].names, headers[table], _previous_header(lake, table, dt))
        errors.extend(errs)
    if problems or errors:
        report = {
            "dt": dt,
            "stage": "parse",
            "rows": sum(map(len, typed.values())),
            "problems": problems,
            "errors": [vars(e) for e in errors[:1000]],
            "error_count": len(errors),
        }
        where = _quarantine_landing(store, lake, dt, files, report)
        raise BatchRejected(_summarise(problems, errors) + f"\n  quarantined: {where}", report)
    result = StageResult(dt, missing=sorted(set(TABLES) - set(files)))
    for table, frame in typed.items():
        if columns[table]:
            log.warning("%s: the export's columns changed: %s", store.full_uri(files[table]), columns[table])
        lake.write_frame(
            datasets.staging(table).at(dt),
            frame[[*TABLES[table].names, ROW_COLUMN]],
            {
                "source": store.full_uri(files[table]),
                "header": headers[table],
                **({"columns": columns[table]} if columns[table] else {}),
            },
            schema=TABLES[table].arrow_schema(),
        )
        result.rows[table] = len(frame)
    log.info("staged %s: %s (absent: %s)", dt, result.rows, result.missing or "none")
    return result


def column_changes(expected: list[str], header: list[str], before: list[str] | None) -> dict[str, list[str]]:
    """How a landing file's columns changed since the table's previous day (``before``; None: its
    first day): new columns outside the contract (ignored), contract columns no longer sent (now
    null). Flagged in the manifest and the summary, never refused."""
    known = set(before or ())
    extra = sorted(set(header) - set(expected) - known)
    lost = sorted((known & set(expected)) - set(header))
    return {k: v for k, v in (("ignored", extra), ("absent", lost)) if v}


def _previous_header(lake: Lake, table: str, dt: str) -> list[str] | None:
    """The columns of the table's newest day before ``dt``, staged or raw (None: none, or committed
    before headers were recorded)."""
    days = [
        (d, ref)
        for ref in (datasets.raw(table), datasets.staging(table))
        for d in lake.committed_dates(ref, end=dt)
        if d < dt
    ]
    if not days:
        return None
    day, ref = max(days, key=lambda dr: dr[0])
    return lake.manifest(ref.at(day))["meta"].get("header")


def promote_days(lake: Lake, dates: Sequence[str]) -> dict[str, dict[str, int]]:
    """Validate staged partitions of ``dates`` (one GX run per table) and commit them to raw.

    Returns:
        rows committed per table per date.

    Raises:
        BatchRejected: any table failed; failing dates are quarantined, passing ones are not committed
            either (a day is all-or-nothing so downstream never sees half a day).
    """
    reports: dict[str, ValidationReport] = {}
    staged: dict[str, list[str]] = {}
    for name, schema in TABLES.items():
        days = [d for d in dates if lake.is_committed(datasets.staging(name).at(d))]
        if not days:
            continue
        staged[name] = days
        reports[name] = validate_frame(schema, _read_staged(lake, schema, days))
    failed = {name: rep for name, rep in reports.items() if not rep.success}
    if failed:
        bad_dates = sorted({d for rep in failed.values() for f in rep.failures for d in f.dates} or set(dates))
        report = {
            "stage": "validate",
            "rejected_at": datetime.now(UTC).isoformat(),  # one stamp for every table this rejection quarantines
            "dates": bad_dates,
            "rows": sum(r.rows for r in failed.values()),
            "tables": {name: rep.to_dict() for name, rep in failed.items()},
        }
        lines = [
            f.describe(_source(lake, name, (f.dates or bad_dates)[0]))
            for name, rep in failed.items()
            for f in rep.failures
        ]
        quarantined = []
        for name, days in staged.items():
            for d in (d for d in days if d in bad_dates):
                source = _source(lake, name, d)
                target = datasets.raw_quarantine(name).at(d)
                quarantined.append(lake.quarantine(target, _unstage(lake, name, d), {**report, "source": source}))
        where = "".join(f"\n  quarantined: {q}" for q in quarantined)
        raise BatchRejected("raw validation failed:\n  " + "\n  ".join(lines) + where, report)
    committed: dict[str, dict[str, int]] = {}
    for name, days in staged.items():
        for d in days:
            manifest = lake.manifest(datasets.staging(name).at(d))
            outliers = [f.to_dict() for f in reports[name].warnings if d in f.dates]
            passed = {"suite": f"raw_{name}", "expectations": reports[name].expectations, "success": True}
            meta = {**manifest["meta"], "validation": passed, "outliers": outliers}
            lake.commit(datasets.raw(name).at(d), _unstage(lake, name, d), manifest["rows"], meta)
            committed.setdefault(d, {})[name] = manifest["rows"]
    return committed


def _unstage(lake: Lake, table: str, dt: str) -> str:
    """Move a staged partition's files to a fresh staging prefix, ready to commit elsewhere."""
    ref = datasets.staging(table).at(dt)
    moved = lake.stage(ref)
    for key in lake.data_keys(ref):
        lake.store.move(key, f"{moved}/{key.rsplit('/', 1)[-1]}")
    lake.store.delete_prefix(ref.key)
    return moved


def _source(lake: Lake, table: str, dt: str) -> str:
    """The landing file a staged partition came from."""
    return str(lake.manifest(datasets.staging(table).at(dt))["meta"].get("source", f"{table} {dt}"))


def _read_staged(lake: Lake, schema: TableSchema, days: Sequence[str]) -> pd.DataFrame:
    frame = lake.read_dates(datasets.staging(schema.name), days)
    assert frame is not None  # callers pass only staged days
    return with_lag(schema, frame, frame["dt"])


def _quarantine_landing(store: ObjectStore, lake: Lake, dt: str, files: dict[str, str], report: dict[str, Any]) -> str:
    target = datasets.LANDING_QUARANTINE.at(dt)
    staged = lake.stage(target)
    for table, key in files.items():
        lake.store.write_bytes(f"{staged}/{table}.csv", store.read_bytes(key))
    where = lake.quarantine(target, staged, report)
    log.error("batch %s quarantined at %s", dt, where)
    return where


def _summarise(problems: list[str], errors: list[RowError]) -> str:
    lines = [*problems, *(str(e) for e in errors[:_MAX_ERRORS_SHOWN])]
    more = f"\n  ... and {len(errors) - _MAX_ERRORS_SHOWN} more" if len(errors) > _MAX_ERRORS_SHOWN else ""
    count = f"{len(errors)} unreadable value(s)" if errors else "the export cannot be read"
    return f"{count}:\n  " + "\n  ".join(lines) + more
