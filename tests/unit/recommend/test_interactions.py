"""Interactions as of D, ranking metrics, baselines: hand-made shops with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaignflow.io import datasets
from campaignflow.io.lake import Lake, share_categories
from campaignflow.recommend.baselines import BuyAgain, CoOccurrence, Index, Popular
from campaignflow.recommend.evaluate import ranking_metrics, top_k
from campaignflow.recommend.interactions import (
    ShopActivity,
    interactions,
    load_activity,
    price_band,
    purchases_between,
    unknown_products,
)
from campaignflow.recommend.training import judged_sample

D = "2024-03-31"


def _ts(day: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day} 12:00")


def shop() -> ShopActivity:
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_id": ["a", "a", "b", "b", "a"],
            "order_ts": [_ts(d) for d in ("2024-03-31", "2023-12-31", "2024-03-01", "2023-01-01", "2024-04-10")],
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o5"],
            "product_id": ["p1", "p2", "p1", "p3", "p1", "p2"],
            "quantity": [1, 2, 1, 5000, 1, 1],
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["a", "b", "b", "c"],
            "event_ts": [_ts("2024-03-31"), _ts("2024-03-31"), _ts("2024-03-31"), _ts("2024-03-30")],
            "event_type": ["view", "add_to_cart", "search", "view"],
            "product_id": ["p3", "p2", None, "p9"],
        }
    )
    returns = pd.DataFrame({"order_id": ["o1"], "product_id": ["p2"], "return_ts": [_ts("2024-03-31")]})
    catalogue = pd.DataFrame({"product_id": ["p1", "p2", "p3"], "category": ["x", "x", "y"], "price": [10, 60, 300]})
    return ShopActivity(orders, lines, events, returns, catalogue)


def test_weights_decay_returns_window_and_unknown_products() -> None:
    activity = shop()
    got = interactions(activity, D).set_index(["customer_id", "product_id"])
    half = 0.5 ** (91.5 / 90)  # o2 is 91.5 days before the end of D
    assert got.loc[("a", "p1"), "weight"] == pytest.approx(0.5 ** (0.5 / 90) + half, rel=1e-5)
    assert got.loc[("a", "p1"), "purchases"] == 2
    assert ("a", "p2") not in got.index  # returned on D: the purchase is gone
    assert got.loc[("a", "p3"), "weight"] == pytest.approx(0.1 * 0.5 ** (0.5 / 90), rel=1e-5)
    assert got.loc[("b", "p3"), "purchases"] == 1  # a B2B line of 5,000 units is one purchase
    assert got.loc[("b", "p2"), "weight"] == pytest.approx(0.3 * 0.5 ** (0.5 / 90), rel=1e-5)
    assert ("b", "p1") not in got.index  # 2023-01-01 is outside the 365-day window
    assert "c" not in got.index.get_level_values(0)  # p9 is not in the catalogue
    assert unknown_products(activity.lines, activity.events, activity.catalogue) == [
        "1 line(s) and event(s) with 1 product(s) outside the catalogue dropped"
    ]
    assert got["last_day"].max() <= pd.Timestamp(D)  # nothing after D (o5 is on 2024-04-10)


def test_an_event_type_without_a_weight_counts_nothing() -> None:
    with_product = shop()
    with_product.events.loc[with_product.events["event_type"] == "search", "product_id"] = "p1"  # type: ignore[union-attr]
    pd.testing.assert_frame_equal(interactions(with_product, D), interactions(shop(), D))


def test_ids_as_categories_change_nothing() -> None:
    """The same activity with plain ids and with ids as one categorical dictionary: the same interactions."""
    plain = shop()
    coded = shop()
    frames = [coded.orders, coded.lines, coded.events, coded.returns]
    for column in ("customer_id", "product_id", "order_id"):
        share_categories([f for f in frames if f is not None and column in f], column)
    assert isinstance(coded.events["customer_id"].dtype, pd.CategoricalDtype)  # type: ignore[index]
    index = Index(pd.Index(["a", "b", "c"]), pd.Index(["p1", "p2", "p3"]))
    for day in (D, "2024-04-10", "2023-06-01"):
        got = interactions(coded, day)
        want = interactions(plain, day).astype({"customer_id": object, "product_id": object})
        pd.testing.assert_frame_equal(got.astype({"customer_id": object, "product_id": object}), want)
        # the matrix of categorical ids (looked up per category) is the matrix of plain ids
        assert (index.matrix(got, "weight") != index.matrix(want, "weight")).nnz == 0


def test_load_activity_keeps_only_the_product_events(lake: Lake) -> None:
    lake.write_frame(datasets.raw("events").at(D), shop().events)  # a view, an add-to-cart, a search, a view
    got = load_activity(lake, D).events
    assert got is not None and isinstance(got["event_type"].dtype, pd.CategoricalDtype)
    kept = got[["customer_id", "event_type", "product_id"]].astype(str).to_numpy().tolist()
    assert kept == [["a", "view", "p3"], ["b", "add_to_cart", "p2"], ["c", "view", "p9"]]  # the search is gone


def test_no_product_column_is_a_clear_error() -> None:
    activity = shop()
    activity.lines, activity.events = None, None
    with pytest.raises(ValueError, match="no order lines or product events with a product_id"):
        interactions(activity, D)


def test_purchases_between_is_the_half_open_window() -> None:
    got = purchases_between(shop(), "2024-03-01", "2024-04-10")
    assert sorted(map(tuple, got.to_numpy())) == [("a", "p1"), ("a", "p2")]


def test_price_bands() -> None:
    assert price_band(pd.Series([5, 20, 49.99, 250, None])).tolist() == [0, 1, 1, 4, 5]


def test_ranking_metrics_golden() -> None:
    ranked = np.array([[3, 1, 7], [0, 2, 4]])
    from scipy import sparse

    relevant = sparse.csr_matrix(([1, 1, 1], ([0, 0, 1], [1, 9, 5])), shape=(3, 10))[[0, 1]]
    got = ranking_metrics(ranked, relevant, 3)
    # row 1: one hit at rank 2 of 2 relevant; row 2 has no hits
    dcg, idcg = 1 / math.log2(3), 1 + 1 / math.log2(3)
    assert got["recall@3"] == pytest.approx((0.5 + 0) / 2, abs=1e-5)
    assert got["ndcg@3"] == pytest.approx((dcg / idcg + 0) / 2, abs=1e-5)
    assert got["map@3"] == pytest.approx((0.5 / 2 + 0) / 2, abs=1e-5)


def _reference_metrics(ranked: np.ndarray, relevant: list[set[int]], k: int) -> dict[str, float]:
    recall, ndcg, ap = [], [], []
    for row, truth in zip(ranked[:, :k], relevant, strict=True):
        if not truth:
            continue
        hits = [p in truth for p in row]
        dcg = sum(1 / math.log2(r + 2) for r, h in enumerate(hits) if h)
        ideal = sum(1 / math.log2(r + 2) for r in range(min(len(truth), k)))
        precisions = [sum(hits[: r + 1]) / (r + 1) for r, h in enumerate(hits) if h]
        recall.append(sum(hits) / len(truth))
        ndcg.append(dcg / ideal)
        ap.append(sum(precisions) / min(len(truth), k))
    return {f"recall@{k}": np.mean(recall), f"ndcg@{k}": np.mean(ndcg), f"map@{k}": np.mean(ap)}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12))
def test_ranking_metrics_equal_a_per_customer_reference(seed: int, k: int) -> None:
    from scipy import sparse

    rng = np.random.default_rng(seed)
    n, items = 30, 25
    ranked = np.argsort(rng.random((n, items)), axis=1)[:, :12]
    relevant = [set(rng.choice(items, rng.integers(0, 6), replace=False).tolist()) for _ in range(n)]
    relevant[0] = {int(ranked[0, 0])}  # at least one customer with something relevant
    rows = [r for r, truth in enumerate(relevant) for _ in truth]
    cols = [c for truth in relevant for c in truth]
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, items))
    got, want = ranking_metrics(ranked, matrix, k), _reference_metrics(ranked, relevant, k)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-5), key


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 30), st.integers(1, 8), st.integers(0, 10_000))
def test_top_k_matches_a_full_sort(n_items: int, k: int, seed: int) -> None:
    scores = np.random.default_rng(seed).integers(0, 5, (4, n_items)).astype("float32")  # many ties
    want = np.argsort(-scores, axis=1, kind="stable")[:, : min(k, n_items)]
    np.testing.assert_array_equal(top_k(scores, k), want)


def test_baselines_rank_what_they_should() -> None:
    now = interactions(shop(), D)
    index = Index(pd.Index(["a", "b"]), pd.Index(["p1", "p2", "p3"]))
    rows = np.array([0, 1])
    popular = Popular(now, index, D).scores(rows)
    assert (popular[0] == popular[1]).all() and popular[0].argmax() == 0  # p1: bought twice recently
    again = BuyAgain(now, index, D).scores(rows)
    assert again[1].argmax() == 2  # b's own purchase p3
    co = CoOccurrence(now, index, D).scores(rows)
    assert co.shape == (2, 3) and np.isfinite(co).all()


def test_an_imported_line_log_is_enough_to_train_and_recommend(tmp_path, runtime_env) -> None:  # type: ignore[no-untyped-def]
    """import-orders with product ids and quantities, no catalogue: recommendations train and serve."""
    from datetime import date, timedelta

    from campaignflow.cli import main
    from campaignflow.io import datasets
    from campaignflow.io.storage import LocalStore
    from campaignflow.synthetic.generate import ShopSpec, generate_raw
    from jobs import recommend_products, train_recommender

    shop = runtime_env.lake.__class__(LocalStore(tmp_path / "shop"))
    start = date(2024, 1, 1)
    generate_raw(ShopSpec(1500, 150, start, seed=9), shop, LocalStore(tmp_path / "truth"))
    orders = shop.read_range(datasets.raw("orders"), columns=["order_id", "customer_id", "order_ts"])
    lines = shop.read_range(datasets.raw("order_lines"), columns=["order_id", "product_id", "quantity", "unit_price"])
    log = lines.merge(orders.drop(columns="dt"), on="order_id").drop(columns="dt")
    log["line_total"] = (log["quantity"] * log["unit_price"]).round(2)
    log.drop(columns="unit_price").to_csv(tmp_path / "log.csv", index=False)
    args = ["import-orders", str(tmp_path / "log.csv"), "--order-id-col", "order_id", "--amount-col", "line_total"]
    assert main([*args, "--product-col", "product_id", "--quantity-col", "quantity"]) == 0
    last = (start + timedelta(days=149)).isoformat()
    trained = train_recommender.run(runtime_env, last)
    assert trained["trained"], trained
    assert any("taken from the order lines" in n for n in trained["notes"])
    assert trained["test"]["ndcg@10"] > trained["baselines_ndcg@10"]["popularity"]
    out = recommend_products.run(runtime_env, last)
    recs = runtime_env.lake.read_frame(datasets.RECOMMENDATIONS.at(last))
    assert out["customers"] == orders["customer_id"].nunique() and set(recs["product_id"]) <= set(lines["product_id"])


def test_orders_only_or_empty_windows_skip_with_the_reason_and_write_nothing(runtime_env) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.io import datasets
    from jobs import recommend_products, train_recommender

    orders = shop().orders.assign(amount=10.0, currency="EUR")
    runtime_env.lake.write_frame(datasets.raw("orders").at(D), orders)
    out = train_recommender.run(runtime_env, D)
    assert not out["trained"] and "no product column" in out["skipped"]
    assert recommend_products.run(runtime_env, D)["skipped"].startswith("no recommender serves")
    assert runtime_env.lake.committed_dates(datasets.model("recommender_bpr")) == []
    assert runtime_env.lake.committed_dates(datasets.RECOMMENDATIONS) == []


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 60), st.integers(1, 12), st.integers(0, 10_000))
def test_top_k_of_mostly_tied_rows_matches_a_full_sort(n_items: int, k: int, seed: int) -> None:
    """Buy-again-like rows: a few positive scores, the rest tied at the floor (and NaN)."""
    rng = np.random.default_rng(seed)
    scores = np.where(rng.random((6, n_items)) < 0.1, rng.integers(1, 4, (6, n_items)), 0).astype("float32")
    scores[0, rng.integers(n_items)] = np.nan
    want = np.argsort(-np.where(np.isnan(scores), -np.inf, scores), axis=1, kind="stable")[:, : min(k, n_items)]
    np.testing.assert_array_equal(top_k(scores, k), want)


def test_judged_sample_is_stable_and_about_the_cap() -> None:
    customers = pd.Index([f"C{i:06d}" for i in range(20_000)])
    buyers = np.arange(0, 20_000, 2)
    assert judged_sample(buyers, customers, 7, most=20_000) is buyers  # under the cap: everyone
    sample = judged_sample(buyers, customers, 7, most=1_000)
    assert 850 < len(sample) < 1_150 and set(sample) <= set(buyers)
    assert np.array_equal(sample, judged_sample(buyers, customers, 7, most=1_000))  # the same every run
    assert not np.array_equal(sample, judged_sample(buyers, customers, 8, most=1_000))  # the seed picks it
