"""The feature state as of D and its daily step, as pure Spark transforms over ``daily/customer_day``.

The state holds, per customer, every windowed counter of
:data:`~campaignflow.features.catalogue.COUNTERS` as exact sums, first/last activity days, distinct
products and units per category, and the sums behind the inter-purchase statistics. Features are
a projection of it (:func:`features_from_state`).

* :func:`fold` builds the state as of D from scratch from all daily rows up to D (first run, gaps,
  late corrections);
* :func:`advance` moves the state of D-1 to D reading only day D's rows and the rows of the few
  days that leave a window at D: cost O(one day's data + customers), not O(history);
* :func:`advance_range` gives the states of several consecutive dates in one pass from the state of
  the day before the first (backfills, rebuilding the dates after a late correction): each day's
  movement summed cumulatively, so a range costs about one Spark job, not one per date.

All give the same state: windows are exact integer/decimal sums (adding day D and subtracting
day D-w is exact) and the inter-purchase sums extend because orders arrive on their own day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from campaignflow.features.catalogue import (
    CATALOGUE,
    COUNTERS,
    EVENT_TYPES,
    FEATURE_COLUMNS,
    FEATURE_TYPES,
    MAX_LATENESS_DAYS,
    MONEY_COUNTERS,
    state_counter_columns,
)
from campaignflow.features.daily import MONEY

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

WINDOWS = sorted({w for windows, _ in COUNTERS.values() for w in windows})
EVENT_COUNTERS = [*EVENT_TYPES.values(), "events"]  # each keeps the day it last happened


def window_source_dates(as_of: date) -> list[str]:
    """Daily partitions :func:`advance` reads at D: D itself and those holding days that leave a window."""
    days = {as_of}
    for w in WINDOWS:
        leaving = as_of - timedelta(days=w)
        days |= {
            leaving + timedelta(days=k) for k in range(MAX_LATENESS_DAYS + 1) if leaving + timedelta(days=k) < as_of
        }
    return sorted(d.isoformat() for d in days)


def _counter_type(name: str) -> str:
    return MONEY if name in MONEY_COUNTERS else "bigint"


def _partial(rows: DataFrame, keys: tuple[str, ...] = ("customer_id",)) -> DataFrame:
    """Everything but the windows, from a set of daily rows: per customer (or per ``keys``)."""
    from pyspark.sql import functions as F

    orders = F.coalesce(F.col("orders"), F.lit(0)) > 0
    aggs = [
        F.min(F.when(orders, F.col("day"))).alias("first_order_day"),
        F.max(F.when(orders, F.col("day"))).alias("last_order_day"),
        F.min("first_seen").alias("first_seen"),
        *[F.max(F.when(F.col(c) > 0, F.col("day"))).alias(f"last_{c}_day") for c in EVENT_COUNTERS],
        F.array_sort(F.array_distinct(F.flatten(F.collect_list("products")))).alias("products"),
    ]
    base = rows.groupBy(*keys).agg(*aggs)
    categories = (
        rows.select(*keys, F.explode("category_units").alias("category", "units"))
        .groupBy(*keys, "category")
        .agg(F.sum("units").alias("units"))
        .groupBy(*keys)
        .agg(F.map_from_entries(F.array_sort(F.collect_list(F.struct("category", "units")))).alias("category_units"))
    )
    # Gaps between consecutive distinct order days; same-day repeat orders add gaps of 0.
    days = rows.where(orders).select(*keys, "day").distinct()
    from pyspark.sql.window import Window

    gap = F.datediff(F.col("day"), F.lag("day").over(Window.partitionBy(*keys).orderBy("day")))
    gaps = (
        days.select(*keys, gap.cast("bigint").alias("gap"))
        .groupBy(*keys)
        .agg(
            F.coalesce(F.sum("gap"), F.lit(0)).alias("gap_sum"),
            F.coalesce(F.sum(F.col("gap") * F.col("gap")), F.lit(0)).alias("gap_sq_sum"),
        )
    )
    return base.join(categories, list(keys), "left").join(gaps, list(keys), "left")


def _window_sums(rows: DataFrame, as_of: date) -> DataFrame:
    from pyspark.sql import functions as F

    d = F.lit(as_of)
    aggs = []
    for name, (windows, total) in COUNTERS.items():
        aggs += [F.sum(F.when(F.datediff(d, F.col("day")) < w, F.col(name))).alias(f"{name}_{w}d") for w in windows]
        if total:
            aggs.append(F.sum(name).alias(f"{name}_total"))
    return rows.groupBy("customer_id").agg(*aggs)


def fold(rows: DataFrame, as_of: date) -> DataFrame:
    """The state as of D from all daily rows with ``dt`` <= D."""
    from pyspark.sql import functions as F

    rows = rows.where(F.col("dt") <= F.lit(as_of.isoformat()))
    return _shape(_partial(rows).join(_window_sums(rows, as_of), "customer_id", "full"))


def advance(previous: DataFrame, rows: DataFrame, as_of: date) -> DataFrame:
    """The state as of D from the state as of D-1 and the daily rows of :func:`window_source_dates`."""
    from pyspark.sql import functions as F

    today = F.col("dt") == F.lit(as_of.isoformat())
    delta = rows.groupBy("customer_id").agg(*_deltas(F.lit(as_of), F.col("dt")))
    news = _partial(rows.where(today))
    p = previous.alias("p")
    joined = p.join(delta.alias("w"), "customer_id", "full").join(news.alias("n"), "customer_id", "full")

    def add(col: str, source: str) -> Column:
        return F.coalesce(F.col(f"p.{col}"), F.lit(0)) + F.coalesce(F.col(f"{source}.{col}"), F.lit(0))

    cols = [F.col("customer_id")]
    cols += [add(c, "w").alias(c) for c in state_counter_columns()]
    cols += [
        F.least("p.first_order_day", "n.first_order_day").alias("first_order_day"),
        F.greatest("p.last_order_day", "n.last_order_day").alias("last_order_day"),
        F.least("p.first_seen", "n.first_seen").alias("first_seen"),
        *[F.greatest(f"p.last_{c}_day", f"n.last_{c}_day").alias(f"last_{c}_day") for c in EVENT_COUNTERS],
        F.array_sort(F.array_union(_or_empty("p.products"), _or_empty("n.products"))).alias("products"),
        F.map_zip_with(
            _or_empty_map("p.category_units"),
            _or_empty_map("n.category_units"),
            lambda _k, a, b: F.coalesce(a, F.lit(0)) + F.coalesce(b, F.lit(0)),
        ).alias("category_units"),
    ]
    bridge = F.datediff(F.col("n.first_order_day"), F.col("p.last_order_day")).cast("bigint")  # null unless both
    cols += [
        (add("gap_sum", "n") + F.coalesce(bridge, F.lit(0))).alias("gap_sum"),
        (add("gap_sq_sum", "n") + F.coalesce(bridge * bridge, F.lit(0))).alias("gap_sq_sum"),
    ]
    return _shape(joined.select(*cols))


def _deltas(as_of: Column, dt: Column) -> list[Column]:
    """Aggregates of daily rows: how each windowed counter and total moves from the day before
    ``as_of`` to ``as_of`` (rows of partition ``as_of`` enter, rows ``w`` days old from earlier
    partitions leave window ``w``); ``dt`` is the rows' partition date as a string."""
    from pyspark.sql import functions as F

    day = F.date_format(as_of, "yyyy-MM-dd")
    today, earlier, age = dt == day, dt < day, F.datediff(as_of, F.col("day"))
    deltas = []
    for name, (windows, total) in COUNTERS.items():
        for w in windows:
            entering = F.sum(F.when(today & (age < w), F.col(name)))
            leaving = F.sum(F.when(earlier & (age == w), F.col(name)))
            deltas.append((F.coalesce(entering, F.lit(0)) - F.coalesce(leaving, F.lit(0))).alias(f"{name}_{w}d"))
        if total:
            deltas.append(F.sum(F.when(today, F.col(name))).alias(f"{name}_total"))
    return deltas


