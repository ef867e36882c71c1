"""Labelled model rows with a known signal, for fast model tests without Spark."""

from __future__ import annotations

import numpy as np
import pandas as pd

from campaignflow.models.training_set import MODEL_COLUMNS, SnapshotPlan, Splits, split


def labelled_rows(
    n: int, seed: int, snapshots: tuple[str, ...] = ("2024-03-01", "2024-02-02", "2024-01-05")
) -> pd.DataFrame:
    """``n`` customers per snapshot; churn rises with recency and falls with recent orders and clicks."""
    frames = []
    for k, snap in enumerate(snapshots):
        rng = np.random.default_rng([seed, k])
        data = {c: rng.poisson(2.0, n).astype(float) for c in MODEL_COLUMNS}
        data["recency_days"] = rng.exponential(60, n).round()
        data["orders_30d"] = rng.poisson(0.8, n).astype(float)
        data["email_clicks_30d"] = rng.poisson(0.5, n).astype(float)
        data["interpurchase_days_mean"] = np.where(rng.random(n) < 0.3, np.nan, rng.exponential(30, n))
        logit = -1.0 + 0.03 * data["recency_days"] - 0.8 * data["orders_30d"] - 0.5 * data["email_clicks_30d"]
        churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        frames.append(
            pd.DataFrame(data).assign(customer_id=[f"C{k}-{i:06d}" for i in range(n)], churned=churned, snapshot=snap)
        )
    return pd.concat(frames, ignore_index=True)


def synthetic_splits(n: int = 1500, seed: int = 1) -> Splits:
    rows = labelled_rows(n, seed)
    return split(rows, SnapshotPlan(test="2024-03-01", valid="2024-02-02", train=("2024-01-05",)), seed)
