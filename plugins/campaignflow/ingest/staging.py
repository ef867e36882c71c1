"""Landing → staging → raw: type a day's export, validate it, then commit it or quarantine it.

``stage_day`` turns each landing CSV into a typed Parquet partition in the ``staging`` zone.
``promote_days`` validates staged partitions with the GX suites and either commits them to
``raw`` or moves them, with a report naming file, column, rule and lines, to ``quarantine``.
Nothing in ``raw`` is touched by a rejected batch.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow.csv as pacsv

from campaignflow.ingest.schemas import ROW_COLUMN, TABLES, RowError, TableSchema, coerce
from campaignflow.ingest.validation import ValidationReport, validate_frame, with_lag
from campaignflow.io.lake import Lake, PartitionRef
from campaignflow.io.storage import ObjectStore

log = logging.getLogger(__name__)

REQUIRED_TABLES = ("orders",)
_MAX_ERRORS_SHOWN = 10


class BatchRejected(Exception):
    """A batch failed parsing or validation; ``report`` says where and why."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class StageResult:
    dt: str
    rows: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def read_csv_text(data: bytes) -> pd.DataFrame:
    """All columns as text exactly as written, plus ``_row`` (file line; the header is line 1).

    No type inference: "007" stays "007" and "N/A" stays "N/A", so typing and its errors are ours.
    """
    import pyarrow as pa

    header = next(csv.reader(io.StringIO(data.split(b"\n", 1)[0].decode("utf-8-sig"))), [])
    table = pacsv.read_csv(
        io.BytesIO(data),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    frame = table.to_pandas()
    frame[ROW_COLUMN] = range(2, len(frame) + 2)
    return frame


def landing_files(landing: ObjectStore, dt: str) -> dict[str, str]:
    """Table name → landing key of the CSVs present for ``dt``."""
    keys = landing.list_keys(f"dt={dt}/")
    return {
        k.rsplit("/", 1)[-1].removesuffix(".csv"): k
        for k in keys
        if k.endswith(".csv") and k.rsplit("/", 1)[-1].removesuffix(".csv") in TABLES
    }


def stage_day(landing: ObjectStore, lake: Lake, dt: str) -> StageResult:
    """Parse and type every landing file of ``dt`` into ``staging/<table>/dt=``.

    Raises:
        BatchRejected: a file has unparseable values or a required table is missing; the landing
            files are quarantined with the report and nothing is staged.
    """
    files = landing_files(landing, dt)
    missing_required = [t for t in REQUIRED_TABLES if t not in files]
    if missing_required:
        raise FileNotFoundError(f"landing {landing.full_uri(f'dt={dt}/')}: no {missing_required} file for {dt}")
    typed: dict[str, pd.DataFrame] = {}
    errors: list[RowError] = []
    for table, key in sorted(files.items()):
        frame, errs = coerce(TABLES[table], read_csv_text(landing.read_bytes(key)), landing.full_uri(key))
        typed[table] = frame
        errors.extend(errs)
    if errors:
        report = {
            "dt": dt,
            "stage": "parse",
            "rows": sum(map(len, typed.values())),
            "errors": [vars(e) for e in errors[:1000]],
            "error_count": len(errors),
        }
        _quarantine_landing(landing, lake, dt, files, report)
        raise BatchRejected(_summarise(errors), report)
    result = StageResult(dt, missing=sorted(set(TABLES) - set(files)))
    for table, frame in typed.items():
        lake.write_frame(
            PartitionRef("staging", table, dt),
            frame[[*TABLES[table].names, ROW_COLUMN]],
            {"source": landing.full_uri(files[table])},
            schema=TABLES[table].arrow_schema(),
        )
        result.rows[table] = len(frame)
    log.info("staged %s: %s (absent: %s)", dt, result.rows, result.missing or "none")
    return result


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
        days = [d for d in dates if lake.is_committed(PartitionRef("staging", name, d))]
        if not days:
            continue
        staged[name] = days
        frame = _read_staged(lake, schema, days)
        reports[name] = validate_frame(schema, frame)
    failed = {name: rep for name, rep in reports.items() if not rep.success}
    if failed:
        bad_dates = sorted({d for rep in failed.values() for f in rep.failures for d in f.dates} or set(dates))
        report = {
            "stage": "validate",
            "dates": bad_dates,
            "rows": sum(r.rows for r in failed.values()),
            "tables": {name: rep.to_dict() for name, rep in failed.items()},
        }
        lines = [
            f.describe(_source(lake, name, (f.dates or bad_dates)[0]))
            for name, rep in failed.items()
            for f in rep.failures
        ]
        for name, days in staged.items():
            for d in (d for d in days if d in bad_dates):
                source = _source(lake, name, d)
                lake.quarantine(PartitionRef("raw", name, d), _unstage(lake, name, d), {**report, "source": source})
        raise BatchRejected("raw validation failed:\n  " + "\n  ".join(lines), report)
    committed: dict[str, dict[str, int]] = {}
    for name, days in staged.items():
        for d in days:
            manifest = lake.manifest(PartitionRef("staging", name, d))
            passed = {"suite": f"raw_{name}", "expectations": reports[name].expectations, "success": True}
            meta = {**manifest["meta"], "validation": passed}
            lake.commit(PartitionRef("raw", name, d), _unstage(lake, name, d), manifest["rows"], meta)
            committed.setdefault(d, {})[name] = manifest["rows"]
    return committed


def _unstage(lake: Lake, table: str, dt: str) -> str:
    """Move a staged partition's files to a fresh staging prefix, ready to commit elsewhere."""
    ref = PartitionRef("staging", table, dt)
    moved = lake.stage(ref)
    for key in lake.data_keys(ref):
        lake.store.move(key, f"{moved}/{key.rsplit('/', 1)[-1]}")
    lake.store.delete_prefix(ref.key)
    return moved


def _source(lake: Lake, table: str, dt: str) -> str:
    """The landing file a staged partition came from."""
    return str(lake.manifest(PartitionRef("staging", table, dt))["meta"].get("source", f"{table} {dt}"))


def _read_staged(lake: Lake, schema: TableSchema, days: Sequence[str]) -> pd.DataFrame:
    frame = lake.read_dates("staging", schema.name, days)
    assert frame is not None  # callers pass only staged days
    return with_lag(schema, frame, frame["dt"])


def _quarantine_landing(
    landing: ObjectStore, lake: Lake, dt: str, files: dict[str, str], report: dict[str, Any]
) -> None:
    ref = PartitionRef("landing", "export", dt)
    staged = lake.stage(ref)
    for table, key in files.items():
        lake.store.write_bytes(f"{staged}/{table}.csv", landing.read_bytes(key))
    where = lake.quarantine(ref, staged, report)
    log.error("batch %s quarantined at %s", dt, where)


def _summarise(errors: list[RowError]) -> str:
    shown = "\n  ".join(str(e) for e in errors[:_MAX_ERRORS_SHOWN])
    more = f"\n  ... and {len(errors) - _MAX_ERRORS_SHOWN} more" if len(errors) > _MAX_ERRORS_SHOWN else ""
    return f"{len(errors)} unreadable value(s):\n  {shown}{more}"
