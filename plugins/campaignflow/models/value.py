"""Customer value: spend and orders over the next H days, and the expected wait for the next order.

Two models, judged on the same test window as churn:

* the **buy-till-you-die baseline**: BG/NBD (Fader, Hardie & Lee 2005) for the number of future
  orders from (repeat orders x, age of the last order t_x, age T), and Gamma-Gamma for the spend
  per order, both fitted by maximum likelihood on the train window;
* the **learned model**: LightGBM on every model column, Poisson objective for orders and Tweedie
  for spend (most customers spend nothing in the window).

The learned model serves when it beats the baseline's mean absolute error of spend on the test
window; otherwise the baseline serves (the decision is stored with the model). The expected wait
for the next order is H / predicted orders, capped at ten horizons.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from campaignflow.models.training_set import MODEL_COLUMNS, Splits, matrix

log = logging.getLogger(__name__)

NAME = "value"
VALUE_COLUMNS = {"predicted_orders": "number", "predicted_value": "number", "days_to_next_order": "number"}
MAX_WAIT_HORIZONS = 10
_LGB = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "deterministic": True,
    "force_col_wise": True,
    "verbose": -1,
}


BTYD_COLUMNS = ("orders_total", "days_since_first_order", "recency_days")  # what BG/NBD reads of a customer


def bgnbd_inputs(n: np.ndarray, age: np.ndarray, recency: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x repeat orders, t_x age of the last order, T age of the first order) in days, from the
    :data:`BTYD_COLUMNS` (null age or recency: never ordered)."""
    n = np.nan_to_num(np.asarray(n, dtype="float64"), nan=0.0)
    age, recency = np.asarray(age, dtype="float64"), np.asarray(recency, dtype="float64")
    x = np.maximum(n - 1, 0)
    big_t = np.where(np.isfinite(age), age, 0.0) + 1.0  # +1: an order today is one day of exposure
    t_x = np.clip(big_t - 1.0 - np.where(np.isfinite(recency), recency, 0.0), 0.0, None) + 1.0
    t_x = np.where(x > 0, t_x, 0.0)
    return x, t_x, big_t


def rfm_inputs(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x repeat orders, t_x age of the last order, T age of the first order, mean order value) in days."""
    x, t_x, big_t = bgnbd_inputs(*(frame[c].astype("float64").to_numpy() for c in BTYD_COLUMNS))
    m = frame["avg_order_value"].astype("float64").fillna(0).clip(lower=0).to_numpy()
    return x, t_x, big_t, m


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def expected_orders(self, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, horizon: float) -> np.ndarray:
        """E[orders in (T, T + horizon]] given each customer's history (Fader-Hardie-Lee eq. 10)."""
        from scipy.special import hyp2f1

        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = horizon / (alpha + big_t + horizon)
        head = (a + b + x - 1) / (a - 1)
        tail = 1 - ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        alive_odds = np.where(
            x > 0, a / np.maximum(b + x - 1, 1e-9) * ((alpha + big_t) / np.maximum(alpha + t_x, 1e-9)) ** (r + x), 0.0
        )
        return np.asarray(head * tail / (1 + alive_odds))


