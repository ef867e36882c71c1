"""The landing zone's layout: what a shop's nightly export looks like and when a day is complete.

``dt=YYYY-MM-DD/<table>.csv`` per exported table, then ``dt=YYYY-MM-DD/_SUCCESS`` once the day is
complete. The generator, the importer, the DAG's sensor and the ingest job all use this module.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

from campaignflow.io.storage import ObjectStore

MARKER = "_SUCCESS"
_SUFFIX = ".csv"


def day_prefix(dt: str) -> str:
    return f"dt={dt}/"


def table_key(dt: str, table: str) -> str:
    return f"{day_prefix(dt)}{table}{_SUFFIX}"


def marker_key(dt: str) -> str:
    return f"{day_prefix(dt)}{MARKER}"


def is_complete(store: ObjectStore, dt: str) -> bool:
    """The shop has finished exporting day ``dt``."""
    return store.exists(marker_key(dt))


def complete_dates(store: ObjectStore, start: str | None = None, end: str | None = None) -> list[str]:
    """Complete landing days in [start, end], sorted."""
    days = [d for d in present_dates(store) if (not start or d >= start) and (not end or d <= end)]
    return [d for d in days if is_complete(store, d)]


def present_dates(store: ObjectStore) -> list[str]:
    """Every landing day folder, complete or not, sorted."""
    return sorted(name[3:] for name in store.list_dirs("") if name.startswith("dt="))


def table_files(store: ObjectStore, dt: str, tables: tuple[str, ...]) -> dict[str, str]:
    """Table name → key of each known table's file in day ``dt``."""
    out = {}
    for key in store.list_keys(day_prefix(dt)):
        name = key.rsplit("/", 1)[-1]
        if name.endswith(_SUFFIX) and name.removesuffix(_SUFFIX) in tables:
            out[name.removesuffix(_SUFFIX)] = key
    return out


def write_day(store: ObjectStore, dt: str, files: Mapping[str, bytes]) -> None:
    """Write one day's table files, then its completion marker (a reader never sees half a day)."""
    for table, data in files.items():
        store.write_bytes(table_key(dt, table), data)
    store.write_bytes(marker_key(dt), b"")


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes the way a shop's export writes them (ISO timestamps, empty for null)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.strftime("%Y-%m-%dT%H:%M:%S")
    sink = io.BytesIO()
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), sink, pacsv.WriteOptions(quoting_style="needed"))
    return sink.getvalue()
