"""The feature layer end to end on a lake: incremental = from scratch = the DuckDB reference.

Random raw data with everything real shops throw at it: late events and returns (up to 7 days),
a catalogue that changes price and category mid-way, order lines of unknown orders, discounts,
B2B quantities, customers re-exported with a changed sign-up date, quiet days.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from campaignflow.errors import BatchRejected, NotEnoughHistory
from campaignflow.features.catalogue import FEATURE_COLUMNS, FEATURE_TYPES, markdown
from campaignflow.features.reference import reference_features
from campaignflow.ingest.schemas import TABLES
from campaignflow.io import datasets
from campaignflow.io.lake import Lake
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings, project_root

pytestmark = pytest.mark.spark
START = date(2024, 1, 1)
DAYS = 75
DATES = ["2024-03-10", "2024-03-11", "2024-03-12", "2024-03-13"]


def random_raw(seed: int, days: int = DAYS, n_customers: int = 60) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"c{i:03d}" for i in range(n_customers)]
    day = rng.integers(0, days, 500)
    dts = pd.to_datetime(START) + pd.to_timedelta(day, unit="D")
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(500)],
            "customer_id": rng.choice(ids[:45], 500),
            "order_ts": dts + pd.to_timedelta(rng.integers(0, 86400, 500), unit="s"),
            "amount": rng.integers(100, 50000, 500) / 100,
            "currency": "EUR",
            "dt": dts.strftime("%Y-%m-%d"),
        }
    )
    n_lines = 900
    pick = rng.integers(0, 520, n_lines)  # some lines point at orders that do not exist
    known = pick < 500
    lines = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in pick],
            "product_id": rng.choice([f"p{i}" for i in range(12)], n_lines),
            "quantity": np.where(rng.random(n_lines) < 0.02, 5000, rng.integers(1, 4, n_lines)),
            "unit_price": rng.choice([9.99, 19.99, 5.0], n_lines),
        }
    )
    lines["dt"] = np.where(known, orders["dt"].reindex(np.minimum(pick, 499)).to_numpy(), orders["dt"].iloc[0])
    products = pd.concat(
        [
            pd.DataFrame(
                {
                    "product_id": [f"p{i}" for i in range(10)],
                    "category": [f"cat{i % 4}" for i in range(10)],
                    "price": 19.99,
                    "dt": START.isoformat(),
                }
            ),
            pd.DataFrame(  # a catalogue update: new products, a price cut and a re-categorised product
                {
                    "product_id": ["p3", "p10", "p11"],
                    "category": ["cat9", "cat1", "cat2"],
                    "price": [5.0, 9.99, 9.99],
                    "dt": (START + timedelta(days=40)).isoformat(),
                }
            ),
        ]
    )
    n_events = 2500
    event_day = rng.integers(0, days, n_events)
    late = np.where(rng.random(n_events) < 0.2, rng.integers(1, 8, n_events), 0)
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n_events)],
            "customer_id": rng.choice(ids, n_events),
            "event_ts": pd.to_datetime(START)
            + pd.to_timedelta(event_day, unit="D")
            + pd.to_timedelta(rng.integers(0, 86400, n_events), unit="s"),
            "event_type": rng.choice(["view", "add_to_cart", "search", "email_open", "email_click"], n_events),
            "product_id": None,
            "dt": (pd.to_datetime(START) + pd.to_timedelta(np.minimum(event_day + late, days - 1), unit="D")).strftime(
                "%Y-%m-%d"
            ),
        }
    )
    signup = pd.to_datetime(START) + pd.to_timedelta(rng.integers(-300, days, n_customers), unit="D")
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "email": None,
            "phone": None,
            "country": "DE",
            "signup_ts": signup,
            "marketing_consent": True,
            "unsubscribed": False,
            "dt": pd.Series(signup).clip(lower=pd.Timestamp(START)).dt.strftime("%Y-%m-%d").to_numpy(),
        }
    )
    again = customers.sample(10, random_state=seed).assign(dt=(START + timedelta(days=50)).isoformat())
    again["signup_ts"] = pd.Timestamp(START + timedelta(days=49))  # re-exported with a later sign-up
    n_returns = 60
    r_day = rng.integers(0, days, n_returns)
    returns = pd.DataFrame(
        {
            "return_id": [f"r{i}" for i in range(n_returns)],
            "customer_id": rng.choice(ids[:45], n_returns),
            "return_ts": pd.to_datetime(START) + pd.to_timedelta(r_day, unit="D"),
            "amount": rng.integers(100, 5000, n_returns) / 100,
            "order_id": None,
            "product_id": None,
            "quantity": None,
            "currency": "EUR",
            "dt": (pd.to_datetime(START) + pd.to_timedelta(np.minimum(r_day + 3, days - 1), unit="D")).strftime(
                "%Y-%m-%d"
            ),
        }
    )
    return {
        "orders": orders,
        "order_lines": lines,
        "products": products,
        "events": events,
        "customers": pd.concat([customers, again]),
        "returns": returns,
    }


def write_raw(lake: Lake, raw: dict[str, pd.DataFrame], dates: set[str] | None = None) -> None:
    """Commit raw partitions as validation would (one per table and day present in the frames)."""
    for table, frame in raw.items():
        schema = TABLES[table].arrow_schema()
        for dt, part in frame.groupby("dt"):
            if dates is not None and dt not in dates:
                continue
            body = TABLES[table].with_absent_columns(part.drop(columns="dt").assign(_row=np.arange(2, len(part) + 2)))
            for col in TABLES[table].columns:
                if col.kind == "int":
                    body[col.name] = body[col.name].astype("Int64")
            lake.write_frame(datasets.raw(table).at(str(dt)), body[schema.names], schema=schema)


def runtime(root: Path, **settings: Any) -> Runtime:
    lake, landing, exports = str(root / "lake"), str(root / "landing"), str(root / "x")
    return Runtime.from_settings(Settings(lake_uri=lake, landing_uri=landing, exports_uri=exports, **settings))


def assert_same_features(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got = got.sort_values("customer_id").reset_index(drop=True)
    want = want.sort_values("customer_id").reset_index(drop=True)
    assert got["customer_id"].tolist() == want["customer_id"].tolist()
    for col in FEATURE_COLUMNS:
        a, b = got[col].astype("float64").to_numpy(), want[col].astype("float64").to_numpy()
        tol = 0.011 if FEATURE_TYPES[col] == "double" else 0
        close = np.isclose(a, b, atol=tol, rtol=1e-9, equal_nan=True)
        assert close.all(), f"{col}: {a[~close][:5]} != {b[~close][:5]}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Runtime, dict[str, pd.DataFrame], list[dict]]:  # type: ignore[type-arg]
    from jobs import build_features

    root = tmp_path_factory.mktemp("features")
    rt = runtime(root)
    raw = random_raw(5)
    write_raw(rt.lake, raw)
    results = [build_features.run(rt, d) for d in DATES]
    return rt, raw, results


def test_incremental_equals_reference_row_for_row(built) -> None:  # type: ignore[no-untyped-def]
    rt, _, results = built
    assert [r["mode"] for r in results] == ["rebuilt", "incremental", "incremental", "incremental"]
    assert "first run or a gap" in results[0]["reason"]
    assert results[0]["daily_built"] > 60 and [r["daily_built"] for r in results[1:]] == [1, 1, 1]  # D only
    for d in DATES:
        got = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(d))
        assert_same_features(got, reference_features(rt.lake, date.fromisoformat(d)))
        assert set(got.columns) == {"customer_id", "as_of", *FEATURE_COLUMNS}


def test_the_data_exercises_every_feature(built) -> None:  # type: ignore[no-untyped-def]
    rt, _, _ = built
    got = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(DATES[-1]))
    for col in FEATURE_COLUMNS:
        assert got[col].notna().any() and got[col].nunique() > 1, col
    assert (got["discount_share"] > 0).any() and (got["return_rate_365d"] > 0).any()
    assert got["recency_days"].isna().any()  # customers known from the customer export only


def test_late_correction_rebuilds_the_day_and_every_later_date(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from jobs import build_features

    rt0, raw, _ = built
    root = tmp_path / "copy"
    shutil.copytree(Path(rt0.settings.lake_uri), root / "lake")
    rt = runtime(root)
    day = DATES[1]
    extra = (
        raw["orders"]
        .iloc[:1]
        .assign(
            order_id="late-1",
            customer_id="c001",
            dt=day,
            order_ts=pd.Timestamp(day) + pd.Timedelta(hours=3),
            amount=999.0,
        )
    )
    corrected = {"orders": pd.concat([raw["orders"][raw["orders"]["dt"] == day], extra])}
    write_raw(rt.lake, corrected)
    result = build_features.run(rt, day)
    assert result["mode"] == "incremental" and result["daily_built"] == 1
    assert result["rebuilt_later"] == DATES[2:]
    for d in DATES:
        assert_same_features(
            rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(d)), reference_features(rt.lake, date.fromisoformat(d))
        )
    last = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(DATES[-1])).set_index("customer_id")
    before = rt0.lake.read_frame(datasets.CUSTOMER_FEATURES.at(DATES[-1])).set_index("customer_id")
    assert last.loc["c001", "orders_total"] == before.loc["c001", "orders_total"] + 1

    # a correction of an old day no later state knows about: the next date says why it rebuilt
    old = (date.fromisoformat(DATES[-1]) - timedelta(days=20)).isoformat()
    write_raw(rt.lake, {"orders": pd.concat([raw["orders"][raw["orders"]["dt"] == old], extra.assign(dt=old)])})
    nxt = (date.fromisoformat(DATES[-1]) + timedelta(days=1)).isoformat()
    result = build_features.run(rt, nxt)
    assert result["mode"] == "rebuilt" and old in result["reason"]


def test_point_in_time_later_data_changes_nothing(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from jobs import build_features

    _, raw, _ = built
    d = DATES[0]
    root = tmp_path / "pit"
    rt = runtime(root)
    write_raw(rt.lake, {t: f[f["dt"] <= d] for t, f in raw.items()})
    build_features.run(rt, d)
    first = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(d))
    # everything after D arrives, including events dated on or before D that arrive late
    write_raw(rt.lake, {t: f[f["dt"] > d] for t, f in raw.items()})
    build_features.run(rt, (date.fromisoformat(d) + timedelta(days=3)).isoformat())
    shutil.rmtree(root / "lake" / "state")  # force a rebuild of D from every daily aggregate there is
    result = build_features.run(rt, d)
    assert result["mode"] == "rebuilt"
    pd.testing.assert_frame_equal(first, rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(d)))
    # and the added data does move features of a later date (the check is not vacuous)
    later = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(DATES[3]))
    assert not later.set_index("customer_id")["events_7d"].equals(first.set_index("customer_id")["events_7d"])


def test_backfill_equals_daily_and_a_second_backfill_changes_nothing(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from jobs import build_features

    rt0, raw, _ = built
    rt = runtime(tmp_path / "backfill")
    write_raw(rt.lake, raw)
    for d in reversed(DATES):  # a backfill in any order: each date from whatever state exists
        build_features.run(rt, d)

    def checksums(r: Runtime) -> dict[str, list[str]]:
        return {d: [f["sha256"] for f in r.lake.manifest(datasets.CUSTOMER_FEATURES.at(d))["files"]] for d in DATES}

    assert checksums(rt) == checksums(rt0)
    for d in DATES:
        build_features.run(rt, d)
    assert checksums(rt) == checksums(rt0)


def test_orders_only_shop_gets_nulls_not_zeros(tmp_path: Path) -> None:
    from jobs import build_features

    rt = runtime(tmp_path)
    raw = random_raw(2)
    write_raw(rt.lake, {"orders": raw["orders"]})
    build_features.run(rt, DATES[0])
    got = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(DATES[0]))
    assert got["orders_total"].gt(0).all()
    for col in ("views_30d", "events_trend_30d", "days_since_last_event", "distinct_products", "returns_365d"):
        assert got[col].isna().all(), col
    assert_same_features(got, reference_features(rt.lake, date.fromisoformat(DATES[0])))


def test_labels_point_in_time(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from jobs import build_labels

    _, raw, _ = built
    rt = Runtime.from_settings(
        Settings(lake_uri=str(tmp_path / "lake"), landing_uri="x", exports_uri="y", churn_horizon_days=14)
    )
    d = DATES[0]
    write_raw(rt.lake, {t: f[f["dt"] <= d] for t, f in raw.items()})
    result = build_labels.run(rt, d)
    t = result["dt"]
    labels = rt.lake.read_frame(datasets.churn_labels(14).at(t)).set_index("customer_id")
    o = raw["orders"]
    window = o[(o["dt"] > t) & (o["dt"] <= d)]
    for cid, row in labels.iterrows():
        mine = window[window["customer_id"] == cid]
        assert row["churned"] == int(mine.empty) and row["future_orders"] == len(mine)
        assert row["future_value"] == pytest.approx(mine["amount"].sum(), abs=0.01)
    assert labels["churned"].nunique() == 2
    write_raw(rt.lake, {t: f[f["dt"] > d] for t, f in raw.items()})  # data after T + H arrives
    build_labels.run(rt, d)
    pd.testing.assert_frame_equal(labels, rt.lake.read_frame(datasets.churn_labels(14).at(t)).set_index("customer_id"))
    with pytest.raises(NotEnoughHistory, match="need raw orders through"):
        build_labels.run(rt, "2024-06-01")


def test_validation_rejects_duplicates_and_lost_customers(built) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.features.validation import validate_features

    rt, _, _ = built
    frame = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(DATES[0]))
    present = set(datasets.RAW_TABLES)
    assert validate_features(frame, present, len(frame)).success
    dup = pd.concat([frame, frame.head(1)])
    report = validate_features(dup, present, None)
    assert [(f.column, f.rule) for f in report.failures] == [("customer_id", "be unique")]
    shrunk = validate_features(frame.iloc[1:], present, len(frame))
    assert [(f.column, f.rule) for f in shrunk.failures] == [
        ("_rows", f"have at least {len(frame)} rows (the previous date's count) (observed {len(frame) - 1})")
    ]
    bad = frame.assign(top_category_share=frame["top_category_share"] * 3)
    assert any(f.column == "top_category_share" for f in validate_features(bad, present, None).failures)
    # a customer who returned, inside the window, what they bought before it: unusual, flagged, kept
    odd = frame.assign(return_rate_365d=frame["return_rate_365d"].where(frame.index != frame.index[0], 1.8))
    report = validate_features(odd, present, None)
    assert report.success
    assert [(w.column, w.unexpected_count) for w in report.warnings] == [("return_rate_365d", 1)]
    wholesale = frame.assign(orders_total=frame["orders_total"].where(frame.index != frame.index[0], 5000))
    assert [(w.column, w.unexpected_count) for w in validate_features(wholesale, present, None).warnings] == [
        ("orders_total", 1)
    ]
    negative = frame.assign(return_rate_365d=-0.5)
    assert [f.column for f in validate_features(negative, present, None).failures] == ["return_rate_365d"]


def test_a_failing_partition_is_quarantined_not_committed(built, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from jobs import build_features

    _, raw, _ = built
    rt = runtime(tmp_path)
    write_raw(rt.lake, raw)
    build_features.run(rt, DATES[0])
    with monkeypatch.context() as m:  # a bug that drops customers
        from campaignflow.features import state

        real = state.features_from_state
        m.setattr(state, "features_from_state", lambda s, d, p: real(s, d, p).where("customer_id > 'c010'"))
        with pytest.raises(BatchRejected, match=r"column ._rows. must have at least"):
            build_features.run(rt, DATES[1])
    assert not rt.lake.is_committed(datasets.CUSTOMER_FEATURES.at(DATES[1]))
    assert rt.lake.is_committed(datasets.FEATURES_QUARANTINE.at(DATES[1]))


def test_catalogue_document_is_current() -> None:
    doc = project_root() / "docs" / "features.md"
    assert doc.read_text() == markdown(), "run: campaignflow features-catalogue > docs/features.md"


def test_raw_inputs_read_once_serve_every_earlier_date(built, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A training run reads every raw manifest once; cut to an earlier date it equals a fresh read."""
    from campaignflow.features.lineage import raw_inputs

    rt, _, _ = built
    known = raw_inputs(rt.lake, DATES[-1])
    reads: list[object] = []
    real = type(rt.lake).manifest
    monkeypatch.setattr(type(rt.lake), "manifest", lambda self, ref: reads.append(ref) or real(self, ref))
    for d in DATES:
        assert raw_inputs(rt.lake, d, known) == raw_inputs(rt.lake, d)
    fresh = len(reads)
    reads.clear()
    for d in DATES:
        raw_inputs(rt.lake, d, known)
    assert fresh > 0 and reads == []


