"""Labels at T with horizon H, from the daily aggregates: churn and future value.

For every customer who had ordered by T (features as of T): ``churned`` = 1 when the customer
placed no order in (T, T+H], ``future_orders`` and ``future_value`` = orders and spend in that
window. A label at T exists only once the data reaches T+H (the caller checks).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

LABEL_COLUMNS = ["churned", "future_orders", "future_value"]


def labels(features: DataFrame, daily: DataFrame | None, as_of: date, horizon_days: int) -> DataFrame:
    """Labels at T = ``as_of`` for customers in ``features`` (as of T) with at least one order.

    ``daily`` holds the customer_day rows of the partitions in (T, T+H] (None: none committed).
    """
    from pyspark.sql import functions as F

    end = as_of + timedelta(days=horizon_days)
    # customers with an order by T: the same rule as models.training_set.in_population (pandas)
    population = features.where(F.col("orders_total") > 0).select("customer_id")
    if daily is None:
        future = population.select("customer_id", F.lit(0).alias("n"), F.lit(0).alias("spend"))
    else:
        window = (F.col("dt") > F.lit(as_of.isoformat())) & (F.col("dt") <= F.lit(end.isoformat()))
        future = (
            daily.where(window & (F.col("orders") > 0))
            .groupBy("customer_id")
            .agg(F.sum("orders").alias("n"), F.sum("monetary").alias("spend"))
        )
    out = population.join(future, "customer_id", "left")
    n = F.coalesce(F.col("n"), F.lit(0))
    return out.select(
        "customer_id",
        F.lit(as_of).alias("as_of"),
        (n == 0).cast("int").alias("churned"),
        n.cast("int").alias("future_orders"),
        F.round(F.coalesce(F.col("spend"), F.lit(0)).cast("double"), 2).alias("future_value"),
    )
