"""Partitions a backfill task builds ahead for later dates, and their claim by those dates' own runs.

In a backfill a task's Spark session is warm and the inputs of the following dates are often ready,
so it builds their partitions too. Each such manifest is marked ``built_ahead``: the date whose run
built it and a digest of what it was built from. A date's own run claims the partition when its
inputs are still those (the mark removed, the data kept), so the lake ends byte for byte as when
every run builds its own date; otherwise the run builds the date as usual.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from campaignflow.io.lake import Lake, PartitionRef

MARK = "built_ahead"


def digest(inputs: object) -> str:
    """A short digest of what a partition is built from (any JSON-able value)."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:24]


def marked(meta: Mapping[str, Any], by: str | None, inputs: str) -> dict[str, Any]:
    """``meta`` with the mark of a partition built ahead by the run of ``by`` (unchanged for None)."""
    return {**meta, MARK: {"by": by, "inputs": inputs}} if by else dict(meta)


def claim(lake: Lake, ref: PartitionRef, inputs: Callable[[], str]) -> tuple[dict[str, Any], str] | None:
    """``ref``'s manifest with the mark removed, and the date whose run built it, when it was built
    ahead from what ``inputs()`` digests (called only for a marked partition: the daily runs, with
    nothing built ahead, read no inputs); None (nothing changed) when it was not, or from others."""
    if not lake.is_committed(ref):
        return None
    meta = dict(lake.manifest(ref)["meta"])
    mark = meta.pop(MARK, None)
    if not mark or mark.get("inputs") != inputs():
        return None
    return lake.replace_meta(ref, meta), str(mark["by"])


def built_by(lake: Lake, ref: PartitionRef) -> str | None:
    """The date whose run built ``ref`` ahead and has not been claimed; None otherwise."""
    if not lake.is_committed(ref):
        return None
    mark = lake.manifest(ref)["meta"].get(MARK)
    return str(mark["by"]) if mark else None


def following_days(ds: str, limit: int) -> list[str]:
    """The ``limit`` days after ``ds``."""
    from datetime import date, timedelta

    first = date.fromisoformat(ds)
    return [(first + timedelta(days=k)).isoformat() for k in range(1, limit + 1)]
