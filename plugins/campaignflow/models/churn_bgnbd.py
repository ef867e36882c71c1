"""Churn candidate 4: BG/NBD, the buy-till-you-die baseline, serving when it is the best.

BG/NBD (Fader, Hardie & Lee 2005) fitted by maximum likelihood on the train window's repeat orders,
last-order age and customer age (:func:`campaignflow.models.value.fit_bgnbd`); a customer's risk is
``exp(-E[orders in the next horizon])``, the chance of no order were the expected count Poisson.
The calibration fitted on the validation window turns that ranking into a churn probability like
any candidate's. Four parameters and the horizon, stored as JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from campaignflow.models.training_set import MODEL_COLUMNS
from campaignflow.models.value import BTYD_COLUMNS, BgNbd, bgnbd_inputs, fit_bgnbd

NAME = "churn_bgnbd"


@dataclass
class BgNbdEstimator:
    positions: list[int]  # where the BTYD_COLUMNS sit in the model matrix
    model: BgNbd
    horizon_days: int

    def raw(self, x: np.ndarray) -> np.ndarray:
        x_rep, t_x, big_t = bgnbd_inputs(*(x[:, p] for p in self.positions))
        expected = self.model.expected_orders(x_rep, t_x, big_t, float(self.horizon_days))
        return np.exp(-np.nan_to_num(expected, nan=0.0))

    def to_files(self) -> dict[str, bytes]:
        data = {"columns": list(BTYD_COLUMNS), "positions": self.positions, "horizon_days": self.horizon_days}
        return {"bgnbd.json": json.dumps({**data, "parameters": vars(self.model)}).encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> BgNbdEstimator:
        d = json.loads(files["bgnbd.json"])
        return cls(list(d["positions"]), BgNbd(**d["parameters"]), int(d["horizon_days"]))


def fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    seed: int,
    *,
    horizon_days: int,
) -> tuple[BgNbdEstimator, dict[str, Any]]:
    """Maximum likelihood on the train window's histories (the outcomes are not used: BG/NBD models
    the orders themselves; the validation window is for calibration)."""
    positions = [list(MODEL_COLUMNS).index(c) for c in BTYD_COLUMNS]
    model = fit_bgnbd(*bgnbd_inputs(*(x_train[:, p] for p in positions)))
    return BgNbdEstimator(positions, model, horizon_days), {
        "parameters": {k: round(v, 6) for k, v in vars(model).items()}
    }


Estimator = BgNbdEstimator
