"""Segments as of D: RFM scores with named tiers, and a k-means cluster.

RFM: among customers who have ordered, recency, frequency (orders) and monetary value (all time)
are scored 1-5 against their exact quintiles on D (5 = most recent / most frequent / highest
spend; equal values get equal scores). The tier follows the usual R x F segment map. Customers
who never ordered are ``prospect``.

k-means: Spark MLlib on standardised log features, fitted on a training date and then applied
by a pure expression (nearest centre), so the model is a small JSON document stored in the lake.
Clusters are numbered by their centre's spend, lowest first, so a refit keeps the order meaningful.
"""

from __future__ import annotations

import gc
import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from campaignflow.settings import EARLIEST_DATE

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

QUINTILES = [0.2, 0.4, 0.6, 0.8]
# (tier, R range, F range), first match wins: the common RFM segment map.
TIERS = [
    ("champions", (5, 5), (4, 5)),
    ("loyal", (3, 4), (4, 5)),
    ("cannot_lose", (1, 2), (5, 5)),
    ("at_risk", (1, 2), (3, 4)),
    ("hibernating", (1, 2), (1, 2)),
    ("about_to_sleep", (3, 3), (1, 2)),
    ("need_attention", (3, 3), (3, 3)),
    ("new_customers", (5, 5), (1, 1)),
    ("promising", (4, 4), (1, 1)),
    ("potential_loyalist", (4, 5), (2, 3)),
]
PROSPECT = "prospect"
KMEANS_FEATURES = ["recency_days", "orders_total", "monetary_total", "avg_order_value", "tenure_days"]
SEGMENT_COLUMNS = ["r_score", "f_score", "m_score", "rfm_tier", "cluster"]


@dataclass(frozen=True)
class KMeansSegments:
    """A fitted k-means segmentation: standardisation, centres (ordered by spend), provenance."""

    k: int
    features: list[str]
    mean: list[float]
    std: list[float]
    centers: list[list[float]]
    fitted_on: str
    seed: int
    customers: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KMeansSegments:
        return cls(**data)


def _log(feature: str) -> Column:
    """log1p of a non-negative feature (nulls and negatives as 0)."""
    from pyspark.sql import functions as F

    return F.log1p(F.greatest(F.coalesce(F.col(feature).cast("double"), F.lit(0.0)), F.lit(0.0)))


def _scaled(features: list[str], mean: list[float], std: list[float]) -> list[Column]:
    return [(_log(c) - m) / s for c, m, s in zip(features, mean, std, strict=True)]


def fit_kmeans(features: DataFrame, fitted_on: str, k: int = 6, seed: int = 7) -> KMeansSegments:
    """Fit k-means (MLlib) on the customers who have ordered."""
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    buyers = features.where(F.col("orders_total") > 0)
    logs = buyers.select(*[_log(c).alias(c) for c in KMEANS_FEATURES])
    stats = logs.agg(
        *[F.avg(c).alias(f"m_{c}") for c in KMEANS_FEATURES],
        *[F.stddev_pop(c).alias(f"s_{c}") for c in KMEANS_FEATURES],
        F.count(F.lit(1)).alias("n"),
    ).first()
    assert stats is not None
    n = int(stats["n"])
    if n < k:
        raise ValueError(f"k-means needs at least {k} customers with orders on {fitted_on}, found {n}")
    mean = [float(stats[f"m_{c}"]) for c in KMEANS_FEATURES]
    std = [float(stats[f"s_{c}"]) or 1.0 for c in KMEANS_FEATURES]
    scaled = buyers.select(
        *[x.alias(c) for x, c in zip(_scaled(KMEANS_FEATURES, mean, std), KMEANS_FEATURES, strict=True)]
    )
    vectors = VectorAssembler(inputCols=KMEANS_FEATURES, outputCol="features").transform(scaled)
    model = KMeans(k=k, seed=seed, maxIter=50).fit(vectors)
    centers = [[float(x) for x in c] for c in model.clusterCenters()]
    del model  # on Spark Connect, free the server-side model now: its release at interpreter exit can hang
    gc.collect()
    spend = KMEANS_FEATURES.index("monetary_total")
    centers.sort(key=lambda c: (c[spend], c))
    return KMeansSegments(k, list(KMEANS_FEATURES), mean, std, centers, fitted_on, seed, n)


def segments(features: DataFrame, model: KMeansSegments | None) -> DataFrame:
    """RFM scores, tier and cluster (null without a model; -1 for customers who never ordered) of
    features with a ``dt`` column: each date scored against its own quintiles."""
    from pyspark.sql import functions as F

    buyer = F.col("orders_total") > 0
    quintiles = (
        features.where(buyer)
        .groupBy(F.col("dt").alias("_dt"))
        .agg(
            F.percentile(-F.col("recency_days"), QUINTILES).alias("_r"),
            F.percentile("orders_total", QUINTILES).alias("_f"),
            F.percentile("monetary_total", QUINTILES).alias("_m"),
        )
    )
    scored = features.join(F.broadcast(quintiles), F.col("dt") == F.col("_dt"), "left")

    def score(value: Column, cuts: str) -> Column:
        above = sum((F.when(value > F.col(cuts)[i], 1).otherwise(0) for i in range(len(QUINTILES))), F.lit(0))
        return F.when(buyer, F.lit(1) + above).cast("int")  # a date without buyers has no cuts, nor buyers

    out = scored.select(
        "dt",
        "customer_id",
        "as_of",
        score(-F.col("recency_days"), "_r").alias("r_score"),
        score(F.col("orders_total"), "_f").alias("f_score"),
        score(F.col("monetary_total"), "_m").alias("m_score"),
        *[F.col(c) for c in KMEANS_FEATURES],
        "orders_total",
    )
    tier: Column = F.lit(PROSPECT)
    for name, (r_lo, r_hi), (f_lo, f_hi) in reversed(TIERS):
        match = F.col("r_score").between(r_lo, r_hi) & F.col("f_score").between(f_lo, f_hi)
        tier = F.when(match, F.lit(name)).otherwise(tier)
    out = out.withColumn("rfm_tier", F.when(buyer, tier).otherwise(F.lit(PROSPECT)))
    out = out.withColumn("cluster", _nearest(model) if model else F.lit(None).cast("int"))
    return out.select("dt", "customer_id", "as_of", *SEGMENT_COLUMNS)


def _nearest(model: KMeansSegments) -> Column:
    from pyspark.sql import functions as F

    scaled = _scaled(model.features, model.mean, model.std)
    distances = [
        sum(((x - F.lit(c)) * (x - F.lit(c)) for x, c in zip(scaled, center, strict=True)), F.lit(0.0))
        for center in model.centers
    ]
    nearest = F.array_position(F.array(*distances), F.array_min(F.array(*distances))) - 1
    return F.when(F.col("orders_total") > 0, nearest).otherwise(F.lit(-1)).cast("int")


def period_start(day: str, period_days: int) -> str:
    """Start of the refit period a date falls in (periods of ``period_days`` from 1980-01-01)."""
    offset = (date.fromisoformat(day) - EARLIEST_DATE).days
    return (EARLIEST_DATE + timedelta(days=period_days * math.floor(offset / period_days))).isoformat()
