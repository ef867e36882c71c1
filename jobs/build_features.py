"""Build features as of D, incrementally: daily aggregates, then the feature state, then features.

1. ``daily/customer_day/dt=X`` for every raw day up to D that has none, or whose raw data changed
   since it was built (fingerprints, see :mod:`campaignflow.features.lineage`), in one Spark job.
2. ``state/customer_features/dt=D`` from the state of D-1 plus day D (and the days leaving each
   window) when that state is there and was built from today's data; otherwise rebuilt from all
   daily aggregates, and the result says why (first run, gap, late data for which days).
3. ``features/customer/dt=D`` from the state, validated (GX) before commit: a failing partition is
   quarantined with a report and nothing downstream runs.
4. Later feature dates already built from data that has since changed (a late correction for an
   old day) are rebuilt, in one pass from the state before them (:func:`build_range`).
5. In a backfill (``ahead`` > 0), the following dates whose raw days are validated already are
   built too, in the same pass: one job for their daily aggregates, one for their states, one
   staging their features, each date then validated and committed in order. Their features are
   marked as built ahead; the run of such a date claims them instead of building them again
   (:mod:`campaignflow.io.ahead`), so the lake ends as date by date.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, timedelta
from itertools import takewhile
from typing import TYPE_CHECKING, Any

from campaignflow.errors import BatchRejected, MissingPartition, PermanentError
from campaignflow.features.lineage import RawInputs, changed_days, raw_inputs
from campaignflow.io import ahead, datasets
from campaignflow.io.lake import Lake
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)


def run(rt: Runtime, ds: str, known: RawInputs | None = None, ahead: int = 0) -> dict[str, Any]:
    """Features as of ``ds``, later dates rebuilt whose inputs changed (``known``: raw inputs read
    already), and up to ``ahead`` following dates whose raw days are validated built ahead."""
    later = rt.lake.committed_dates(datasets.FEATURE_STATE, start=_next(ds))
    following = validated_days_after(rt.lake, ds, ahead)
    inputs = raw_inputs(rt.lake, max([ds, *later, *following]), known)
    result = claim(rt, ds, inputs.up_to(ds)) or build(rt, ds, inputs.up_to(ds))
    rebuilt = []
    for dt in later:
        recorded = rt.lake.manifest(datasets.FEATURE_STATE.at(dt))["meta"].get("inputs", {})
        if changed_days(recorded, inputs.up_to(dt).fingerprints):
            rebuilt.append(dt)
    if rebuilt:
        build_dates(rt, rebuilt, inputs)
        log.info("rebuilt %d later feature date(s) built from data that has changed: %s", len(rebuilt), rebuilt)
    not_built = list(takewhile(lambda d: d not in later, following))  # up to the first date already there
    return {**result, "rebuilt_later": rebuilt, "built_ahead": build_ahead(rt, ds, not_built, inputs)}


def validated_days_after(lake: Lake, ds: str, limit: int) -> list[str]:
    """Up to ``limit`` consecutive days after ``ds`` whose raw orders are committed and nothing is
    staged (their validation has finished)."""
    days = ahead.following_days(ds, limit)
    if not days:
        return []
    committed = set(lake.committed_dates(datasets.raw("orders"), days[0], days[-1]))
    staged = {d for t in datasets.RAW_TABLES for d in lake.committed_dates(datasets.staging(t), days[0], days[-1])}
    ready = [d in committed and d not in staged for d in days]
    return days[: ready.index(False)] if False in ready else days


def build_ahead(rt: Runtime, ds: str, days: list[str], inputs: RawInputs) -> list[str]:
    """Build ``days`` (consecutive after ``ds``, whose state was just built) in one pass, marked as
    built ahead by ``ds``; a date that fails stops it (its own run reports it). The dates built."""
    built: list[str] = []
    for part in _same_tables(days, inputs) if days else []:
        try:
            built += [r["dt"] for r in build_range(rt, part, inputs.up_to(part[-1]), ahead_of=ds)]
        except PermanentError as err:
            committed = [d for d in part if ahead.built_by(rt.lake, datasets.CUSTOMER_FEATURES.at(d)) == ds]
            log.warning("building ahead of %s stopped after %s: %s (its own run will report it)", ds, committed, err)
            return built + committed
    if built:
        log.info("built %d date(s) ahead of %s: %s", len(built), ds, _some(built))
    return built


def claim(rt: Runtime, ds: str, inputs: RawInputs) -> dict[str, Any] | None:
    """The result of ``ds`` when an earlier date's run built its features ahead from these very
    inputs (claimed: the mark removed, the data kept); None when ``ds`` must be built."""
    if not rt.lake.is_committed(datasets.FEATURE_STATE.at(ds)):
        return None
    claimed = ahead.claim(rt.lake, datasets.CUSTOMER_FEATURES.at(ds), lambda: ahead.digest(inputs.fingerprints))
    if claimed is None:
        return None
    manifest, builder = claimed
    meta = manifest["meta"]
    log.info("features %s: built ahead by the run of %s from the same inputs, claimed", ds, builder)
    return {
        "dt": ds,
        "customers": int(manifest["rows"]),
        "mode": meta["mode"],
        "reason": meta["reason"],
        "daily_built": 0,
        "absent_tables": meta["absent_tables"],
        "warnings": len(meta["warnings"]),
        "seconds": 0.0,
        "validation_seconds": 0.0,
        "built_ahead_by": builder,
    }


def build_dates(rt: Runtime, dates: list[str], inputs: RawInputs) -> None:
    """Build the features of several dates (sorted; ``inputs`` up to the last at least): each run of
    consecutive dates whose day before has a current state in one pass (:func:`build_range`), any
    other date on its own first (:func:`build`)."""
    for run_ in _consecutive(dates):
        previous = _previous(run_[0])
        if not _current_state(rt, previous, inputs):
            build(rt, run_[0], inputs.up_to(run_[0]))
            run_ = run_[1:]
        for part in _same_tables(run_, inputs):
            build_range(rt, part, inputs.up_to(part[-1]))


def build_range(rt: Runtime, dates: list[str], inputs: RawInputs, ahead_of: str | None = None) -> list[dict[str, Any]]:
    """States and features of consecutive ``dates`` in one pass from the current state of the day
    before (:func:`~campaignflow.features.state.advance_range`): one job for the daily aggregates,
    one for the states, one staging the features; each date's features then validated and
    committed in order, with the same partitions and manifests as :func:`build` date by date.

    Raises:
        BatchRejected: a date's features failed validation (quarantined; the dates after it are not
            committed, their states are).
    """
    from campaignflow.features.state import advance_range, features_from_state, range_source_dates
    from campaignflow.io.spark import read_dates, stage_partitions, write_partitions

    lake, started = rt.lake, time.monotonic()
    previous = _previous(dates[0])
    recorded = lake.manifest(datasets.FEATURE_STATE.at(previous))["meta"].get("inputs")
    built_days = ensure_daily(rt, inputs, recorded)
    prev_state = read_dates(lake, datasets.FEATURE_STATE, [previous])
    assert prev_state is not None
    sources = [d for d in range_source_dates(dates) if lake.is_committed(datasets.CUSTOMER_DAY.at(d))]
    rows = read_dates(lake, datasets.CUSTOMER_DAY, sources)
    states = advance_range(prev_state.drop("dt"), rows if rows is not None else _no_rows(), dates)
    reasons = {d: f"state of {_previous(d)} + day {d}" for d in dates}
    meta = {d: {"inputs": inputs.up_to(d).fingerprints, "mode": "incremental", "reason": reasons[d]} for d in dates}
    write_partitions(lake, datasets.FEATURE_STATE, states, dates, meta)
    log.info("feature states %s … %s: %d dates in one pass (incremental)", dates[0], dates[-1], len(dates))

    from pyspark.sql import functions as F

    committed = read_dates(lake, datasets.FEATURE_STATE, dates)
    assert committed is not None
    present = inputs.present  # the same for every date (build_dates splits where it changes)
    # never null, as the literal date of a single date's build is: the same Parquet schema and bytes
    as_of = F.coalesce(F.to_date("dt"), F.lit(date.fromisoformat(dates[0])))
    features = features_from_state(committed, as_of, present, leading=("dt",))
    batch, staged = stage_partitions(lake, datasets.CUSTOMER_FEATURES, features, dates)
    results = []
    try:
        for dt in dates:
            source, rows_out = staged[dt]
            mark = ahead.digest(inputs.up_to(dt).fingerprints)
            results.append(
                _check_and_commit(
                    rt, dt, source, rows_out, present, "incremental", reasons[dt], 0, built_ahead=(ahead_of, mark)
                )
            )
    finally:
        lake.store.delete_prefix(batch)
    log.info(
        "features %s … %s: %d dates, %d daily aggregate(s) built, %.1f s",
        dates[0],
        dates[-1],
        len(dates),
        len(built_days),
        time.monotonic() - started,
    )
    return results


def _current_state(rt: Runtime, dt: str, inputs: RawInputs) -> bool:
    """The state of ``dt`` is committed and was built from today's raw data up to ``dt``."""
    ref = datasets.FEATURE_STATE.at(dt)
    if not rt.lake.is_committed(ref):
        return False
    return not changed_days(rt.lake.manifest(ref)["meta"].get("inputs", {}), inputs.up_to(dt).fingerprints)


