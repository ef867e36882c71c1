"""Probability calibration fitted on held-out customers: isotonic or Platt, stored as plain numbers.

A raw model score is mapped through a monotone function so that a predicted 0.3 means three in ten
churn: isotonic regression (a step function, interpolated between its thresholds) when the
held-out window has at least :data:`ISOTONIC_MIN_ROWS` customers, else Platt scaling (a logistic
curve on the score's log-odds), which does not overfit a small window into 0s and 1s. Isotonic blocks
are shrunk by half an outcome each way (:func:`fit_isotonic`), so a small block where nobody churned
is not a certainty. The map is saved as JSON beside the model, readable without pickles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

MIN_CALIBRATION_ROWS = 30
ISOTONIC_MIN_ROWS = 1000
_EPS = 1e-4  # keep calibrated probabilities off 0 and 1 (log loss, and honesty)


@dataclass(frozen=True)
class Calibrator:
    """``method`` "isotonic": ``x``/``y`` thresholds; "platt": ``x`` = (slope, intercept); "identity"."""

    method: str
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, float)
        if self.method == "identity":
            return raw
        if self.method == "platt":
            slope, intercept = self.x
            return np.clip(1 / (1 + np.exp(-(slope * _logit(raw) + intercept))), _EPS, 1 - _EPS)
        return np.clip(np.interp(raw, self.x, self.y), _EPS, 1 - _EPS)

    def to_json(self) -> bytes:
        return json.dumps({"method": self.method, "x": list(self.x), "y": list(self.y)}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Calibrator:
        spec = json.loads(data)
        method, x, y = spec.get("method"), spec.get("x", []), spec.get("y", [])
        valid = {
            "identity": not x and not y,
            "platt": len(x) == 2 and not y,
            "isotonic": len(x) == len(y) > 0,
        }
        if not valid.get(method, False):
            raise ValueError(f"not a calibration map this version reads: method {method!r}")
        return cls(method, tuple(map(float, x)), tuple(map(float, y)))


IDENTITY = Calibrator("identity")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_calibrator(raw: np.ndarray, y: np.ndarray) -> Calibrator:
    """Fit on held-out (raw score, outcome) pairs: isotonic on large windows, Platt on small ones,
    identity when too few rows or one class."""
    raw, y = np.asarray(raw, float), np.asarray(y, float)
    if len(raw) < MIN_CALIBRATION_ROWS or len(np.unique(y)) < 2:
        return IDENTITY
    if len(raw) < ISOTONIC_MIN_ROWS:
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e4, max_iter=1000).fit(_logit(raw)[:, None], y)
        return Calibrator("platt", (float(lr.coef_[0, 0]), float(lr.intercept_[0])))
    return fit_isotonic(raw, y)


def fit_isotonic(raw: np.ndarray, y: np.ndarray) -> Calibrator:
    """Isotonic regression whose blocks are shrunk by half a churner and half a retained customer
    (``(churned + ½) / (customers + 1)``, refitted monotone): a block where no one churned (or everyone
    did) says so with the confidence its size allows, instead of mapping everyone in it to 0 or 1."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
    levels, block = np.unique(iso.predict(raw), return_inverse=True)
    size, churned = np.bincount(block), np.bincount(block, weights=y)
    shrunk = IsotonicRegression().fit(levels, (churned + 0.5) / (size + 1.0), sample_weight=size + 1.0).predict(levels)
    knots = np.interp(iso.y_thresholds_, levels, shrunk)  # every knot's level is one of the blocks'
    return Calibrator("isotonic", tuple(map(float, iso.X_thresholds_)), tuple(map(float, knots)))
