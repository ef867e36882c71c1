"""Recommend products to every customer as of D with the serving recommender.

``recommendations/customer/dt=D``: per customer the top ``CAMPAIGNFLOW_RECOMMEND_K`` (10) products,
one row each with rank, product id, category and score, and the customer's favourite category.
Customers are every customer with features at D (else every customer with an order); one without
history gets the best products by category popularity. Products outside D's catalogue are never
recommended, nor, with
``CAMPAIGNFLOW_RECOMMEND_EXCLUDE_BOUGHT_DAYS`` = N > 0, what the customer bought in the last N days.
Scoring runs in batched matrix products on the device (no per-customer Python loop); a baseline that
won the last training's judgement (buy again, popularity, co-occurrence) serves the same way. A shop without
a recommender (no order lines, or none trained yet) is skipped with the reason.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    from campaignflow.models import registry
    from campaignflow.recommend import baselines, bpr, interactions, serving
    from jobs import train_recommender

    lake, s = rt.lake, rt.settings
    pointer = registry.champion(lake, ds, "recommender")
    if pointer is None:
        return {"dt": ds, "skipped": f"no recommender serves at {ds} (train-recommender trains one from order lines)"}
    activity = interactions.load_activity(lake, ds)
    now = interactions.interactions(activity, ds)
    features_ref = datasets.CUSTOMER_FEATURES.at(ds)
    if lake.is_committed(features_ref):
        ids = lake.read_frame(features_ref, columns=["customer_id"])["customer_id"]
    else:
        ids = activity.orders["customer_id"]
    customers = pd.Index(sorted(set(ids) | set(now["customer_id"].unique())))
    model, kind = None, None
    if pointer.name == serving.BASELINE_NAME:  # a rule serves, built from the history up to D
        files, _ = registry.read_version(lake, pointer.name, pointer.version)
        kind = json.loads(files["baseline.json"])["baseline"]
        sold = activity.catalogue if activity.catalogue is not None else now
        products = pd.Index(sorted(sold["product_id"].unique()))
    else:
        model = train_recommender.load(rt, pointer.version)
        products = model.products
    index = baselines.Index(customers, products)
    recent, gone = excluded(activity, index, ds, s.recommend_exclude_bought_days)
    if model is None:
        scorer = baselines.BASELINES[kind](now, index, ds)  # type: ignore[index]
        top, scores = serving.serve_top(scorer, len(customers), s.recommend_k, recent, gone)
    else:
        top, scores = model.top(bpr.History.of(now, index, ds), s.recommend_k, exclude=recent, unavailable=gone)
    frame = recommendations_frame(customers, products, activity.catalogue, top, scores)
    frame["favourite_category"] = frame["customer_id"].map(favourite_categories(now, activity.catalogue))
    meta = {"model": pointer.label(), "k": s.recommend_k, "notes": activity.notes}
    lake.write_frame(datasets.RECOMMENDATIONS.at(ds), frame, meta)
    return {
        "dt": ds,
        "customers": len(customers),
        "model": pointer.label(),
        "k": s.recommend_k,
        "distinct_products": int(frame["product_id"].nunique()),
        "notes": activity.notes,
    }


def excluded(activity: Any, index: Any, ds: str, bought_days: int) -> tuple[Any, np.ndarray | None]:
    """What never to recommend: per customer, what they bought in the last N days (N > 0); per
    product, whether it is outside D's catalogue."""
    from campaignflow.recommend.interactions import purchases_between

    gone = None
    if activity.catalogue is not None:
        gone = ~np.asarray(index.products.isin(activity.catalogue["product_id"]))
    recent = None
    if bought_days > 0:
        since = (date.fromisoformat(ds) - timedelta(days=bought_days)).isoformat()
        recent = index.matrix(purchases_between(activity, since, ds))
    return recent, gone


def favourite_categories(now: pd.DataFrame, catalogue: pd.DataFrame | None) -> pd.Series:
    """Per customer, the category of most of their (decayed) interaction weight."""
    if catalogue is None or now.empty:
        return pd.Series(dtype=object)
    cats = now.merge(catalogue[["product_id", "category"]], on="product_id")
    totals = cats.groupby(["customer_id", "category"], as_index=False, observed=True)["weight"].sum()
    best = totals.sort_values(["customer_id", "weight", "category"], ascending=[True, False, True])
    return best.drop_duplicates("customer_id").set_index("customer_id")["category"]


def recommendations_frame(
    customers: pd.Index, products: pd.Index, catalogue: pd.DataFrame | None, top: np.ndarray, scores: np.ndarray
) -> pd.DataFrame:
    """Long format: customer_id, rank (1 = best), product_id, category, score (finite picks only)."""
    k = top.shape[1]
    frame = pd.DataFrame(
        {
            "customer_id": np.repeat(customers.to_numpy(), k),
            "rank": np.tile(np.arange(1, k + 1), len(customers)),
            "product_id": products.to_numpy()[top.ravel()],
            "score": scores.ravel().astype("float64").round(5),
        }
    )
    frame = frame[np.isfinite(frame["score"])]
    frame["category"] = (
        frame["product_id"].map(catalogue.set_index("product_id")["category"]) if catalogue is not None else None
    )
    return frame.reset_index(drop=True)[["customer_id", "rank", "product_id", "category", "score"]]


add_arguments, run_args, main = date_job(run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