def _consecutive(dates: list[str]) -> list[list[str]]:
    """``dates`` split where a day is missing."""
    return _split(dates, lambda a, b: _next(a) == b)


def _same_tables(dates: list[str], inputs: RawInputs) -> list[list[str]]:
    """``dates`` split where the set of exported raw tables changes (features differ in nulls)."""
    return _split(dates, lambda a, b: inputs.up_to(a).present == inputs.up_to(b).present)


def _split(dates: list[str], together: Callable[[str, str], bool]) -> list[list[str]]:
    """``dates`` in runs: a date joins the run before it when ``together(last of that run, date)``."""
    parts: list[list[str]] = []
    for d in dates:
        if parts and together(parts[-1][-1], d):
            parts[-1].append(d)
        else:
            parts.append([d])
    return parts


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
    staged, rows_out = stage_frame(lake, datasets.CUSTOMER_FEATURES.at(ds), features)
    return _check_and_commit(rt, ds, staged, rows_out, present, mode, reason, len(built_days), started)


def _check_and_commit(
    rt: Runtime,
    ds: str,
    staged: str,
    rows_out: int,
    present: set[str],
    mode: str,
    reason: str,
    daily_built: int,
    started: float | None = None,
    built_ahead: tuple[str | None, str] = (None, ""),
) -> dict[str, Any]:
    """Validate a date's staged features, then commit them or quarantine them with a report.

    Raises:
        BatchRejected: the features failed validation (quarantined, nothing committed).
    """
    lake = rt.lake
    validation_started = time.monotonic()
    report = _validate(rt, staged, present, _previous(ds))
    validation_seconds = round(time.monotonic() - validation_started, 1)
    meta = {
        "mode": mode,
        "reason": reason,
        "absent_tables": sorted(set(datasets.RAW_TABLES) - present),
        "warnings": [w.to_dict() for w in report.warnings],
    }
    meta = ahead.marked(meta, *built_ahead)  # (by, inputs digest): marked when built ahead
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
    lake.commit(datasets.CUSTOMER_FEATURES.at(ds), staged, rows_out, meta)
    seconds = round(time.monotonic() - (started if started is not None else validation_started), 1)
    log.info(
        "features %s: %d customers, %s, %d daily aggregate(s) built, %.1f s (validation %.1f s)",
        ds,
        rows_out,
        mode,
        daily_built,
        seconds,
        validation_seconds,
    )
    return {
        "dt": ds,
        "customers": rows_out,
        "mode": mode,
        "reason": reason,
        "daily_built": daily_built,  # not in the manifest: a re-run must commit the same partition
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