def _bgnbd_nll(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> float:
    from scipy.special import betaln, gammaln

    r, alpha, a, b = np.exp(params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + big_t)
    a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return float(-np.sum(a1 + a2 + np.logaddexp(a3, a4)))


A_MIN = 1.0 + 1e-6  # expected_orders divides by a - 1: the model is fitted with a above 1


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> BgNbd:
    """Maximum likelihood, L-BFGS-B on the log parameters bounded to e^±10, and a to at least
    :data:`A_MIN`. Where customers never leave, a and b drift to infinity (the model's no-drop-out
    limit): the bound stops them in a few hundred evaluations, where Nelder–Mead wandered for
    thousands (minutes on 80 k rows). Where the unconstrained optimum has a < 1, the bound lets r,
    alpha and b fit around a = A_MIN, rather than a being raised after the fit."""
    from scipy.optimize import minimize

    res = minimize(
        _bgnbd_nll,
        np.log([0.5, 30.0, 1.5, 3.0]),
        args=(x, t_x, big_t),
        method="L-BFGS-B",
        bounds=[(-10.0, 10.0), (-10.0, 10.0), (float(np.log(A_MIN)), 10.0), (-10.0, 10.0)],
    )
    r, alpha, a, b = np.exp(res.x)
    return BgNbd(float(r), float(alpha), float(max(a, A_MIN)), float(b))  # max: exp(log(A_MIN)) may round below


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    def expected_spend_per_order(self, n: np.ndarray, m: np.ndarray) -> np.ndarray:
        """E[spend per order] given n orders of mean value m (population mean when n = 0)."""
        population = self.p * self.gamma / max(self.q - 1, 1e-9)
        own = (self.p * (self.gamma + n * m)) / np.maximum(self.p * n + self.q - 1, 1e-9)
        return np.where(n > 0, own, population)


def fit_gamma_gamma(n: np.ndarray, m: np.ndarray) -> GammaGamma:
    from scipy.optimize import minimize
    from scipy.special import gammaln

    keep = (n > 0) & (m > 0)
    n, m = n[keep], m[keep]

    def nll(params: np.ndarray) -> float:
        p, q, g = np.exp(params)
        ll = gammaln(p * n + q) - gammaln(p * n) - gammaln(q) + q * np.log(g)
        ll += (p * n - 1) * np.log(m) + p * n * np.log(n) - (p * n + q) * np.log(n * m + g)
        return float(-np.sum(ll))

    res = minimize(
        nll, np.log([2.0, 3.0, max(float(np.median(m)), 1.0)]), method="Nelder-Mead", options={"maxiter": 4000}
    )
    p, q, g = np.exp(res.x)
    return GammaGamma(float(p), float(q), float(g))


@dataclass
class ValueModel:
    version: str
    horizon_days: int
    bgnbd: BgNbd
    gamma_gamma: GammaGamma
    orders_booster: Any
    spend_booster: Any
    serving: str  # "learned" or "bgnbd"
    metrics: dict[str, Any] = field(default_factory=dict)

    def baseline(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        x, t_x, big_t, m = rfm_inputs(frame)
        orders = self.bgnbd.expected_orders(x, t_x, big_t, self.horizon_days)
        ordered = frame["orders_total"].astype("float64").fillna(0).to_numpy() > 0
        orders = np.where(ordered, orders, np.nan)
        spend = orders * self.gamma_gamma.expected_spend_per_order(x + 1, m)
        return orders, spend

    def learned(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        x = matrix(frame, list(MODEL_COLUMNS))
        return np.asarray(self.orders_booster.predict(x)), np.asarray(self.spend_booster.predict(x))

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        orders, spend = self.learned(frame) if self.serving == "learned" else self.baseline(frame)
        orders = np.nan_to_num(orders, nan=0.0)
        wait = np.minimum(self.horizon_days / np.maximum(orders, 1e-9), MAX_WAIT_HORIZONS * self.horizon_days)
        return pd.DataFrame(
            {
                "predicted_orders": np.round(orders, 4),
                "predicted_value": np.round(np.nan_to_num(spend, nan=0.0), 2),
                "days_to_next_order": np.round(wait, 1),
            },
            index=frame.index,
        )

    def to_files(self) -> dict[str, bytes]:
        spec = {
            "version": self.version,
            "horizon_days": self.horizon_days,
            "bgnbd": vars(self.bgnbd),
            "gamma_gamma": vars(self.gamma_gamma),
            "serving": self.serving,
        }
        return {
            "value.json": json.dumps(spec, indent=2).encode(),
            "orders.txt": self.orders_booster.model_to_string().encode(),
            "spend.txt": self.spend_booster.model_to_string().encode(),
            "metrics.json": json.dumps(self.metrics, indent=2, sort_keys=True).encode(),
        }

    @classmethod
    def from_files(cls, files: dict[str, bytes], metrics: dict[str, Any]) -> ValueModel:
        import lightgbm as lgb

        spec = json.loads(files["value.json"])
        return cls(
            spec["version"],
            int(spec["horizon_days"]),
            BgNbd(**spec["bgnbd"]),
            GammaGamma(**spec["gamma_gamma"]),
            lgb.Booster(model_str=files["orders.txt"].decode()),
            lgb.Booster(model_str=files["spend.txt"].decode()),
            spec["serving"],
            metrics,
        )


def value_metrics(
    actual_orders: np.ndarray, actual_spend: np.ndarray, orders: np.ndarray, spend: np.ndarray
) -> dict[str, float]:
    """Errors of predicted orders and spend, the rank correlation, and the top decile's share of spend."""
    from scipy.stats import spearmanr

    spend = np.nan_to_num(spend, nan=0.0)
    orders = np.nan_to_num(orders, nan=0.0)
    top = np.argsort(-spend, kind="stable")[: max(1, len(spend) // 10)]
    total = float(actual_spend.sum()) or 1.0
    return {
        "spend_mae": round(float(np.mean(np.abs(spend - actual_spend))), 3),
        "spend_rmse": round(float(np.sqrt(np.mean((spend - actual_spend) ** 2))), 3),
        "orders_mae": round(float(np.mean(np.abs(orders - actual_orders))), 4),
        "spend_spearman": round(float(spearmanr(spend, actual_spend).statistic), 4),
        "top_decile_spend_share": round(float(actual_spend[top].sum()) / total, 4),
        "mean_predicted_spend": round(float(spend.mean()), 3),
        "mean_actual_spend": round(float(actual_spend.mean()), 3),
    }


def train(splits: Splits, horizon_days: int, seed: int, version: str) -> ValueModel:
    """Fit the baseline and the learned model on the train window; choose by test spend MAE."""
    import lightgbm as lgb

    from campaignflow.models.churn_lgbm import threads

    train_, valid, test = splits.train, splits.valid, splits.test
    x, t_x, big_t, m = rfm_inputs(train_)
    bgnbd = fit_bgnbd(x, t_x, big_t)
    gg = fit_gamma_gamma(x + 1, m)
    cols = list(MODEL_COLUMNS)
    boosters = {}
    for target, objective in (("future_orders", "poisson"), ("future_value", "tweedie")):
        params = {**_LGB, "objective": objective, "seed": seed, "num_threads": threads()}
        dtrain = lgb.Dataset(matrix(train_, cols), train_[target].to_numpy(float))
        dvalid = lgb.Dataset(matrix(valid, cols), valid[target].to_numpy(float), reference=dtrain)
        booster = lgb.train(
            params, dtrain, 1000, valid_sets=[dvalid], callbacks=[lgb.early_stopping(40, verbose=False)]
        )
        boosters[target] = lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))
    model = ValueModel(version, horizon_days, bgnbd, gg, boosters["future_orders"], boosters["future_value"], "learned")
    actual_orders, actual_spend = test["future_orders"].to_numpy(float), test["future_value"].to_numpy(float)
    learned = value_metrics(actual_orders, actual_spend, *model.learned(test))
    baseline = value_metrics(actual_orders, actual_spend, *model.baseline(test))
    model.serving = "learned" if learned["spend_mae"] <= baseline["spend_mae"] else "bgnbd"
    model.metrics = {
        "test_learned": learned,
        "test_bgnbd": baseline,
        "serving": model.serving,
        "bgnbd": vars(bgnbd),
        "gamma_gamma": vars(gg),
    }
    log.info("value model %s: learned %s, BG/NBD %s → %s serves", version, learned, baseline, model.serving)
    return model


def churn_score_from_bgnbd(model: ValueModel, frame: pd.DataFrame) -> np.ndarray:
    """A churn ranking from the baseline: fewer expected orders in the horizon = higher risk."""
    orders, _ = model.baseline(frame)
    return -np.nan_to_num(orders, nan=0.0)


def load(lake: Any, ds: str) -> ValueModel | None:
    """The newest value model trained on or before ``ds`` (None: none yet), its files checked."""
    from campaignflow.models import registry

    found = registry.versions(lake, NAME, end=ds)
    if not found:
        return None
    files, meta = registry.read_version(lake, NAME, found[-1])
    return ValueModel.from_files(files, meta.get("metrics", {}))
