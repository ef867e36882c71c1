"""The recommender on a generated shop whose customers have a latent category taste."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from campaignflow.errors import NotEnoughHistory
from campaignflow.io.lake import Lake
from campaignflow.io.storage import LocalStore
from campaignflow.recommend import bpr, training
from campaignflow.recommend.interactions import interactions, load_activity
from campaignflow.synthetic.generate import ShopSpec, generate_raw

pytestmark = [pytest.mark.slow]
START, DAYS, HORIZON = date(2024, 1, 1), 200, 28
AS_OF = (START + timedelta(days=DAYS - 1)).isoformat()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("recommender")
    lake = Lake(LocalStore(root / "lake"))
    generate_raw(ShopSpec(5000, DAYS, START, seed=5, return_rate=0.05), lake, LocalStore(root / "truth"))
    activity = load_activity(lake, AS_OF)
    return {"lake": lake, "activity": activity, "result": training.train_and_judge(activity, AS_OF, HORIZON, 7)}


def test_beats_popularity_buy_again_and_co_occurrence(trained: dict[str, Any]) -> None:
    m = trained["result"].metrics
    for name, base in m["baselines"].items():
        for metric in ("recall@10", "ndcg@10"):
            assert m["test"][metric] > base[metric], (name, metric, m["test"][metric], base[metric])
    assert m["windows"]["judged_customers"] > 500 and m["training"]["device"] == "cpu"
    assert m["training"]["best_epoch"] <= m["training"]["epochs"]  # early stopping kept the best epoch


def test_recommendations_follow_the_latent_taste(trained: dict[str, Any], tmp_path: Path) -> None:
    truth = pd.read_parquet(Path(trained["lake"].store.root).parent / "truth" / "customers.parquet")
    activity, model = trained["activity"], trained["result"].model
    now = interactions(activity, AS_OF)
    strong = truth[truth["taste_strength"] > 0.8].set_index("customer_id")
    index = training.baselines.Index(pd.Index(sorted(now["customer_id"].unique())), model.products)
    rows = index.customers.get_indexer(strong.index)
    rows = rows[rows >= 0]
    top, _ = model.top(bpr.History(index.matrix(now, "weight")[rows]), 3)
    catalogue = activity.catalogue.set_index("product_id")["category"]
    picked = catalogue.reindex(model.products[top[:, 0]]).to_numpy()
    favourite = strong.loc[index.customers[rows], "fav_category"].to_numpy()
    assert len(rows) > 200 and (picked == favourite).mean() > 0.6


def test_save_load_round_trip_scores_the_same(trained: dict[str, Any]) -> None:
    model = trained["result"].model
    again = bpr.BprRecommender.from_files(model.to_files())
    now = interactions(trained["activity"], AS_OF)
    index = training.baselines.Index(pd.Index(sorted(now["customer_id"].unique())), model.products)
    history = bpr.History(index.matrix(now, "weight")[:300])
    a, b = model.top(history, 10), again.top(history, 10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6)


def test_excluded_products_are_never_recommended(trained: dict[str, Any]) -> None:
    model = trained["result"].model
    now = interactions(trained["activity"], AS_OF)
    index = training.baselines.Index(pd.Index(sorted(now["customer_id"].unique())), model.products)
    history = bpr.History(index.matrix(now, "weight")[:300])
    bought = (index.matrix(now[now["purchases"] > 0])[:300] > 0).astype("float32").tocsr()
    top, _ = model.top(history, 10, exclude=bought)
    for row in range(300):
        assert not set(top[row]) & set(bought[row].indices)


def test_an_orders_only_shop_is_skipped_with_the_reason(trained: dict[str, Any]) -> None:
    activity = trained["activity"]
    orders_only = type(activity)(activity.orders, None, None, None, None)
    with pytest.raises(NotEnoughHistory, match="no product column"):
        training.train_and_judge(orders_only, AS_OF, HORIZON, 7)


def test_training_logs_its_device(trained: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    from campaignflow.models.device import torch_device

    device = torch_device()
    assert device in {"cpu", "cuda"} and any("CUDA" in r.message or "CPU" in r.message for r in caplog.records)


@pytest.mark.gpu
def test_trains_on_cuda_when_present(trained: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible")
    result = training.train_and_judge(trained["activity"], AS_OF, HORIZON, 7)
    assert result.metrics["training"]["device"] == "cuda"
    assert result.metrics["test"]["ndcg@10"] > result.metrics["baselines"]["popularity"]["ndcg@10"]
