"""Train and judge the recommender on a time split, against the baselines a shop would use.

At D with horizon H: T = D − H. The model learns from ``windows`` consecutive windows before T
(history up to T0 = T − w·H, positives = purchases in (T0, T0 + H]); a stable hash share of the
customers of the newest window is held out for early stopping. Then every recommender gets the
history up to T and is judged on the distinct products each customer bought in (T, D]: at most
``MAX_JUDGED`` of those customers, a stable sample (ranking 5,000 products for 300 k buyers four
times was most of a million-customer training). A stable half of them (``TUNE_SHARE``) chooses how
the model blends its factors with the customer's own history and the shop's trend
(:func:`campaignflow.recommend.bpr.choose_blend`): the freshest window says when to trust which, and
the other half, never seen by that choice, judges the model against the baselines. The model judged
is the model served: customers are their history, so at D it scores with history up to D.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from campaignflow.errors import NotEnoughHistory
from campaignflow.recommend import baselines, bpr
from campaignflow.recommend.evaluate import Scorer, evaluate, recall_curve_png
from campaignflow.recommend.interactions import ShopActivity, interactions, purchases_between
from campaignflow.splits import in_share

log = logging.getLogger(__name__)

WINDOWS = 5
VALID_SHARE = 0.15
KS = (1, 5, 10, 20, 50)
MIN_POSITIVES = 50
MAX_JUDGED = 50_000  # customers judged on the test window (a stable hash sample of the buyers beyond it)
TUNE_SHARE = 0.5  # of those: the model's blend is chosen on them (the freshest window), the rest judge


@dataclass
class TrainedRecommender:
    model: bpr.BprRecommender
    metrics: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    pictures: dict[str, bytes] = field(default_factory=dict)


def _day(ds: str, back: int) -> str:
    return (date.fromisoformat(ds) - timedelta(days=back)).isoformat()


def train_and_judge(
    activity: ShopActivity,
    as_of: str,
    horizon_days: int,
    seed: int,
    config: bpr.BprConfig | None = None,
    champion: bpr.BprRecommender | None = None,
) -> TrainedRecommender:
    """The trained model and its test metrics next to the three baselines' (and the champion's).

    Raises:
        NotEnoughHistory: no catalogue or product column, or too few purchases to learn or judge.
    """
    if activity.lines is None:
        raise NotEnoughHistory("the shop exports no product column (no order lines): recommendations skipped")
    if activity.catalogue is None:
        raise NotEnoughHistory("no product catalogue (raw/products): recommendations skipped")
    t = _day(as_of, horizon_days)
    products = pd.Index(sorted(activity.catalogue["product_id"].unique()))
    customers = pd.Index(sorted(activity.orders["customer_id"].unique()))
    index = baselines.Index(customers, products)
    side = bpr.ItemSide.from_catalogue(products, activity.catalogue)
    histories, targets = [], []
    for w in range(1, WINDOWS + 1):
        t0 = _day(t, w * horizon_days)
        try:
            past = interactions(activity, t0)
        except ValueError:
            break
        histories.append(bpr.History(index.matrix(past, "weight")))  # training needs no counts or trend
        targets.append(index.matrix(purchases_between(activity, t0, _day(t0, -horizon_days))))
    if not targets or sum(m.nnz for m in targets) < MIN_POSITIVES:
        n = sum(m.nnz for m in targets)
        raise NotEnoughHistory(f"{n} purchase(s) in the training windows before {t}: at least {MIN_POSITIVES} needed")
    log.info(
        "recommender windows before %s: %d, %d positives, %d customers x %d products",
        t,
        len(targets),
        sum(m.nnz for m in targets),
        len(customers),
        len(products),
    )
    held = np.asarray(in_share(f"recommender-validation-{seed}", customers, VALID_SHARE))
    valid_rows = np.flatnonzero(held & (np.diff(targets[0].indptr) > 0))
    keep = sparse.diags((~held).astype("float32"))
    train_targets = [(keep @ targets[0]).tocsr(), *targets[1:]]
    valid = (histories[0].rows(valid_rows), targets[0][valid_rows])
    model, info = bpr.fit(histories, train_targets, products, side, config or bpr.BprConfig(seed=seed), valid)

    now = interactions(activity, t)
    test = index.matrix(purchases_between(activity, t, as_of))
    buyers = np.flatnonzero(np.diff(test.indptr) > 0)
    if len(buyers) < 20:
        raise NotEnoughHistory(f"{len(buyers)} customer(s) bought in ({t}, {as_of}]: too few to judge recommendations")
    judged = judged_sample(buyers, customers, seed)
    tuning = np.asarray(in_share(f"recommender-blend-{seed}", customers[judged], TUNE_SHARE))
    tune, judged = judged[tuning], judged[~tuning]
    history_at_t = bpr.History.of(now, index, t)
    by_blend = bpr.choose_blend(model, history_at_t.rows(tune), test[tune])
    log.info("judging the model and 3 baselines on %d customers who bought in (%s, %s]", len(judged), t, as_of)
    recommenders: dict[str, Scorer] = {
        "model": model.scorer(history_at_t),
        **{name: baseline(now, index, t) for name, baseline in baselines.BASELINES.items()},
    }
    if champion is not None:
        recommenders["champion"] = _Reindexed(champion, products, history_at_t)
    results = evaluate(recommenders, judged, test[judged], baselines.popularity(now, index, t, 365), KS)
    metrics = {
        "test": results["model"],
        "baselines": {k: v for k, v in results.items() if k not in ("model", "champion")},
        "champion_test": results.get("champion"),
        "windows": {
            "test": [t, as_of],
            "train_windows": len(histories),
            "judged_customers": len(judged),
            "blend_customers": len(tune),
            "buyers_in_test": len(buyers),
        },
        "training": info,
        "blend": {
            "chosen": dataclasses.asdict(model.blend),
            "ndcg@10_unblended": by_blend.get(str(bpr.Blend())),
            "ndcg@10_blended": by_blend.get(str(model.blend)),
        },
    }
    log.info("recommender at %s: model %s; baselines %s", as_of, results["model"], metrics["baselines"])
    title = f"recommendations at {as_of}: bought in ({t}, {as_of}] by {len(judged)} customers"
    pictures = {"recall_at_k.png": recall_curve_png(results, KS, title)}
    return TrainedRecommender(model, metrics, list(activity.notes), pictures)


def judged_sample(buyers: np.ndarray, customers: pd.Index, seed: int, most: int = MAX_JUDGED) -> np.ndarray:
    """The rows of ``buyers`` to judge on: all of them, or a stable hash sample of about ``most``
    (at 50 k customers the metrics' error stays far below the gaps between recommenders)."""
    if len(buyers) <= most:
        return buyers
    return buyers[in_share(f"recommender-judged-{seed}", customers[buyers], most / len(buyers))]


@dataclass
class _Reindexed:
    """An older model's scores over today's catalogue (products it never saw score -inf)."""

    model: bpr.BprRecommender
    products: pd.Index
    history: bpr.History

    def scores(self, customers: np.ndarray) -> np.ndarray:
        theirs = self.model.products.get_indexer(self.products)  # today's column -> the model's column
        known = np.flatnonzero(theirs >= 0)
        shape = (len(customers), len(self.model.products))

        def remap(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
            coo = matrix[customers].tocsc()[:, known].tocoo()
            return sparse.csr_matrix((coo.data, (coo.row, theirs[known][coo.col])), shape=shape)

        trend = np.zeros(len(self.model.products), "float32")
        if self.history.trend is not None:
            trend[theirs[known]] = self.history.trend[known]
        purchases = None if self.history.purchases is None else remap(self.history.purchases)
        _, old = self.model.top(bpr.History(remap(self.history.matrix), purchases, trend), None)
        out = np.full((len(customers), len(self.products)), -np.inf, dtype="float32")
        out[:, known] = old[:, theirs[known]]
        return out
