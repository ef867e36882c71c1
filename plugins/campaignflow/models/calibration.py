"""Probability calibration fitted on held-out customers: isotonic, stored as plain numbers.

A raw model score is mapped through a monotone step function (sklearn's isotonic regression,
interpolated between its thresholds), so a predicted 0.3 means three in ten churn. The map is
saved as JSON beside the model, readable without pickles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

MIN_CALIBRATION_ROWS = 30
_EPS = 1e-4  # keep calibrated probabilities off 0 and 1 (log loss, and honesty)


@dataclass(frozen=True)
class Calibrator:
    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        if not self.x:
            return np.asarray(raw, float)
        return np.clip(np.interp(np.asarray(raw, float), self.x, self.y), _EPS, 1 - _EPS)

    def to_json(self) -> bytes:
        return json.dumps({"method": "isotonic", "x": list(self.x), "y": list(self.y)}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Calibrator:
        spec = json.loads(data)
        if spec.get("method") != "isotonic" or len(spec["x"]) != len(spec["y"]):
            raise ValueError("not an isotonic calibration map")
        return cls(tuple(map(float, spec["x"])), tuple(map(float, spec["y"])))


IDENTITY = Calibrator((), ())


def fit_isotonic(raw: np.ndarray, y: np.ndarray) -> Calibrator:
    """Fit on held-out (raw score, outcome) pairs; identity when too few or one class."""
    from sklearn.isotonic import IsotonicRegression

    raw, y = np.asarray(raw, float), np.asarray(y, float)
    if len(raw) < MIN_CALIBRATION_ROWS or len(np.unique(y)) < 2:
        return IDENTITY
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
    return Calibrator(tuple(map(float, iso.X_thresholds_)), tuple(map(float, iso.y_thresholds_)))
