"""Churn candidate 3: the RFM logistic regression, a baseline that serves when it is the best.

Recency, frequency and monetary value (signed log, standardised) in a logistic regression: the rule
a shop would fit by hand. It is both the baseline every model is judged against and a serving
candidate, calibrated and gated like the others, so a shop whose history a learned model cannot
read better is never served worse than this (on one real log it tied the models). Stored as JSON
coefficients, not a pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from campaignflow.models.training_set import MODEL_COLUMNS

NAME = "churn_rfm"
RFM = ("recency_days", "orders_total", "monetary_total")
NEVER = 10_000.0  # recency of a customer who never ordered: far beyond any history


def rfm_matrix(x: np.ndarray) -> np.ndarray:
    """Signed-log recency, frequency and monetary value from their raw columns (in :data:`RFM` order)."""
    x = np.array(x, dtype="float64")
    x[:, 0] = np.where(np.isnan(x[:, 0]), NEVER, x[:, 0])
    x[:, 1:] = np.nan_to_num(x[:, 1:], nan=0.0)
    return np.sign(x) * np.log1p(np.abs(x))


@dataclass
class RfmEstimator:
    positions: list[int]  # where recency, frequency and monetary value sit in the model matrix
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def raw(self, x: np.ndarray) -> np.ndarray:
        z = (rfm_matrix(x[:, self.positions]) - self.mean) / self.scale
        return np.asarray(1.0 / (1.0 + np.exp(-(z @ self.coef + self.intercept))))

    def importance(self, columns: list[str]) -> dict[str, float]:
        weights = np.abs(self.coef) / (np.abs(self.coef).sum() or 1.0)
        return {columns[p]: round(float(w), 5) for p, w in zip(self.positions, weights, strict=True)}

    def to_files(self) -> dict[str, bytes]:
        data = {
            "columns": list(RFM),
            "positions": self.positions,
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }
        return {"rfm.json": json.dumps(data).encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> RfmEstimator:
        d = json.loads(files["rfm.json"])
        mean, scale, coef = (np.asarray(d[k], dtype="float64") for k in ("mean", "scale", "coef"))
        return cls(list(d["positions"]), mean, scale, coef, float(d["intercept"]))


def fit_rfm(x_rfm: np.ndarray, y: np.ndarray, positions: list[int]) -> RfmEstimator:
    """The regression on raw recency, frequency and monetary columns (``x_rfm``, in :data:`RFM` order)."""
    from sklearn.linear_model import LogisticRegression

    z = rfm_matrix(x_rfm)
    mean, scale = z.mean(axis=0), z.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    lr = LogisticRegression(max_iter=1000).fit((z - mean) / scale, y)
    return RfmEstimator(positions, mean, scale, lr.coef_[0].astype("float64"), float(lr.intercept_[0]))


def fit(
    x_train: np.ndarray, y_train: np.ndarray, x_valid: np.ndarray, y_valid: np.ndarray, seed: int, *, horizon_days: int
) -> tuple[RfmEstimator, dict[str, Any]]:
    """Fit on the train window (the validation window is for calibration; no early stopping to do)."""
    positions = [list(MODEL_COLUMNS).index(c) for c in RFM]
    estimator = fit_rfm(x_train[:, positions], y_train, positions)
    return estimator, {"coefficients": dict(zip(RFM, np.round(estimator.coef, 4).tolist(), strict=True))}


Estimator = RfmEstimator
