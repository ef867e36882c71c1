"""Churn candidate 1: gradient-boosted trees (LightGBM), early-stopped on the validation window.

The estimator returns raw (uncalibrated) probabilities; calibration is fitted on top by
:mod:`campaignflow.models.churn`. Its SHAP contributions (``pred_contrib``) drive the per-customer
reasons whichever candidate is champion.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

NAME = "churn_lgbm"
PARAMS: dict[str, Any] = {
    "objective": "binary",
    # small trees: churn is close to additive in the features, and TreeSHAP (the reasons) costs
    # trees x leaves x depth^2 per row; 15 leaves at depth <= 5 explain ~6x faster than 31 unbounded
    # leaves at the same test AUC (bench/bench_models.py)
    "learning_rate": 0.1,
    "num_leaves": 15,
    "max_depth": 5,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "deterministic": True,
    "force_col_wise": True,
    "verbose": -1,
}
MAX_ROUNDS = 1000
EARLY_STOPPING_ROUNDS = 40


def threads() -> int:
    """Threads LightGBM may use: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class LgbmEstimator:
    booster: Any

    def raw(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(x, num_threads=threads()))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-row SHAP contributions in log-odds, one column per feature plus the bias last."""
        return np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=threads()))

    def importance(self, columns: list[str]) -> dict[str, float]:
        gains = self.booster.feature_importance(importance_type="gain")
        total = float(gains.sum()) or 1.0
        return {c: round(float(g) / total, 5) for c, g in zip(columns, gains, strict=True)}

    def to_files(self) -> dict[str, bytes]:
        return {"model.txt": self.booster.model_to_string().encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> LgbmEstimator:
        import lightgbm as lgb

        return cls(lgb.Booster(model_str=files["model.txt"].decode()))


def fit(
    x_train: np.ndarray, y_train: np.ndarray, x_valid: np.ndarray, y_valid: np.ndarray, seed: int, *, horizon_days: int
) -> tuple[LgbmEstimator, dict[str, Any]]:
    """Train with early stopping on the validation window; the estimator and what training did."""
    import lightgbm as lgb

    params = {**PARAMS, "seed": seed, "num_threads": threads()}
    train = lgb.Dataset(x_train, y_train)
    valid = lgb.Dataset(x_valid, y_valid, reference=train)
    booster = lgb.train(
        params,
        train,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    info = {"best_iteration": int(booster.best_iteration), "threads": params["num_threads"]}
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))
    return LgbmEstimator(booster), info


Estimator = LgbmEstimator
