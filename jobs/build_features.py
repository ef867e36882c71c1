"""Build features as of D, incrementally: daily aggregates, then the feature state, then features.

1. ``daily/customer_day/dt=X`` for every raw day up to D that has none, or whose raw data changed
   since it was built (fingerprints, see :mod:`campaignflow.features.lineage`), in one Spark job.
2. ``state/customer_features/dt=D`` from the state of D-1 plus day D (and the days leaving each
   window) when that state is there and was built from today's data; otherwise rebuilt from all
   daily aggregates, and the result says why (first run, gap, late data for which days).
3. ``features/customer/dt=D`` from the state, validated (GX) before commit: a failing partition is
   quarantined with a report and nothing downstream runs.
4. Later feature dates already built from data that has since changed (a late correction for an
   old day) are rebuilt in order, each incrementally from the one before.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from campaignflow.errors import BatchRejected, MissingPartition
from campaignflow.features.lineage import RawInputs, changed_days, raw_inputs
from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)


def run(rt: Runtime, ds: str, known: RawInputs | None = None) -> dict[str, Any]:
    """Features as of ``ds``, and later dates rebuilt whose inputs changed (``known``: raw inputs read already)."""
    later = rt.lake.committed_dates(datasets.FEATURE_STATE, start=_next(ds))
    inputs = raw_inputs(rt.lake, max([ds, *later]), known)
    result = build(rt, ds, inputs.up_to(ds))
    rebuilt = []
    for dt in later:
        recorded = rt.lake.manifest(datasets.FEATURE_STATE.at(dt))["meta"].get("inputs", {})
        if changed_days(recorded, inputs.up_to(dt).fingerprints):
            build(rt, dt, inputs.up_to(dt))
            rebuilt.append(dt)
    if rebuilt:
        log.info("rebuilt %d later feature date(s) built from data that has changed: %s", len(rebuilt), rebuilt)
    return {**result, "rebuilt_later": rebuilt}


def build(rt: Runtime, ds: str, inputs: RawInputs) -> dict[str, Any]:
    """Daily aggregates, state and features for one date (``inputs`` up to ``ds``)."""
    from campaignflow.features.state import advance, features_from_state, fold, window_source_dates
    from campaignflow.io.spark import read_dates, stage_frame, write_partition

    lake, started = rt.lake, time.monotonic()
    if not inputs.dates["orders"]:
        raise MissingPartition(f"no committed raw orders on or before {ds} in {lake.uri}")
    as_of, previous = date.fromisoformat(ds), _previous(ds)
    previous_ref = datasets.FEATURE_STATE.at(previous)
    recorded = lake.manifest(previous_ref)["meta"].get("inputs") if lake.is_committed(previous_ref) else None
    built_days = ensure_daily(rt, inputs, recorded)

    expected = inputs.up_to(previous).fingerprints
    if recorded is None:
        mode, reason = "rebuilt", f"no feature state for {previous} (first run or a gap)"
    elif changed := changed_days(recorded, expected):
        mode, reason = "rebuilt", f"data changed since {previous} was built, on {_some(changed)}"
    else:
        mode, reason = "incremental", f"state of {previous} + day {ds}"
    if mode == "incremental":
        prev_state = read_dates(lake, datasets.FEATURE_STATE, [previous])
        assert prev_state is not None
        sources = [d for d in window_source_dates(as_of) if lake.is_committed(datasets.CUSTOMER_DAY.at(d))]
        rows = read_dates(lake, datasets.CUSTOMER_DAY, sources)
        state = advance(prev_state.drop("dt"), rows if rows is not None else _no_rows(), as_of)
    else:
        rows = read_dates(lake, datasets.CUSTOMER_DAY, lake.committed_dates(datasets.CUSTOMER_DAY, end=ds))
        state = fold(rows if rows is not None else _no_rows(), as_of)
    log.info("feature state %s: %s (%s)", ds, mode, reason)
    state_ref = datasets.FEATURE_STATE.at(ds)
    write_partition(lake, state_ref, state, {"inputs": inputs.fingerprints, "mode": mode, "reason": reason})

    committed_state = read_dates(lake, datasets.FEATURE_STATE, [ds])
    assert committed_state is not None
    present = inputs.present
    features = features_from_state(committed_state.drop("dt"), as_of, present)
    ref = datasets.CUSTOMER_FEATURES.at(ds)
    staged, rows_out = stage_frame(lake, ref, features)
    validation_started = time.monotonic()
    report = _validate(rt, staged, present, previous)
    validation_seconds = round(time.monotonic() - validation_started, 1)
    meta = {
        "mode": mode,
        "reason": reason,
        "absent_tables": sorted(set(datasets.RAW_TABLES) - present),
        "warnings": [w.to_dict() for w in report.warnings],
    }
    if not report.success:
        target = datasets.FEATURES_QUARANTINE.at(ds)
        uri = lake.quarantine(target, staged, {**report.to_dict(), "dt": ds})
        first = report.failures[0]
        raise BatchRejected(
            f"features for {ds} failed validation: column {first.column!r} must {first.rule} "
            f"({first.unexpected_count} row(s)); {len(report.failures)} failing rule(s), report at {uri}",
            report.to_dict(),
            remedy="look at the report; fix the raw data or the feature code and re-run the date",
        )
    lake.commit(ref, staged, rows_out, meta)
    seconds = round(time.monotonic() - started, 1)
    log.info(
        "features %s: %d customers, %s, %d daily aggregate(s) built, %.1f s (validation %.1f s)",
        ds,
        rows_out,
        mode,
        len(built_days),
        seconds,
        validation_seconds,
    )
    return {
        "dt": ds,
        "customers": rows_out,
        "mode": mode,
        "reason": reason,
        "daily_built": len(built_days),  # not in the manifest: a re-run must commit the same partition
        "absent_tables": meta["absent_tables"],
        "warnings": len(report.warnings),
        "seconds": seconds,
        "validation_seconds": validation_seconds,
    }


def ensure_daily(rt: Runtime, inputs: RawInputs, recorded: dict[str, str] | None) -> list[str]:
    """(Re)build the daily aggregates that are missing or built from data that has changed."""
    from campaignflow.features.daily import customer_day
    from campaignflow.io.spark import read_dates, read_table, write_partitions

    lake = rt.lake
    suspect = [d for d, fp in inputs.fingerprints.items() if recorded is None or recorded.get(d) != fp]
    stale = [d for d in suspect if _daily_input(rt, d) != inputs.fingerprints[d]]
    if not stale:
        return []
    started = time.monotonic()
    tables: dict[str, DataFrame | None] = {}
    for table in datasets.RAW_TABLES:
        if table == "products":
            tables[table] = read_table(lake, datasets.raw(table), end=max(stale))
        else:
            tables[table] = read_dates(lake, datasets.raw(table), sorted(set(stale) & set(inputs.dates[table])))
    if tables["orders"] is None:  # days with other tables only: aggregate them with no orders
        tables["orders"] = _empty_orders()
    meta = {d: {"inputs": inputs.fingerprints[d]} for d in stale}
    counts = write_partitions(lake, datasets.CUSTOMER_DAY, customer_day(tables), stale, meta, ("customer_id", "day"))
    log.info(
        "daily aggregates: %d day(s) built (%s), %d rows, %.1f s",
        len(stale),
        _some(stale),
        sum(counts.values()),
        time.monotonic() - started,
    )
    return stale


def _daily_input(rt: Runtime, dt: str) -> str | None:
    ref = datasets.CUSTOMER_DAY.at(dt)
    if not rt.lake.is_committed(ref):
        return None
    value = rt.lake.manifest(ref)["meta"].get("inputs")
    return str(value) if value is not None else None


def _validate(rt: Runtime, staged: str, present: set[str], previous: str) -> Any:
    from campaignflow.features.validation import validate_features

    ref = datasets.CUSTOMER_FEATURES.at(previous)
    previous_rows = int(rt.lake.manifest(ref)["rows"]) if rt.lake.is_committed(ref) else None
    return validate_features(rt.lake.read_staged(staged), present, previous_rows)


def _no_rows() -> DataFrame:
    from campaignflow.features.daily import daily_types

    return _empty({"dt": "string", **daily_types()})


def _empty_orders() -> DataFrame:
    from campaignflow.ingest.schemas import ORDERS

    kinds = {"timestamp": "timestamp", "float": "double", "string": "string", "int": "bigint", "bool": "boolean"}
    return _empty({**{c.name: kinds[c.kind] for c in ORDERS.columns}, "dt": "string"})


def _empty(types: dict[str, str]) -> DataFrame:
    from campaignflow.io.spark import get_spark

    return get_spark().createDataFrame([], ", ".join(f"`{c}` {t}" for c, t in types.items()))


def _previous(ds: str) -> str:
    return (date.fromisoformat(ds) - timedelta(days=1)).isoformat()


def _next(ds: str) -> str:
    return (date.fromisoformat(ds) + timedelta(days=1)).isoformat()


def _some(days: list[str], shown: int = 5) -> str:
    return ", ".join(days[:shown]) + (f" and {len(days) - shown} more" if len(days) > shown else "")


add_arguments, run_args, main = date_job(run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
