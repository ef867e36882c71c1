"""The lake: day partitions ``zone/table/dt=YYYY-MM-DD/`` written atomically over an ObjectStore.

A partition is *committed* when its ``_SUCCESS`` marker exists; ``_manifest.json`` (written just
before it) lists the data files, their row counts and checksums. The project's readers consult only
committed partitions and only the files their manifest names, so a half-written or replaced
partition is never seen. Writers stage files under ``_staging/`` and commit; re-committing a date
replaces it.

Control files start with ``_`` so that standard readers (pandas, pyarrow datasets, DuckDB, Spark),
which skip ``_``- and ``.``-prefixed names, see a committed partition folder or a whole table
folder as plain hive-partitioned Parquet.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from campaignflow.errors import MissingPartition
from campaignflow.io.storage import LocalStore, ObjectStore, open_store

log = logging.getLogger(__name__)

SUCCESS = "_SUCCESS"
MANIFEST = "_manifest.json"
REPORT = "_report.json"  # why a quarantined batch was rejected
_IGNORED_PREFIXES = ("_", ".")


def share_categories(frames: Iterable[pd.DataFrame], column: str) -> None:
    """Make ``column`` of every frame categorical over one dtype: the sorted union of its values."""
    frames = list(frames)
    for f, values in zip(frames, on_one_dictionary([f[column] for f in frames]), strict=True):
        f[column] = values


def on_one_dictionary(parts: list[pd.Series]) -> list[pd.Categorical]:
    """``parts`` as categoricals over one dtype, the sorted union of their values, recoded by their
    codes (a part categorical already is never hashed value by value again)."""
    parts = [p.astype("category") for p in parts]
    every = np.concatenate([p.cat.categories.to_numpy() for p in parts]) if parts else np.array([], object)
    dtype = pd.CategoricalDtype(pd.Index(sorted(pd.unique(every))))
    out = []
    for p in parts:
        at = np.append(dtype.categories.get_indexer(p.cat.categories), -1)  # code -1 (missing) stays -1
        out.append(pd.Categorical.from_codes(at[p.cat.codes.to_numpy()], dtype=dtype))
    return out


@dataclass(frozen=True)
class PartitionRef:
    """One day partition of one table in one zone."""

    zone: str
    table: str
    dt: str

    @property
    def key(self) -> str:
        return f"{self.zone}/{self.table}/dt={self.dt}"

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class Dataset:
    """One table of one zone; its partitions are ``zone/table/dt=D``. The catalogue is ``io.datasets``."""

    zone: str
    table: str
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.zone}/{self.table}"

    def at(self, dt: str) -> PartitionRef:
        return PartitionRef(self.zone, self.table, dt)


class Lake:
    """Partitioned, atomically committed datasets on one object store."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @classmethod
    def from_uri(cls, uri: str, endpoint_url: str | None = None, encryption: str | None = "AES256") -> Lake:
        return cls(open_store(uri, endpoint_url, encryption))

    @property
    def uri(self) -> str:
        return self.store.uri

    # -- writing -------------------------------------------------------------------------------
    def stage(self, ref: PartitionRef) -> str:
        """A fresh staging key prefix for ``ref``; write files under it, then :meth:`commit`."""
        return f"_staging/{ref.key}/{uuid.uuid4().hex}"

    def staging_dir(self, staged: str) -> str:
        """A path a writer such as Spark can write the staged files to."""
        if isinstance(self.store, LocalStore):
            return str(self.store.local_dir(staged))
        return self.store.spark_path(staged)

    def commit(
        self,
        ref: PartitionRef,
        staged: str,
        rows: int,
        meta: Mapping[str, Any] | None = None,
        control: Mapping[str, bytes] | None = None,
    ) -> dict[str, Any]:
        """Replace ``ref`` with the files staged under ``staged``; manifest and _SUCCESS last.

        ``control`` files (names starting with ``_``, e.g. a quarantine report) are written after
        the data and before the manifest, which lists them under ``control``.
        """
        bad = [name for name in (control or {}) if not name.startswith("_")]
        if bad:
            raise ValueError(f"control file names must start with '_' so readers skip them: {bad}")
        names = {k: k.rsplit("/", 1)[-1] for k in self.store.list_keys(staged)}
        # Writers' bookkeeping (Spark's _SUCCESS and .crc files) is not data.
        staged_files = [k for k, n in names.items() if not n.startswith(_IGNORED_PREFIXES) and not n.endswith(".crc")]
        entries = []
        moves = []
        for index, key in enumerate(sorted(staged_files)):
            name = key.rsplit("/", 1)[-1]
            if name.startswith("part-") and name.endswith(".parquet"):
                name = f"part-{index:05d}.parquet"  # Spark's names carry a random job id
            data = self.store.read_bytes(key)
            entries.append({"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
            moves.append((key, f"{ref.key}/{name}"))
        # Uncommit first: from here until _SUCCESS is back, readers treat the date as absent.
        self.store.delete_prefix(f"{ref.key}/{SUCCESS}")
        self.store.delete_prefix(ref.key)
        for src, dst in moves:
            self.store.move(src, dst)
        for name, data in (control or {}).items():
            self.store.write_bytes(f"{ref.key}/{name}", data)
        manifest = {
            "zone": ref.zone,
            "table": ref.table,
            "dt": ref.dt,
            "rows": int(rows),
            "files": entries,
            "control": sorted(control or {}),
            "meta": dict(meta or {}),
        }
        self.store.write_bytes(f"{ref.key}/{MANIFEST}", _dumps(manifest))
        self.store.write_bytes(f"{ref.key}/{SUCCESS}", b"")
        self.store.delete_prefix(staged)
        log.info("committed %s: %d rows, %d files", ref, rows, len(entries))
        return manifest

    def write_files(
        self,
        ref: PartitionRef,
        files: Mapping[str, bytes],
        rows: int,
        meta: Mapping[str, Any] | None = None,
        control: Mapping[str, bytes] | None = None,
    ) -> dict[str, Any]:
        """Stage and commit a set of named files (and ``_``-named control files) as one partition."""
        staged = self.stage(ref)
        for name, data in files.items():
            self.store.write_bytes(f"{staged}/{name}", data)
        return self.commit(ref, staged, rows, meta, control)

    def write_frame(
        self,
        ref: PartitionRef,
        frame: pd.DataFrame,
        meta: Mapping[str, Any] | None = None,
        schema: pa.Schema | None = None,
        control: Mapping[str, bytes] | None = None,
    ) -> dict[str, Any]:
        """Commit a DataFrame as ``part-00000.parquet`` (with ``schema``, column types are fixed
        even for an empty day, so every partition of a table reads back alike)."""
        files = {"part-00000.parquet": frame_to_parquet(frame, schema)}
        return self.write_files(ref, files, len(frame), meta, control)

    def replace_meta(self, ref: PartitionRef, meta: Mapping[str, Any]) -> dict[str, Any]:
        """Rewrite a committed partition's manifest with ``meta``; its data and _SUCCESS stay (one write)."""
        manifest = {**self.manifest(ref), "meta": dict(meta)}
        self.store.write_bytes(f"{ref.key}/{MANIFEST}", _dumps(manifest))
        return manifest

    # -- reading -------------------------------------------------------------------------------
    def is_committed(self, ref: PartitionRef) -> bool:
        return self.store.exists(f"{ref.key}/{SUCCESS}")

    def manifest(self, ref: PartitionRef) -> dict[str, Any]:
        if not self.is_committed(ref):
            raise MissingPartition(f"{self.store.full_uri(ref.key)} is not committed")
        result: dict[str, Any] = json.loads(self.store.read_bytes(f"{ref.key}/{MANIFEST}"))
        return result

    def data_keys(self, ref: PartitionRef) -> list[str]:
        return [f"{ref.key}/{f['name']}" for f in self.manifest(ref)["files"]]

    def read_frame(self, ref: PartitionRef, columns: list[str] | None = None) -> pd.DataFrame:
        return self.read_table(ref, columns).to_pandas()

    def read_table(
        self,
        ref: PartitionRef,
        columns: list[str] | None = None,
        categorical: list[str] | None = None,
        where: pc.Expression | None = None,
    ) -> pa.Table:
        """A committed partition as Arrow: ``columns`` only, the ``categorical`` string columns as
        dictionaries (Parquet's own, no string decoded), the rows ``where`` holds (None: all)."""
        tables = [
            pq.read_table(io.BytesIO(self.store.read_bytes(k)), columns=columns, read_dictionary=categorical)
            for k in self.data_keys(ref)
            if k.endswith(".parquet")
        ]
        if not tables:
            raise MissingPartition(f"{self.store.full_uri(ref.key)} has no parquet files")
        table = pa.concat_tables(tables)
        return table.filter(where) if where is not None else table

    def read_staged(self, staged: str) -> pd.DataFrame:
        """The Parquet files written under a staging prefix, before they are committed."""
        keys = sorted(k for k in self.store.list_keys(staged) if k.endswith(".parquet"))
        tables = [pq.read_table(io.BytesIO(self.store.read_bytes(k))) for k in keys]
        return pa.concat_tables(tables).to_pandas()

    def committed_dates(self, dataset: Dataset, start: str | None = None, end: str | None = None) -> list[str]:
        """Committed dates of a dataset within [start, end] (ISO strings compare as dates)."""
        dates = []
        for name in self.store.list_dirs(dataset.key):
            if not name.startswith("dt="):
                continue
            dt = name[3:]
            if (start and dt < start) or (end and dt > end):
                continue
            if self.is_committed(dataset.at(dt)):
                dates.append(dt)
        return dates

    def read_range(
        self,
        dataset: Dataset,
        start: str | None = None,
        end: str | None = None,
        columns: list[str] | None = None,
        categorical: list[str] | None = None,
        where: pc.Expression | None = None,
    ) -> pd.DataFrame | None:
        """All committed partitions in [start, end] with a ``dt`` column; None if there are none."""
        return self.read_dates(dataset, self.committed_dates(dataset, start, end), columns, categorical, where)

    def read_dates(
        self,
        dataset: Dataset,
        dates: Iterable[str],
        columns: list[str] | None = None,
        categorical: list[str] | None = None,
        where: pc.Expression | None = None,
    ) -> pd.DataFrame | None:
        """The given committed partitions (``columns`` only), with a ``dt`` column; None for no dates.

        ``where`` keeps only the rows it holds for, partition by partition as they are read. The
        ``categorical`` columns (and then ``dt``) come out as pandas categoricals, over the union
        of the partitions' values: the partitions meet in Arrow, so a year of ids is never one
        Python string a row, nor one a distinct value a day.
        """
        tables, frames = [], []
        for dt in dates:
            table = self.read_table(dataset.at(dt), columns, categorical, where)
            if categorical:
                day = pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(table), "int32")), pa.array([dt]))
                tables.append(table.append_column("dt", day))
            else:  # in pandas, as pd.concat reconciles partitions whose types differ
                frame = table.to_pandas()
                frame["dt"] = dt
                frames.append(frame)
        if tables:
            out = pa.concat_tables(tables, promote_options="permissive").unify_dictionaries().to_pandas()
            for column in categorical or []:  # a column Parquet stored without strings (all null) too
                if column in out and not isinstance(out[column].dtype, pd.CategoricalDtype):
                    out[column] = out[column].astype("category")
            return out
        return pd.concat(frames, ignore_index=True) if frames else None

    def spark_files(self, refs: Iterable[PartitionRef]) -> list[str]:
        """Paths of the committed data files of ``refs``, for ``spark.read.parquet``."""
        return [self.store.spark_path(k) for ref in refs for k in self.data_keys(ref) if k.endswith(".parquet")]

    # -- quarantine ----------------------------------------------------------------------------
    def quarantine(self, target: PartitionRef, staged: str, report: Mapping[str, Any]) -> str:
        """Commit a rejected batch and its ``_report.json`` at ``target`` (a quarantine partition).

        Returns the URI of the report. Nothing outside ``target`` is touched.
        """
        self.commit(target, staged, int(report.get("rows", 0)), control={REPORT: _dumps(dict(report))})
        return self.store.full_uri(f"{target.key}/{REPORT}")


def frame_to_parquet(frame: pd.DataFrame, schema: pa.Schema | None = None) -> bytes:
    """Deterministic Parquet bytes (microsecond timestamps, which Spark reads)."""
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink, coerce_timestamps="us", allow_truncated_timestamps=True, compression="snappy")
    return sink.getvalue()


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True, default=str).encode()
