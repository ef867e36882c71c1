"""Per-customer daily aggregates: one raw partition day → one small ``daily/customer_day`` partition.

A row is (customer, activity day) within the raw partition ``dt`` it arrived in: orders are dated on
their partition day, events and returns up to :data:`~campaignflow.features.catalogue.MAX_LATENESS_DAYS`
before it. Keeping the arrival partition is what makes features point in time (a late event
counts from the day it arrived), keeping the activity day is what puts it in the right window.

Attribution rules (the DuckDB reference follows the same ones):

* an order line belongs to the order with its id in the same partition; lines of unknown orders
  are dropped (they cannot be attributed to a customer);
* a line's category and list price are the product's newest catalogue record dated on or before
  the line's partition; a line is discounted when bought more than half a cent below that price;
* a customer record makes the customer known from ``least(sign-up day, partition day)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from campaignflow.features.catalogue import COUNTERS, EVENT_TYPES, MONEY_COUNTERS

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

MONEY = "decimal(24,6)"  # exact sums of amounts with up to 6 decimals, up to 10^18
DISCOUNT_TOLERANCE = 0.005
KEY = ["dt", "customer_id", "day"]


def daily_types() -> dict[str, str]:
    """Column types of a customer_day partition (besides ``dt``), fixed so every day reads alike."""
    types = {"customer_id": "string", "day": "date"}
    types |= {c: (MONEY if c in MONEY_COUNTERS else "bigint") for c in COUNTERS}
    types |= {"first_seen": "date", "products": "array<string>", "category_units": "map<string,bigint>"}
    return types


def customer_day(tables: dict[str, DataFrame | None]) -> DataFrame:
    """Daily aggregates of raw partitions (one or many days; each frame carries a string ``dt``).

    ``tables`` maps raw table names to frames or None (not exported). ``orders`` is required;
    ``products`` must hold every catalogue partition up to the newest ``dt`` of the others.
    """
    from pyspark.sql import functions as F

    orders = tables["orders"]
    assert orders is not None
    o = orders.select(
        "dt", "order_id", "customer_id", F.to_date("order_ts").alias("day"), F.col("amount").cast(MONEY).alias("amount")
    )
    parts = [o.groupBy(*KEY).agg(F.count(F.lit(1)).alias("orders"), F.sum("amount").alias("monetary"))]
    if tables.get("order_lines") is not None:
        parts.append(_line_part(tables["order_lines"], o, tables.get("products")))  # type: ignore[arg-type]
    if tables.get("events") is not None:
        e = tables["events"].select("dt", "customer_id", F.to_date("event_ts").alias("day"), "event_type")  # type: ignore[union-attr]
        counts = [F.count_if(F.col("event_type") == t).alias(n) for t, n in EVENT_TYPES.items()]
        parts.append(e.groupBy(*KEY).agg(*counts, F.count(F.lit(1)).alias("events")))
    if tables.get("returns") is not None:
        r = tables["returns"].select(  # type: ignore[union-attr]
            "dt", "customer_id", F.to_date("return_ts").alias("day"), F.col("amount").cast(MONEY).alias("amount")
        )
        parts.append(r.groupBy(*KEY).agg(F.count(F.lit(1)).alias("returns"), F.sum("amount").alias("return_amount")))
    if tables.get("customers") is not None:
        c = tables["customers"].select(  # type: ignore[union-attr]
            "dt", "customer_id", F.least(F.to_date("signup_ts"), F.to_date("dt")).alias("seen")
        )
        parts.append(
            c.groupBy("dt", "customer_id").agg(F.min("seen").alias("first_seen")).withColumn("day", F.to_date("dt"))
        )

    types = daily_types()
    aligned = [p.select("dt", *[_typed(p, name, t) for name, t in types.items()]) for p in parts]
    rows = aligned[0]
    for p in aligned[1:]:
        rows = rows.unionByName(p)
    sums = [F.sum(c).cast(types[c]).alias(c) for c in COUNTERS]
    return rows.groupBy(*KEY).agg(
        *sums,
        F.min("first_seen").alias("first_seen"),
        F.first("products", ignorenulls=True).alias("products"),
        F.first("category_units", ignorenulls=True).alias("category_units"),
    )


def _typed(frame: DataFrame, name: str, type_: str) -> Column:
    from pyspark.sql import functions as F

    col = F.col(name) if name in frame.columns else F.lit(None)
    return col.cast(type_).alias(name)


def _line_part(lines: DataFrame, orders: DataFrame, products: DataFrame | None) -> DataFrame:
    """Lines joined to their order (same partition), with the catalogue as of the line's day."""
    from pyspark.sql import functions as F

    line = lines.select(
        "dt", "order_id", "product_id", F.col("quantity").cast("bigint").alias("quantity"), "unit_price"
    )
    line = line.join(orders.select("dt", "order_id", "customer_id", "day"), ["dt", "order_id"])
    if products is not None:
        keys = line.select("dt", "product_id").distinct()
        p = products.select("product_id", F.col("dt").alias("p_dt"), "category", "price")
        asof = (
            keys.join(p, "product_id")
            .where(F.col("p_dt") <= F.col("dt"))
            .groupBy("dt", "product_id")
            .agg(F.max_by("category", "p_dt").alias("category"), F.max_by("price", "p_dt").alias("price"))
        )
        line = line.join(asof, ["dt", "product_id"], "left")
        discounted = F.count_if(F.col("unit_price") < F.col("price") - DISCOUNT_TOLERANCE)
    else:
        line = line.withColumn("category", F.lit(None).cast("string"))
        discounted = F.lit(None)
    per_day = line.groupBy(*KEY).agg(
        F.count(F.lit(1)).alias("lines"),
        F.sum("quantity").alias("units"),
        discounted.alias("discounted_lines"),
        F.array_sort(F.collect_set("product_id")).alias("products"),
    )
    by_category = (
        line.where(F.col("category").isNotNull())
        .groupBy(*KEY, "category")
        .agg(F.sum("quantity").alias("units"))
        .groupBy(*KEY)
        .agg(F.map_from_entries(F.array_sort(F.collect_list(F.struct("category", "units")))).alias("category_units"))
    )
    return per_day.join(by_category, KEY, "left")
