"""Point-in-time customer features and churn labels, as pure Spark transforms.

Everything is computed *as of* the end of day D from records dated on or before D that had
arrived by D (partition ``dt`` <= D). Nothing later can leak in.

Money is summed as decimals (exact, so independent of the order Spark adds rows in) and only then
turned into doubles: the same inputs give the same bytes on every run and every cluster layout.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

ORDER_WINDOWS = (30, 90, 365)
EVENT_TYPES_COUNTED = {
    "view": "views",
    "add_to_cart": "add_to_carts",
    "search": "searches",
    "email_open": "email_opens",
    "email_click": "email_clicks",
}
EVENT_WINDOW = 30
MONEY = "decimal(24,6)"  # exact sums of amounts with up to 6 decimals, up to 10^18

FEATURE_COLUMNS = [
    "recency_days",
    "tenure_days",
    "orders_total",
    "monetary_total",
    "avg_order_value",
    "days_between_orders",
    *[f"orders_{w}d" for w in ORDER_WINDOWS],
    *[f"monetary_{w}d" for w in ORDER_WINDOWS],
    *[f"{name}_{EVENT_WINDOW}d" for name in EVENT_TYPES_COUNTED.values()],
    f"events_{EVENT_WINDOW}d",
    f"events_prev_{EVENT_WINDOW}d",
    "days_since_last_event",
]


def customer_features(
    orders: DataFrame, events: DataFrame | None, customers: DataFrame | None, as_of: date
) -> DataFrame:
    """Recency/frequency/monetary and engagement features per customer as of ``as_of``.

    Args:
        orders: raw orders (customer_id, order_ts, amount, dt).
        events: raw behaviour events (customer_id, event_ts, event_type, dt), or None if the shop
            exports none (event features are then null).
        customers: raw customer records (customer_id, signup_ts, dt), or None.
        as_of: the feature date D.

    Returns:
        One row per customer known by D (signed up, or ordered): ``customer_id``, ``as_of`` and
        :data:`FEATURE_COLUMNS`.
    """
    from pyspark.sql import functions as F

    end = F.lit(as_of + timedelta(days=1)).cast("timestamp")
    d = F.lit(as_of)
    o = orders.where((F.col("dt") <= F.lit(str(as_of))) & (F.col("order_ts") < end)).select(
        "customer_id", F.col("amount").cast(MONEY).alias("amount"), F.to_date("order_ts").alias("day")
    )

    def within(days: int) -> Column:
        return F.datediff(d, F.col("day")) < days

    agg = [
        F.max("day").alias("last_order"),
        F.min("day").alias("first_order"),
        F.count(F.lit(1)).alias("orders_total"),
        F.sum("amount").alias("monetary_total"),
    ]
    for w in ORDER_WINDOWS:
        agg.append(F.sum(F.when(within(w), 1).otherwise(0)).alias(f"orders_{w}d"))
        agg.append(F.sum(F.when(within(w), F.col("amount"))).alias(f"monetary_{w}d"))
    order_feats = o.groupBy("customer_id").agg(*agg)

    ids = order_feats.select("customer_id")
    signup = None
    if customers is not None:
        c = customers.where((F.col("dt") <= F.lit(str(as_of))) & (F.col("signup_ts") < end))
        signup = c.groupBy("customer_id").agg(F.to_date(F.min("signup_ts")).alias("signup_day"))
        ids = ids.unionByName(signup.select("customer_id")).distinct()

    out = ids.join(order_feats, "customer_id", "left")
    if signup is not None:
        out = out.join(signup, "customer_id", "left")
    else:
        out = out.withColumn("signup_day", F.lit(None).cast("date"))
    first_seen = F.least(F.col("first_order"), F.col("signup_day"))
    out = (
        out.withColumn("recency_days", F.datediff(d, F.col("last_order")))
        .withColumn("tenure_days", F.datediff(d, first_seen))
        .withColumn("avg_order_value", (F.col("monetary_total") / F.col("orders_total")).cast("double"))
        .withColumn(
            "days_between_orders",
            F.when(
                F.col("orders_total") > 1,
                F.datediff(F.col("last_order"), F.col("first_order")) / (F.col("orders_total") - 1),
            ),
        )
    )
    for name in ("orders_total", *[f"orders_{w}d" for w in ORDER_WINDOWS]):
        out = out.withColumn(name, F.coalesce(F.col(name), F.lit(0)).cast("int"))
    for name in ("monetary_total", *[f"monetary_{w}d" for w in ORDER_WINDOWS]):
        out = out.withColumn(name, F.round(F.coalesce(F.col(name), F.lit(0)), 2).cast("double"))

    if events is None:  # the shop exports no behaviour: features unknown, not zero
        out = out.select("*", *[F.lit(None).cast("int").alias(c) for c in _event_columns()])
    else:
        out = out.join(_event_features(events, as_of), "customer_id", "left")
        for name in _event_columns()[:-1]:
            out = out.withColumn(name, F.coalesce(F.col(name), F.lit(0)).cast("int"))
    return out.select("customer_id", d.alias("as_of"), *[F.col(c) for c in FEATURE_COLUMNS])


def _event_columns() -> list[str]:
    return [
        *[f"{n}_{EVENT_WINDOW}d" for n in EVENT_TYPES_COUNTED.values()],
        f"events_{EVENT_WINDOW}d",
        f"events_prev_{EVENT_WINDOW}d",
        "days_since_last_event",
    ]


def _event_features(events: DataFrame, as_of: date) -> DataFrame:
    from pyspark.sql import functions as F

    end = F.lit(as_of + timedelta(days=1)).cast("timestamp")
    e = events.where((F.col("dt") <= F.lit(str(as_of))) & (F.col("event_ts") < end)).select(
        "customer_id", "event_type", F.datediff(F.lit(as_of), F.to_date("event_ts")).alias("age")
    )
    recent = F.col("age") < EVENT_WINDOW
    agg = [
        F.sum(F.when(recent & (F.col("event_type") == t), 1).otherwise(0)).alias(f"{n}_{EVENT_WINDOW}d")
        for t, n in EVENT_TYPES_COUNTED.items()
    ]
    agg += [
        F.sum(F.when(recent, 1).otherwise(0)).alias(f"events_{EVENT_WINDOW}d"),
        F.sum(F.when(~recent & (F.col("age") < 2 * EVENT_WINDOW), 1).otherwise(0)).alias(
            f"events_prev_{EVENT_WINDOW}d"
        ),
        F.min("age").alias("days_since_last_event"),
    ]
    return e.groupBy("customer_id").agg(*agg)


def churn_labels(orders: DataFrame, as_of: date, horizon_days: int) -> DataFrame:
    """Churn label at ``as_of`` for customers who had ordered by then.

    ``churned`` is 1 when the customer placed no order in (as_of, as_of + horizon]. Only valid once
    as_of + horizon has passed; callers must not ask earlier.
    """
    from pyspark.sql import functions as F

    day = F.to_date("order_ts")
    horizon_end = as_of + timedelta(days=horizon_days)
    o = orders.where(F.col("dt") <= F.lit(str(horizon_end))).select("customer_id", day.alias("day"))
    return (
        o.groupBy("customer_id")
        .agg(
            F.min("day").alias("first_order"),
            F.sum(F.when((F.col("day") > F.lit(as_of)) & (F.col("day") <= F.lit(horizon_end)), 1).otherwise(0)).alias(
                "orders_in_horizon"
            ),
        )
        .where(F.col("first_order") <= F.lit(as_of))
        .select(
            "customer_id", F.lit(as_of).alias("as_of"), (F.col("orders_in_horizon") == 0).cast("int").alias("churned")
        )
    )
