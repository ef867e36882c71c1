"""Spark features against an independent pandas implementation (differential), and point in time."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from campaignflow.features.customer import FEATURE_COLUMNS, churn_labels, customer_features

pytestmark = pytest.mark.spark
AS_OF = date(2024, 3, 31)


def random_raw(seed: int, n_customers: int = 40, days: int = 150) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    n_orders = 400
    order_ts = start + pd.to_timedelta(rng.integers(0, days * 86400, n_orders), unit="s")
    orders = pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{i}" for i in range(n_customers)], n_orders),
            "order_ts": order_ts,
            "amount": rng.integers(100, 20000, n_orders) / 100,
        }
    )
    orders["dt"] = orders["order_ts"].dt.strftime("%Y-%m-%d")
    n_events = 1500
    event_ts = start + pd.to_timedelta(rng.integers(0, days * 86400, n_events), unit="s")
    late = pd.to_timedelta(rng.integers(0, 3, n_events), unit="D")  # arrival up to 2 days late
    events = pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{i}" for i in range(n_customers + 5)], n_events),
            "event_ts": event_ts,
            "event_type": rng.choice(["view", "add_to_cart", "search", "email_open", "email_click"], n_events),
        }
    )
    events["dt"] = (event_ts + late).strftime("%Y-%m-%d")
    signup = start - pd.to_timedelta(rng.integers(-100, 200, n_customers + 10), unit="D")
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n_customers + 10)], "signup_ts": signup})
    customers["dt"] = customers["signup_ts"].clip(lower=start).dt.strftime("%Y-%m-%d")
    return {"orders": orders, "events": events, "customers": customers}


def reference_features(raw: dict[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    """The same definitions, written independently with pandas, row by row where clearer."""
    d = pd.Timestamp(as_of)
    end = d + pd.Timedelta(days=1)
    o = raw["orders"][(raw["orders"]["dt"] <= str(as_of)) & (raw["orders"]["order_ts"] < end)].copy()
    o["age"] = (d - o["order_ts"].dt.normalize()).dt.days
    c = raw["customers"][(raw["customers"]["dt"] <= str(as_of)) & (raw["customers"]["signup_ts"] < end)]
    e = raw["events"][(raw["events"]["dt"] <= str(as_of)) & (raw["events"]["event_ts"] < end)].copy()
    e["age"] = (d - e["event_ts"].dt.normalize()).dt.days
    rows = []
    for cid in sorted(set(o["customer_id"]) | set(c["customer_id"])):
        mine, ev = o[o["customer_id"] == cid], e[e["customer_id"] == cid]
        signups = c.loc[c["customer_id"] == cid, "signup_ts"]
        first_seen = min([*mine["order_ts"].dt.normalize(), *signups.dt.normalize()])
        n = len(mine)
        row = {
            "customer_id": cid,
            "recency_days": mine["age"].min() if n else np.nan,
            "tenure_days": (d - first_seen).days,
            "orders_total": n,
            "monetary_total": round(mine["amount"].sum(), 2),
            "avg_order_value": mine["amount"].sum() / n if n else np.nan,
            "days_between_orders": (mine["age"].max() - mine["age"].min()) / (n - 1) if n > 1 else np.nan,
        }
        for w in (30, 90, 365):
            row[f"orders_{w}d"] = int((mine["age"] < w).sum())
            row[f"monetary_{w}d"] = round(mine.loc[mine["age"] < w, "amount"].sum(), 2)
        recent = ev[ev["age"] < 30]
        for t, name in {
            "view": "views",
            "add_to_cart": "add_to_carts",
            "search": "searches",
            "email_open": "email_opens",
            "email_click": "email_clicks",
        }.items():
            row[f"{name}_30d"] = int((recent["event_type"] == t).sum())
        row["events_30d"] = len(recent)
        row["events_prev_30d"] = int(((ev["age"] >= 30) & (ev["age"] < 60)).sum())
        row["days_since_last_event"] = ev["age"].min() if len(ev) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def to_spark(spark, frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    return spark.createDataFrame(frame)


@pytest.mark.parametrize(("seed", "as_of"), [(1, AS_OF), (2, date(2024, 2, 15)), (3, date(2024, 5, 20))])
def test_spark_matches_pandas_reference(spark, seed: int, as_of: date) -> None:  # type: ignore[no-untyped-def]
    raw = random_raw(seed)
    got = customer_features(*(to_spark(spark, raw[t]) for t in ("orders", "events", "customers")), as_of).toPandas()
    want = reference_features(raw, as_of)
    got = got.sort_values("customer_id", ignore_index=True)
    assert list(got["customer_id"]) == list(want["customer_id"])
    assert (got["as_of"] == as_of).all()
    for col in FEATURE_COLUMNS:
        np.testing.assert_allclose(got[col].astype(float), want[col].astype(float), rtol=1e-9, err_msg=col)


def test_future_records_cannot_change_features(spark) -> None:  # type: ignore[no-untyped-def]
    raw = random_raw(4)
    frames = [to_spark(spark, raw[t]) for t in ("orders", "events", "customers")]
    before = customer_features(*frames, AS_OF).toPandas().sort_values("customer_id", ignore_index=True)
    future = raw["orders"].copy()
    future["order_ts"] = pd.Timestamp(AS_OF) + pd.Timedelta(days=1, hours=1)
    future["dt"] = str(AS_OF + timedelta(days=1))
    same_day_late = raw["events"].copy()  # arrives after D, even if dated before it
    same_day_late["dt"] = str(AS_OF + timedelta(days=2))
    after = customer_features(
        to_spark(spark, pd.concat([raw["orders"], future])),
        to_spark(spark, pd.concat([raw["events"], same_day_late])),
        frames[2],
        AS_OF,
    )
    pd.testing.assert_frame_equal(before, after.toPandas().sort_values("customer_id", ignore_index=True))


def test_no_events_table_gives_null_engagement(spark) -> None:  # type: ignore[no-untyped-def]
    raw = random_raw(5)
    got = customer_features(to_spark(spark, raw["orders"]), None, None, AS_OF).toPandas()
    assert got["events_30d"].isna().all() and got["views_30d"].isna().all()
    assert (got["orders_total"] > 0).all()  # orders-only: the universe is who ordered


def test_churn_labels(spark) -> None:  # type: ignore[no-untyped-def]
    orders = pd.DataFrame(
        {
            "customer_id": ["stays", "stays", "leaves", "new_after", "edge"],
            "order_ts": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-07", "2024-02-01", "2024-01-10"]),
        }
    )
    orders["dt"] = orders["order_ts"].dt.strftime("%Y-%m-%d")
    edge = pd.DataFrame({"customer_id": ["edge"], "order_ts": pd.to_datetime(["2024-03-11"]), "dt": ["2024-03-11"]})
    labels = churn_labels(to_spark(spark, pd.concat([orders, edge])), date(2024, 1, 10), 60).toPandas()
    got = dict(zip(labels["customer_id"], labels["churned"], strict=True))
    # 'edge' orders again on day 61 (outside the horizon); 'new_after' had not ordered by D
    assert got == {"stays": 0, "leaves": 1, "edge": 1}


def test_features_do_not_depend_on_row_order_or_partitioning(spark) -> None:  # type: ignore[no-untyped-def]
    """Exact money sums: shuffled, repartitioned input gives identical values (not merely close)."""
    raw = random_raw(6)
    raw["orders"]["amount"] = raw["orders"]["amount"] + 0.001  # values whose float sums depend on order
    first = customer_features(*(to_spark(spark, raw[t]) for t in ("orders", "events", "customers")), AS_OF)
    shuffled = {t: f.sample(frac=1, random_state=9) for t, f in raw.items()}
    second = customer_features(
        *(to_spark(spark, shuffled[t]).repartition(7) for t in ("orders", "events", "customers")), AS_OF
    )
    a = first.toPandas().sort_values("customer_id", ignore_index=True)
    b = second.toPandas().sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