def range_source_dates(dates: list[str]) -> list[str]:
    """Daily partitions :func:`advance_range` reads for ``dates``: those :func:`advance` reads for each."""
    return sorted({d for as_of in dates for d in window_source_dates(date.fromisoformat(as_of))})


def advance_range(previous: DataFrame, rows: DataFrame, dates: list[str]) -> DataFrame:
    """The states as of each of ``dates`` (consecutive days, a string ``dt`` column) from the state
    of the day before the first and the daily rows of :func:`range_source_dates`, in one pass.

    The same states as :func:`advance` applied date after date: every day's movement of the
    counters (:func:`_deltas`, grouped by customer and day) summed cumulatively onto the previous
    state; first/last days as running minima/maxima; products and category units as running unions
    and sums; the inter-purchase sums extended by each day's own gaps and its bridge from the last
    order day before it. A customer appears from the first day they have rows on.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    spark = rows.sparkSession
    first, last = date.fromisoformat(dates[0]), date.fromisoformat(dates[-1])
    if [date.fromisoformat(d) for d in dates] != [first + timedelta(days=k) for k in range(len(dates))]:
        raise ValueError(f"advance_range needs consecutive days, got {dates}")
    rows = rows.where(F.col("dt") <= F.lit(dates[-1]))
    in_range = F.col("as_of").between(F.lit(first), F.lit(last)) & (F.col("as_of") >= F.to_date("dt"))
    # each row moves the counters on the day it arrives and on each day it leaves a window
    moves = F.array_distinct(F.array(F.to_date("dt"), *[F.date_add("day", w) for w in WINDOWS]))
    exploded = rows.withColumn("as_of", F.explode(moves)).where(in_range)
    delta = exploded.groupBy("customer_id", "as_of").agg(*_deltas(F.col("as_of"), F.col("dt")))
    arrived = rows.where(F.col("dt") >= F.lit(dates[0])).withColumn("as_of", F.to_date("dt"))
    news = _partial(arrived, ("customer_id", "as_of"))
    born = delta.select("customer_id", "as_of").unionByName(news.select("customer_id", "as_of"))
    born = born.groupBy("customer_id").agg(F.min("as_of").alias("born"))
    days = spark.createDataFrame([(d,) for d in dates], "dt string").select(F.to_date("dt").alias("as_of"))
    p = previous.select(*[F.col(c).alias(f"p_{c}") if c != "customer_id" else F.col(c) for c in previous.columns])
    customers = p.select("customer_id", F.lit(True).alias("in_previous")).join(born, "customer_id", "full")
    grid = (
        customers.crossJoin(days)
        .where(F.coalesce(F.col("in_previous"), F.lit(False)) | (F.col("as_of") >= F.col("born")))
        .join(p, "customer_id", "left")
        .join(delta.alias("w"), ["customer_id", "as_of"], "left")
        .join(news.alias("n"), ["customer_id", "as_of"], "left")
    )
    upto = Window.partitionBy("customer_id").orderBy("as_of").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    before = Window.partitionBy("customer_id").orderBy("as_of").rowsBetween(Window.unboundedPreceding, -1)

    def running(col: str, source: str) -> Column:
        return F.coalesce(F.col(f"p_{col}"), F.lit(0)) + F.coalesce(
            F.sum(F.col(f"{source}.{col}")).over(upto), F.lit(0)
        )

    cols = [F.date_format("as_of", "yyyy-MM-dd").alias("dt"), F.col("customer_id")]
    cols += [running(c, "w").alias(c) for c in state_counter_columns()]
    cols += [
        F.least("p_first_order_day", F.min("n.first_order_day").over(upto)).alias("first_order_day"),
        F.greatest("p_last_order_day", F.max("n.last_order_day").over(upto)).alias("last_order_day"),
        F.least("p_first_seen", F.min("n.first_seen").over(upto)).alias("first_seen"),
        *[
            F.greatest(f"p_last_{c}_day", F.max(f"n.last_{c}_day").over(upto)).alias(f"last_{c}_day")
            for c in EVENT_COUNTERS
        ],
        F.array_sort(
            F.array_distinct(F.concat(_or_empty("p_products"), F.flatten(F.collect_list("n.products").over(upto))))
        ).alias("products"),
        F.aggregate(
            F.collect_list("n.category_units").over(upto),
            _or_empty_map("p_category_units"),
            lambda acc, m: F.map_zip_with(acc, m, lambda _k, a, b: F.coalesce(a, F.lit(0)) + F.coalesce(b, F.lit(0))),
        ).alias("category_units"),
    ]
    last_before = F.greatest("p_last_order_day", F.max("n.last_order_day").over(before))
    bridge = F.datediff(F.col("n.first_order_day"), last_before).cast("bigint")  # null unless both
    gap_step = F.coalesce(F.col("n.gap_sum"), F.lit(0)) + F.coalesce(bridge, F.lit(0))
    gap_sq_step = F.coalesce(F.col("n.gap_sq_sum"), F.lit(0)) + F.coalesce(bridge * bridge, F.lit(0))
    steps = grid.select("*", gap_step.alias("_gap"), gap_sq_step.alias("_gap_sq"))
    cols += [
        (F.coalesce(F.col("p_gap_sum"), F.lit(0)) + F.sum("_gap").over(upto)).alias("gap_sum"),
        (F.coalesce(F.col("p_gap_sq_sum"), F.lit(0)) + F.sum("_gap_sq").over(upto)).alias("gap_sq_sum"),
    ]
    return _shape(steps.select(*cols), ("dt",))


def _or_empty(col: str) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(F.col(col), F.array().cast("array<string>"))


def _or_empty_map(col: str) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(F.col(col), F.create_map().cast("map<string,bigint>"))


def state_types() -> dict[str, str]:
    types = {"customer_id": "string"}
    for name, (windows, total) in COUNTERS.items():
        types |= {f"{name}_{w}d": _counter_type(name) for w in windows}
        if total:
            types[f"{name}_total"] = _counter_type(name)
    types |= {"first_order_day": "date", "last_order_day": "date", "first_seen": "date"}
    types |= {f"last_{c}_day": "date" for c in EVENT_COUNTERS}
    types |= {
        "products": "array<string>",
        "category_units": "map<string,bigint>",
        "gap_sum": "bigint",
        "gap_sq_sum": "bigint",
    }
    return types


def _shape(frame: DataFrame, leading: tuple[str, ...] = ()) -> DataFrame:
    """Fixed column order and types, zeros for absent counters and empty collections, category
    units in key order (so every way of building a state writes the same map)."""
    from pyspark.sql import functions as F

    out = [F.col(c) for c in leading]
    zero_if_absent = {*state_counter_columns(), "gap_sum", "gap_sq_sum"}
    for name, type_ in state_types().items():
        col = F.col(name)
        if name in zero_if_absent:
            col = F.coalesce(col, F.lit(0))
        elif name == "products":
            col = _or_empty(name)
        elif name == "category_units":
            col = F.map_from_entries(F.array_sort(F.map_entries(_or_empty_map(name))))
        out.append(col.cast(type_).alias(name))
    return frame.select(*out)


def features_from_state(
    state: DataFrame, as_of: date | Column, present: set[str], leading: tuple[str, ...] = ()
) -> DataFrame:
    """The catalogue's features as of D; ``present`` are the raw tables the shop has exported by D.

    Customers are those known by D: ordered, or in the customer export. Features of a table the
    shop does not export are null. ``as_of`` is a date, or a column of states of several dates
    (whose ``leading`` columns, e.g. ``dt``, are kept first).
    """
    from pyspark.sql import functions as F

    d = F.lit(as_of) if isinstance(as_of, date) else as_of
    first_seen = F.least("first_seen", "first_order_day")
    s = state.where(first_seen.isNotNull())

    def money(col: str) -> Column:
        return F.round(F.col(col).cast("double"), 2)

    def since(day: str) -> Column:
        return F.datediff(d, F.col(day))

    def trend(name: str) -> Column:
        last, before = F.col(f"{name}_30d"), F.col(f"{name}_60d") - F.col(f"{name}_30d")
        return ((last + 1).cast("double") / (before + 1).cast("double")).cast("double")

    n = F.col("orders_total")
    intervals = n - 1
    mean = F.col("gap_sum").cast("double") / intervals
    units_known = F.aggregate(F.map_values("category_units"), F.lit(0).cast("bigint"), lambda a, b: a + b)
    top_units = F.array_max(F.map_values("category_units"))
    f: dict[str, Column] = {
        "recency_days": since("last_order_day"),
        "days_since_first_order": since("first_order_day"),
        "tenure_days": F.datediff(d, first_seen),
        "orders_total": n,
        "monetary_total": money("monetary_total"),
        "avg_order_value": F.when(n > 0, F.round(F.col("monetary_total").cast("double") / n, 6)),
        "interpurchase_days_mean": F.when(intervals > 0, mean),
        "interpurchase_days_std": F.when(
            intervals > 0, F.sqrt(F.greatest(F.col("gap_sq_sum").cast("double") / intervals - mean * mean, F.lit(0.0)))
        ),
    }
    f |= {f"orders_{w}d": F.col(f"orders_{w}d") for w in (30, 90, 180, 365)}
    f |= {f"monetary_{w}d": money(f"monetary_{w}d") for w in (30, 90, 180, 365)}
    f |= {f"{c}_trend_30d": trend(c) for c in ("orders", "monetary", "events")}
    f |= {f"{c}_{w}d": F.col(f"{c}_{w}d") for c in (*EVENT_TYPES.values(), "events") for w in (7, 30, 90)}
    f |= {f"days_since_last_{t}": since(f"last_{c}_day") for t, c in EVENT_TYPES.items()}
    f["days_since_last_event"] = since("last_events_day")
    f |= {
        "distinct_products": F.size("products"),
        "distinct_categories": F.size(F.map_keys("category_units")),
        "top_category_share": F.when(units_known > 0, top_units.cast("double") / units_known.cast("double")),
        "units_total": F.col("units_total"),
        "discount_share": F.when(
            F.col("lines_total") > 0, F.col("discounted_lines_total").cast("double") / F.col("lines_total")
        ),
        "returns_365d": F.col("returns_365d"),
        "return_amount_365d": money("return_amount_365d"),
        "return_rate_365d": F.when(
            F.col("monetary_365d") > 0,
            F.round(F.col("return_amount_365d").cast("double") / F.col("monetary_365d").cast("double"), 6),
        ),
    }
    cols = [*[F.col(c) for c in leading], F.col("customer_id"), d.alias("as_of")]
    for name in FEATURE_COLUMNS:
        col = f[name]
        if not required_tables(name) <= present:
            col = F.lit(None)
        cols.append(col.cast("int" if FEATURE_TYPES[name] == "int" else "double").alias(name))
    return s.select(*cols)


def required_tables(feature: str) -> set[str]:
    """Raw tables a feature needs (categories and discounts need the lines and the catalogue)."""
    table = next(f.source for f in CATALOGUE if f.name == feature)
    return {"order_lines", "products"} if table == "products" else {table}
