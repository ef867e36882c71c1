"""The reference engine: the catalogue's features as of D computed by DuckDB from raw data, in SQL.

Written independently of the Spark path (no daily aggregates, no state: one query over every raw
row up to D), it is the oracle of the differential tests and the baseline of ``bench/``. It follows
the attribution rules of :mod:`campaignflow.features.daily`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from campaignflow.features.catalogue import EVENT_TYPES, FEATURE_COLUMNS, FEATURE_TYPES
from campaignflow.features.daily import DISCOUNT_TOLERANCE
from campaignflow.features.state import required_tables
from campaignflow.ingest.schemas import TABLES
from campaignflow.io import datasets
from campaignflow.io.lake import Lake

if TYPE_CHECKING:
    import duckdb

_COLUMNS = {
    "orders": "dt, order_id, customer_id, order_ts, amount",
    "order_lines": "dt, order_id, product_id, quantity, unit_price",
    "products": "dt, product_id, category, price",
    "events": "dt, customer_id, event_ts, event_type",
    "customers": "dt, customer_id, signup_ts",
    "returns": "dt, customer_id, return_ts, amount",
}
_DUCKDB_TYPES = {"string": "VARCHAR", "timestamp": "TIMESTAMP", "float": "DOUBLE", "int": "BIGINT", "bool": "BOOLEAN"}


def _empty_view(table: str) -> str:
    """A typed, empty stand-in for a table the shop does not export."""
    kinds = {c.name: c.kind for c in TABLES[table].columns} | {"dt": "string"}
    names = [c.strip() for c in _COLUMNS[table].split(",")]
    return ", ".join(f"CAST(NULL AS {_DUCKDB_TYPES[kinds[n]]}) AS {n}" for n in names)


def load_raw(con: duckdb.DuckDBPyConnection, lake: Lake, end: str) -> set[str]:
    """Register each raw table's committed files up to ``end`` as a DuckDB view; the tables present."""
    present = set()
    for table, columns in _COLUMNS.items():
        dates = lake.committed_dates(datasets.raw(table), end=end)
        files = [lake.store.spark_path(k) for d in dates for k in lake.data_keys(datasets.raw(table).at(d))]
        files = [f.removeprefix("file://") for f in files if f.endswith(".parquet")]
        if files:
            present.add(table)
            listing = ", ".join(f"'{f}'" for f in files)
            source = f"read_parquet([{listing}], hive_partitioning = true, hive_types = {{'dt': VARCHAR}})"
            con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT {columns} FROM {source}")
        else:
            con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT {_empty_view(table)} WHERE false")
    return present


def reference_features(lake: Lake, as_of: date) -> pd.DataFrame:
    """Features as of D for every known customer, sorted by customer_id."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    present = load_raw(con, lake, as_of.isoformat())
    frame = con.execute(_sql(as_of)).df()
    con.close()
    for name in FEATURE_COLUMNS:
        if not required_tables(name) <= present:
            frame[name] = None
        frame[name] = frame[name].astype("Int64" if FEATURE_TYPES[name] == "int" else "float64")
    return frame[["customer_id", *FEATURE_COLUMNS]].sort_values("customer_id").reset_index(drop=True)


def _sql(as_of: date) -> str:
    d = f"DATE '{as_of.isoformat()}'"
    dt = f"'{as_of.isoformat()}'"

    def age(col: str) -> str:
        return f"date_diff('day', {col}, {d})"

    win = {f"orders_{w}d": f"count(*) FILTER (WHERE {age('day')} < {w})" for w in (30, 60, 90, 180, 365)} | {
        f"monetary_{w}d": f"coalesce(sum(amount) FILTER (WHERE {age('day')} < {w}), 0)" for w in (30, 60, 90, 180, 365)
    }
    order_cols = ",\n".join(f"{expr} AS {name}" for name, expr in win.items())
    event_cols = []
    for raw, counter in EVENT_TYPES.items():
        event_cols += [
            f"count(*) FILTER (WHERE event_type = '{raw}' AND {age('day')} < {w}) AS {counter}_{w}d"
            for w in (7, 30, 90)
        ]
        event_cols.append(f"max(day) FILTER (WHERE event_type = '{raw}') AS last_{counter}")
    event_cols += [f"count(*) FILTER (WHERE {age('day')} < {w}) AS events_{w}d" for w in (7, 30, 60, 90)]
    event_cols.append("max(day) AS last_event")
    money = "round(CAST({} AS DOUBLE), 2)"
    trend = "CAST(({a} + 1) AS DOUBLE) / CAST(({b} - {a} + 1) AS DOUBLE)"
    select = {
        "recency_days": age("o.last_order"),
        "days_since_first_order": age("o.first_order"),
        "tenure_days": age("least(o.first_order, c.first_seen)"),
        "orders_total": "coalesce(o.n, 0)",
        "monetary_total": money.format("coalesce(o.monetary, 0)"),
        "avg_order_value": "round(CAST(o.monetary AS DOUBLE) / o.n, 6)",
        "interpurchase_days_mean": "CASE WHEN o.n > 1 THEN g.s / (o.n - 1) END",
        "interpurchase_days_std": "CASE WHEN o.n > 1 THEN "
        "sqrt(greatest(g.sq / (o.n - 1) - (g.s / (o.n - 1)) ^ 2, 0)) END",
    }
    select |= {f"orders_{w}d": f"coalesce(o.orders_{w}d, 0)" for w in (30, 90, 180, 365)}
    select |= {f"monetary_{w}d": money.format(f"coalesce(o.monetary_{w}d, 0)") for w in (30, 90, 180, 365)}
    select["orders_trend_30d"] = trend.format(a="coalesce(o.orders_30d, 0)", b="coalesce(o.orders_60d, 0)")
    select["monetary_trend_30d"] = trend.format(a="coalesce(o.monetary_30d, 0)", b="coalesce(o.monetary_60d, 0)")
    select["events_trend_30d"] = trend.format(a="coalesce(e.events_30d, 0)", b="coalesce(e.events_60d, 0)")
    for counter in (*EVENT_TYPES.values(), "events"):
        select |= {f"{counter}_{w}d": f"coalesce(e.{counter}_{w}d, 0)" for w in (7, 30, 90)}
    select |= {f"days_since_last_{raw}": age(f"e.last_{counter}") for raw, counter in EVENT_TYPES.items()}
    select["days_since_last_event"] = age("e.last_event")
    select |= {
        "distinct_products": "coalesce(l.products, 0)",
        "distinct_categories": "coalesce(k.categories, 0)",
        "top_category_share": "CASE WHEN k.units > 0 THEN CAST(k.top AS DOUBLE) / k.units END",
        "units_total": "coalesce(l.units, 0)",
        "discount_share": "CASE WHEN l.lines > 0 THEN CAST(l.discounted AS DOUBLE) / l.lines END",
        "returns_365d": "coalesce(r.returns_365d, 0)",
        "return_amount_365d": money.format("coalesce(r.amount_365d, 0)"),
    }
    # a customer with spend but no returns has a return rate of 0
    select["return_rate_365d"] = (
        "CASE WHEN o.monetary_365d > 0 THEN "
        "round(CAST(coalesce(r.amount_365d, 0) AS DOUBLE) / CAST(o.monetary_365d AS DOUBLE), 6) END"
    )
    projection = ",\n  ".join(f"{expr} AS {name}" for name, expr in select.items())
    return f"""
