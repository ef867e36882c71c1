"""What each derived partition was built from, so a late correction is found and rebuilt.

A raw day's *fingerprint* hashes the checksums (from the manifests) of every raw table's partition
for that day, plus a running hash of the product catalogue up to that day (a line's category comes
from the catalogue as of its day). ``daily/customer_day/dt=X`` records the fingerprint it was
built from; the feature state as of D records the fingerprints of every day up to D. A mismatch is
data that changed after the derived partition was built. Only manifests are read (metadata, no data).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from campaignflow.io import datasets
from campaignflow.io.lake import Lake


@dataclass(frozen=True)
class RawInputs:
    """Committed raw dates per table and the fingerprint of every raw day, up to some date."""

    dates: dict[str, list[str]]
    fingerprints: dict[str, str]
    end: str = ""  # read up to this date ("" : unknown)

    @property
    def present(self) -> set[str]:
        """Tables the shop has exported (at least one committed day)."""
        return {table for table, dates in self.dates.items() if dates}

    def up_to(self, end: str) -> RawInputs:
        return RawInputs(
            {t: [d for d in ds if d <= end] for t, ds in self.dates.items()},
            {d: fp for d, fp in self.fingerprints.items() if d <= end},
            min(end, self.end) if self.end else end,
        )

    def after(self, start: str) -> RawInputs:
        """The same, with fingerprints only for the days after ``start``."""
        return RawInputs(self.dates, {d: fp for d, fp in self.fingerprints.items() if d > start}, self.end)


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def partition_checksum(lake: Lake, table: str, dt: str) -> str:
    manifest = lake.manifest(datasets.raw(table).at(dt))
    return _digest(*[f["sha256"] for f in manifest["files"]])


def raw_inputs(lake: Lake, end: str, known: RawInputs | None = None) -> RawInputs:
    """Raw dates and day fingerprints up to ``end`` (taken from ``known`` when it reaches that far).

    One read of every raw manifest: a training run that builds features and labels for several
    snapshots reads them once and passes the result down as ``known``.
    """
    if known is not None and known.end >= end:
        return known.up_to(end)
    dates = {t: lake.committed_dates(datasets.raw(t), end=end) for t in datasets.RAW_TABLES}
    days = sorted({d for t, ds in dates.items() if t != "products" for d in ds})
    products = {d: partition_checksum(lake, "products", d) for d in dates["products"]}
    by_table = {t: set(ds) for t, ds in dates.items()}
    fingerprints, catalogue, pending = {}, "", sorted(products)
    for day in days:
        while pending and pending[0] <= day:
            released = pending.pop(0)
            catalogue = _digest(catalogue, released, products[released])
        parts = [
            f"{t}:{partition_checksum(lake, t, day)}"
            for t in datasets.RAW_TABLES
            if t != "products" and day in by_table[t]
        ]
        fingerprints[day] = _digest(*parts, f"products:{catalogue}")
    return RawInputs(dates, fingerprints, end)


def changed_days(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """Days whose fingerprint differs, appeared or disappeared."""
    return sorted(d for d in set(recorded) | set(current) if recorded.get(d) != current.get(d))