def test_the_next_date_reuses_the_compiled_query_classes(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Spark keeps a date's compiled query classes (``spark.sql.codegen.cache.maxEntries``): the next
    date compiles only the few its date literals change, not the whole feature build again."""
    from campaignflow.io.spark import get_spark, is_connect
    from jobs import build_features

    spark = get_spark()
    if is_connect(spark):
        pytest.skip("a Connect server compiles out of reach of the client")
    metrics = spark.sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics  # type: ignore[union-attr]
    rt0, _, _ = built
    root = tmp_path / "copy"
    shutil.copytree(Path(rt0.settings.lake_uri), root / "lake")
    rt = runtime(root)
    following = [(date.fromisoformat(DATES[-1]) + timedelta(days=k)).isoformat() for k in (1, 2)]
    compiled = []
    for day in following:
        before = metrics.METRIC_COMPILATION_TIME().getCount()
        assert build_features.run(rt, day)["mode"] == "incremental"
        compiled.append(metrics.METRIC_COMPILATION_TIME().getCount() - before)
    assert compiled[1] <= 30, compiled  # ~6; about 150 when the cache held 100 classes


def test_a_backfill_builds_validated_dates_ahead_and_their_runs_claim_them(  # type: ignore[no-untyped-def]
    built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One run builds the following validated dates in its session (not a date still staged); their
    own runs claim them without building; the lake ends as one date after the other left it."""
    from jobs import build_features

    rt0, raw, _ = built
    rt = runtime(tmp_path / "ahead")
    write_raw(rt.lake, raw)
    staged = datasets.staging("orders").at(DATES[3])  # the day's validation has not finished
    rt.lake.write_frame(staged, rt.lake.read_frame(datasets.raw("orders").at(DATES[3])))
    first = build_features.run(rt, DATES[0], ahead=5)
    assert first["built_ahead"] == DATES[1:3]
    assert rt.lake.manifest(datasets.CUSTOMER_FEATURES.at(DATES[1]))["meta"]["built_ahead"]["by"] == DATES[0]
    assert not rt.lake.is_committed(datasets.CUSTOMER_FEATURES.at(DATES[3]))
    rt.lake.store.delete_prefix(staged.key)

    def must_not_build(*args: object, **kw: object) -> None:
        raise AssertionError(f"built again: {args[1]}")

    with monkeypatch.context() as m:
        m.setattr(build_features, "build", must_not_build)
        claimed = [build_features.run(rt, d) for d in DATES[1:3]]
    assert [(r["built_ahead_by"], r["mode"]) for r in claimed] == [(DATES[0], "incremental")] * 2
    assert build_features.run(rt, DATES[3])["mode"] == "incremental"
    for dataset in (datasets.CUSTOMER_DAY, datasets.FEATURE_STATE, datasets.CUSTOMER_FEATURES):
        for d in DATES:
            assert rt.lake.manifest(dataset.at(d)) == rt0.lake.manifest(dataset.at(d)), (dataset, d)


def test_building_ahead_stops_at_a_date_that_fails(built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A date that fails ahead is left to its own run (which reports it); the run that tried succeeds."""
    from jobs import build_features

    _, raw, _ = built
    rt = runtime(tmp_path / "fails")
    write_raw(rt.lake, raw)
    real = build_features._check_and_commit

    def failing_third(rt_: Runtime, ds: str, *args: object, **kw: object) -> dict[str, object]:
        if ds == DATES[2]:
            raise BatchRejected(f"features for {ds} failed validation", {})
        return real(rt_, ds, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(build_features, "_check_and_commit", failing_third)
    result = build_features.run(rt, DATES[0], ahead=3)
    assert result["mode"] == "rebuilt" and result["built_ahead"] == DATES[1:2]
    assert not rt.lake.is_committed(datasets.CUSTOMER_FEATURES.at(DATES[2]))
    monkeypatch.setattr(build_features, "_check_and_commit", real)
    assert build_features.run(rt, DATES[2])["mode"] == "incremental"  # its own run builds it


def test_range_states_equal_each_date_from_scratch(tmp_path: Path) -> None:
    """advance_range over two weeks (catalogue change, re-exported customers, late events, new
    customers, windows of 7 and 30 days sliding through) = fold from scratch for every date."""
    from campaignflow.features.lineage import raw_inputs
    from campaignflow.features.state import advance_range, fold, range_source_dates
    from campaignflow.io.spark import read_dates
    from jobs import build_features

    rt = runtime(tmp_path)
    raw = random_raw(11)
    first = START + timedelta(days=38)
    dates = [(first + timedelta(days=k)).isoformat() for k in range(14)]
    # customers first seen within the range: an order on its 4th day, an event arriving late on its 6th
    order = raw["orders"].iloc[:1].assign(order_id="new-1", customer_id="new-1", dt=dates[3])
    event = raw["events"].iloc[:1].assign(event_id="new-2", customer_id="new-2", dt=dates[5])
    raw["orders"] = pd.concat([raw["orders"], order.assign(order_ts=pd.Timestamp(dates[3]) + pd.Timedelta(hours=5))])
    raw["events"] = pd.concat([raw["events"], event.assign(event_ts=pd.Timestamp(dates[1]) + pd.Timedelta(hours=2))])
    write_raw(rt.lake, raw)
    build_features.ensure_daily(rt, raw_inputs(rt.lake, dates[-1]), None)
    committed = rt.lake.committed_dates(datasets.CUSTOMER_DAY, end=dates[-1])
    every = read_dates(rt.lake, datasets.CUSTOMER_DAY, committed)
    sources = read_dates(rt.lake, datasets.CUSTOMER_DAY, sorted(set(committed) & set(range_source_dates(dates))))
    assert every is not None and sources is not None
    previous = fold(every, first - timedelta(days=1))
    ranged = advance_range(previous, sources, dates).toPandas()
    assert sorted(ranged["dt"].unique()) == dates
    grew = []
    for d in dates:
        want = state_records(fold(every, date.fromisoformat(d)).toPandas())
        got = state_records(ranged[ranged["dt"] == d].drop(columns="dt"))
        assert got == want, d
        grew.append(len(got))
    assert grew[3] == grew[0] + 1 and grew[5] == grew[0] + 2  # new customers appear on their day


def state_records(frame: pd.DataFrame) -> list[dict]:  # type: ignore[type-arg]
    """State rows by customer, arrays as lists and maps as sorted item lists (comparable)."""

    def plain(v: object) -> object:
        if isinstance(v, dict):
            return sorted(v.items())
        if isinstance(v, list) and v and isinstance(v[0], tuple):
            return sorted(v)
        if hasattr(v, "tolist"):
            return v.tolist()  # type: ignore[union-attr]
        return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT else v

    rows = frame.sort_values("customer_id").to_dict("records")
    return [{k: plain(v) for k, v in r.items()} for r in rows]


def segments_runtime(rt0: Runtime, root: Path, period_days: int) -> Runtime:
    """A copy of ``rt0``'s features, with k-means periods of ``period_days``."""
    shutil.copytree(Path(rt0.settings.lake_uri) / "features", root / "lake" / "features")
    return runtime(root, segment_period_days=period_days)


def reference_rfm(features: pd.DataFrame) -> pd.DataFrame:
    """RFM scores and tiers as the segments document them, in pandas: 1 + the number of the buyers'
    exact quintiles a value exceeds (recency negated), the tier from the first matching map entry."""
    from campaignflow.features.segments import PROSPECT, QUINTILES, TIERS

    buyer = (features["orders_total"] > 0).to_numpy()
    out = pd.DataFrame({"customer_id": features["customer_id"].to_numpy()})
    for column, value in (
        ("r_score", -features["recency_days"].astype("float64")),
        ("f_score", features["orders_total"].astype("float64")),
        ("m_score", features["monetary_total"].astype("float64")),
    ):
        cuts = np.percentile(value.to_numpy()[buyer], [100 * q for q in QUINTILES])
        out[column] = np.where(buyer, 1 + (value.to_numpy()[:, None] > cuts).sum(axis=1), np.nan)
    tier = []
    for r, f, is_buyer in zip(out["r_score"], out["f_score"], buyer, strict=True):
        hits = [n for n, (r0, r1), (f0, f1) in TIERS if r0 <= r <= r1 and f0 <= f <= f1]
        tier.append(hits[0] if is_buyer and hits else PROSPECT)
    return out.assign(rfm_tier=tier)


def test_segments_score_each_date_against_its_own_quintiles(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two dates segmented in one Spark job = the pandas reference of the RFM rules, date by date."""
    from jobs import build_segments

    rt = segments_runtime(built[0], tmp_path, 28)
    build_segments.segment_dates(rt, [DATES[0], DATES[-1]], None, None)
    for d in (DATES[0], DATES[-1]):
        got = rt.lake.read_frame(datasets.CUSTOMER_SEGMENTS.at(d)).sort_values("customer_id", ignore_index=True)
        want = reference_rfm(rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(d))).sort_values(
            "customer_id", ignore_index=True
        )
        assert got["customer_id"].tolist() == want["customer_id"].tolist()
        for column in ("r_score", "f_score", "m_score"):
            assert np.array_equal(got[column].astype("float64"), want[column], equal_nan=True), (d, column)
        assert got["rfm_tier"].tolist() == want["rfm_tier"].tolist()
        assert got["rfm_tier"].nunique() >= 4 and got["cluster"].isna().all()  # no model: no clusters


def test_a_backfill_segments_dates_ahead_up_to_a_period_without_model(  # type: ignore[no-untyped-def]
    built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One run segments the following dates of its period in one job (not the next period's first
    date, whose own run fits its model); their runs claim them; the lake ends as date by date."""
    from jobs import build_segments

    daily = segments_runtime(built[0], tmp_path / "daily", 3)  # periods: 03-10 … 03-12, 03-13 …
    for d in DATES:
        build_segments.run(daily, d)
    rt = segments_runtime(built[0], tmp_path / "ahead", 3)
    first = build_segments.run(rt, DATES[0], ahead=5)
    assert first["kmeans_fitted_now"] and first["built_ahead"] == DATES[1:3]
    assert rt.lake.manifest(datasets.CUSTOMER_SEGMENTS.at(DATES[1]))["meta"]["built_ahead"]["by"] == DATES[0]
    assert not rt.lake.is_committed(datasets.CUSTOMER_SEGMENTS.at(DATES[3]))

    def must_not_build(*args: object, **kw: object) -> None:
        raise AssertionError(f"segmented again: {args[1]}")

    with monkeypatch.context() as m:
        m.setattr(build_segments, "build", must_not_build)
        claimed = [build_segments.run(rt, d) for d in DATES[1:3]]
    assert [r["built_ahead_by"] for r in claimed] == [DATES[0]] * 2
    assert build_segments.run(rt, DATES[3])["kmeans_fitted_now"]  # the new period's first date fits
    for dataset in (datasets.CUSTOMER_SEGMENTS, datasets.SEGMENT_MODELS):
        for d in rt.lake.committed_dates(dataset):
            assert rt.lake.manifest(dataset.at(d)) == daily.lake.manifest(dataset.at(d)), (dataset, d)
    assert len(daily.lake.committed_dates(datasets.SEGMENT_MODELS)) == 2


def test_segments_built_ahead_from_other_features_are_built_again(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A date whose features changed after it was segmented ahead is segmented again by its run."""
    from jobs import build_segments

    rt = segments_runtime(built[0], tmp_path, 28)
    build_segments.run(rt, DATES[0], ahead=1)
    ref = datasets.CUSTOMER_FEATURES.at(DATES[1])
    changed = rt.lake.read_frame(ref).assign(orders_total=0)  # e.g. rebuilt after a late correction
    rt.lake.write_frame(ref, changed)
    result = build_segments.run(rt, DATES[1])
    assert "built_ahead_by" not in result and set(result["tiers"]) == {"prospect"}
    assert "built_ahead" not in rt.lake.manifest(datasets.CUSTOMER_SEGMENTS.at(DATES[1]))["meta"]