WITH
o_rows AS (SELECT customer_id, CAST(order_ts AS DATE) AS day, CAST(amount AS DECIMAL(24, 6)) AS amount
           FROM orders WHERE dt <= {dt}),
o AS (SELECT customer_id, min(day) AS first_order, max(day) AS last_order, count(*) AS n,
             sum(amount) AS monetary, {order_cols}
      FROM o_rows GROUP BY customer_id),
o_days AS (SELECT DISTINCT customer_id, day FROM o_rows),
g AS (SELECT customer_id, CAST(coalesce(sum(gap), 0) AS DOUBLE) AS s, CAST(coalesce(sum(gap * gap), 0) AS DOUBLE) AS sq
      FROM (SELECT customer_id, date_diff('day', lag(day) OVER (PARTITION BY customer_id ORDER BY day), day) AS gap
            FROM o_days) GROUP BY customer_id),
e AS (SELECT customer_id, {", ".join(event_cols)}
      FROM (SELECT customer_id, event_type, CAST(event_ts AS DATE) AS day FROM events WHERE dt <= {dt})
      GROUP BY customer_id),
ol AS (SELECT l.dt, o.customer_id, l.product_id, l.quantity, l.unit_price
       FROM order_lines l JOIN orders o ON l.dt = o.dt AND l.order_id = o.order_id WHERE l.dt <= {dt}),
pa AS (SELECT k.dt, k.product_id, arg_max(p.category, p.dt) AS category, arg_max(p.price, p.dt) AS price
       FROM (SELECT DISTINCT dt, product_id FROM ol) k JOIN products p ON p.product_id = k.product_id AND p.dt <= k.dt
       GROUP BY k.dt, k.product_id),
lp AS (SELECT ol.*, pa.category, pa.price FROM ol LEFT JOIN pa USING (dt, product_id)),
l AS (SELECT customer_id, count(DISTINCT product_id) AS products, sum(quantity) AS units, count(*) AS lines,
             count(*) FILTER (WHERE unit_price < price - {DISCOUNT_TOLERANCE}) AS discounted
      FROM lp GROUP BY customer_id),
k AS (SELECT customer_id, count(*) AS categories, sum(units) AS units, max(units) AS top
      FROM (SELECT customer_id, category, sum(quantity) AS units FROM lp WHERE category IS NOT NULL GROUP BY ALL)
      GROUP BY customer_id),
r AS (SELECT customer_id, count(*) FILTER (WHERE {age("CAST(return_ts AS DATE)")} < 365) AS returns_365d,
             coalesce(sum(CAST(amount AS DECIMAL(24, 6))) FILTER (WHERE {age("CAST(return_ts AS DATE)")} < 365), 0)
               AS amount_365d
      FROM returns WHERE dt <= {dt} GROUP BY customer_id),
c AS (SELECT customer_id, min(least(CAST(signup_ts AS DATE), CAST(dt AS DATE))) AS first_seen
      FROM customers WHERE dt <= {dt} GROUP BY customer_id),
known AS (SELECT customer_id FROM o UNION SELECT customer_id FROM c)
SELECT known.customer_id,
  {projection}
FROM known
LEFT JOIN o USING (customer_id) LEFT JOIN g USING (customer_id) LEFT JOIN e USING (customer_id)
LEFT JOIN l USING (customer_id) LEFT JOIN k USING (customer_id) LEFT JOIN r USING (customer_id)
LEFT JOIN c USING (customer_id)
"""
