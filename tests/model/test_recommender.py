"""The recommender on a generated shop whose customers have a latent category taste."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from campaignflow.errors import ConfigError, NotEnoughHistory
from campaignflow.io.lake import Lake
from campaignflow.io.storage import LocalStore
from campaignflow.recommend import bpr, training
from campaignflow.recommend.interactions import interactions, load_activity, purchases_between
from campaignflow.synthetic.generate import ShopSpec, generate_raw

START, DAYS, HORIZON = date(2024, 1, 1), 200, 28
AS_OF = (START + timedelta(days=DAYS - 1)).isoformat()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("recommender")
    lake = Lake(LocalStore(root / "lake"))
    (root / "truth").mkdir()
    generate_raw(ShopSpec(5000, DAYS, START, seed=5, return_rate=0.05), lake, LocalStore(root / "truth"))
    activity = load_activity(lake, AS_OF)
    result = training.train_and_judge(activity, AS_OF, HORIZON, 7)
    return {"root": root, "lake": lake, "activity": activity, "result": result}


def test_beats_popularity_buy_again_and_co_occurrence(trained: dict[str, Any]) -> None:
    m = trained["result"].metrics
    for name, base in m["baselines"].items():
        for metric in ("recall@10", "ndcg@10"):
            assert m["test"][metric] > base[metric], (name, metric, m["test"][metric], base[metric])
    assert m["windows"]["judged_customers"] > 500 and m["training"]["device"] == "cpu"
    assert m["training"]["best_epoch"] <= m["training"]["epochs"]  # early stopping kept the best epoch


def test_recommendations_follow_the_latent_taste(trained: dict[str, Any], tmp_path: Path) -> None:
    truth = pd.read_parquet(trained["root"] / "truth" / "customers.parquet")
    activity, model = trained["activity"], trained["result"].model
    now = interactions(activity, AS_OF)
    strong = truth[truth["taste_strength"] > 0.8].set_index("customer_id")
    index = training.baselines.Index(pd.Index(sorted(now["customer_id"].unique())), model.products)
    rows = index.customers.get_indexer(strong.index)
    rows = rows[rows >= 0]
    top, _ = model.top(bpr.History.of(now, index, AS_OF).rows(rows), 3)
    catalogue = activity.catalogue.set_index("product_id")["category"]
    picked = catalogue.reindex(model.products[top[:, 0]]).to_numpy()
    favourite = strong.loc[index.customers[rows], "fav_category"].to_numpy()
    assert len(rows) > 200 and (picked == favourite).mean() > 0.6


def test_save_load_round_trip_scores_the_same(trained: dict[str, Any]) -> None:
    model = trained["result"].model
    again = bpr.BprRecommender.from_files(model.to_files())
    now = interactions(trained["activity"], AS_OF)
    index = training.baselines.Index(pd.Index(sorted(now["customer_id"].unique())), model.products)
    history = bpr.History.of(now, index, AS_OF).rows(np.arange(300))
    a, b = model.top(history, 10), again.top(history, 10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6)


def test_excluded_products_are_never_recommended(trained: dict[str, Any]) -> None:
    model = trained["result"].model
    now = interactions(trained["activity"], AS_OF)
    index = training.baselines.Index(pd.Index(sorted(now["customer_id"].unique())), model.products)
    history = bpr.History.of(now, index, AS_OF).rows(np.arange(300))
    bought = (index.matrix(now[now["purchases"] > 0])[:300] > 0).astype("float32").tocsr()
    top, _ = model.top(history, 10, exclude=bought)
    for row in range(300):
        assert not set(top[row]) & set(bought[row].indices)


def test_an_orders_only_shop_is_skipped_with_the_reason(trained: dict[str, Any]) -> None:
    activity = trained["activity"]
    orders_only = type(activity)(activity.orders, None, None, None, None)
    with pytest.raises(NotEnoughHistory, match="no product column"):
        training.train_and_judge(orders_only, AS_OF, HORIZON, 7)


@pytest.mark.gpu
def test_trains_on_cuda_when_present(trained: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible")
    result = training.train_and_judge(trained["activity"], AS_OF, HORIZON, 7)
    assert result.metrics["training"]["device"] == "cuda"
    assert result.metrics["test"]["ndcg@10"] > result.metrics["baselines"]["popularity"]["ndcg@10"]


def test_jobs_register_gate_and_recommend_every_customer(
    trained: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """train-recommender registers and promotes; a worse challenger is kept out; every customer gets k picks."""
    import functools
    import shutil

    from campaignflow.io import datasets
    from campaignflow.models import registry
    from campaignflow.runtime import Runtime
    from campaignflow.settings import Settings
    from jobs import recommend_products, train_recommender

    shutil.copytree(trained["root"] / "lake", tmp_path / "lake")
    rt = Runtime.from_settings(
        Settings.under(tmp_path, recommend_horizon_days=HORIZON, recommend_exclude_bought_days=30)
    )
    first = train_recommender.run(rt, AS_OF)
    assert first["trained"] and first["promoted"] and first["champion"] == f"recommender_bpr@{AS_OF}"
    assert train_recommender.train(rt, AS_OF)["why"] == "newest model is 0 day(s) old"
    again = train_recommender.run(rt, AS_OF)  # a re-run of the date keeps its training record
    assert again["trained"] and again["decision"] == first["decision"] and again["test"] == first["test"]
    with pytest.raises(ConfigError, match="would overwrite it"):
        train_recommender.run(rt, AS_OF, force=True)
    later = (date.fromisoformat(AS_OF) + timedelta(days=1)).isoformat()
    monkeypatch.setattr(training.bpr, "BprConfig", functools.partial(bpr.BprConfig, epochs=1, dim=2))
    worse = train_recommender.run(rt, later, force=True)
    assert worse["trained"] and not worse["promoted"] and worse["decision"].startswith("kept recommender_bpr@")
    assert registry.champion(rt.lake, AS_OF, "recommender").version == AS_OF  # type: ignore[union-attr]
    table = rt.lake.read_frame(datasets.RECOMMENDER_EVALUATION.at(later))
    assert {"model", "champion", "popularity", "buy again", "co-occurrence"} <= set(table["recommender"])

    out = recommend_products.run(rt, AS_OF)
    recs = rt.lake.read_frame(datasets.RECOMMENDATIONS.at(AS_OF))
    now = interactions(trained["activity"], AS_OF)
    customers = set(trained["activity"].orders["customer_id"]) | set(now["customer_id"])  # buyers and browsers
    assert out["customers"] == len(customers) and set(recs["customer_id"]) == customers
    assert recs.groupby("customer_id")["rank"].apply(list).map(lambda r: r == list(range(1, 11))).all()
    assert set(recs["product_id"]) <= set(trained["activity"].catalogue["product_id"])
    assert recs["category"].notna().all()
    since = (date.fromisoformat(AS_OF) - timedelta(days=30)).isoformat()
    recent = purchases_between(trained["activity"], since, AS_OF)
    clash = recs.merge(recent, on=["customer_id", "product_id"])
    assert clash.empty  # nothing bought in the last 30 days is recommended back


def test_a_baseline_that_won_serves_every_customer(trained: dict[str, Any], tmp_path: Path) -> None:
    """When buy-again won the judgement, recommend-products serves it: each buyer's first pick is one of
    their own most-bought products, never one outside D's catalogue."""
    import json
    import shutil

    from campaignflow.io import datasets
    from campaignflow.models import registry
    from campaignflow.recommend import serving
    from campaignflow.runtime import Runtime
    from campaignflow.settings import Settings
    from jobs import recommend_products

    shutil.copytree(trained["root"] / "lake", tmp_path / "lake")
    rt = Runtime.from_settings(Settings.under(tmp_path, recommend_horizon_days=HORIZON))
    spec = json.dumps({"baseline": "buy again"}).encode()
    registry.save_version(rt.lake, serving.BASELINE_NAME, AS_OF, {"baseline.json": spec}, 0, {})
    registry.set_champion(rt.lake, AS_OF, serving.BASELINE_NAME, AS_OF, "baseline buy again serves (test)")
    out = recommend_products.run(rt, AS_OF)
    assert out["model"] == f"{serving.BASELINE_NAME}@{AS_OF}"
    recs = rt.lake.read_frame(datasets.RECOMMENDATIONS.at(AS_OF))
    now = interactions(trained["activity"], AS_OF)
    bought = now[now["purchases"] > 0].astype({"customer_id": str, "product_id": str})
    most = bought[bought["purchases"] == bought.groupby("customer_id")["purchases"].transform("max")]
    favourites = most.groupby("customer_id")["product_id"].agg(set)
    first = recs[recs["rank"] == 1].set_index("customer_id")["product_id"]
    buyers = favourites.index.intersection(first.index)
    assert len(buyers) > 1000
    assert all(first[c] in favourites[c] for c in buyers)
    assert set(recs["product_id"]) <= set(trained["activity"].catalogue["product_id"])
