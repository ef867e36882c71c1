"""Measured lift: treatment vs control once a campaign's response window has closed.

For an audience published on D with response window W, the outcome of each member is what they
did in (D, D + W]: converted (at least one order) and revenue (order amounts, less returns dated
in the window). Reported per campaign and audience date:

* conversion: rates, absolute lift with a 95 % interval (unpooled normal), relative lift with a
  95 % interval (delta method on the log ratio), and P(lift > 0) (normal posterior of the lift);
* revenue per customer: difference with a 95 % Welch interval; incremental revenue (difference ×
  treated customers); cost and return on cost when the spec prices a contact.

The global control, where there is one, is compared with the treatment group the same way.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Lift:
    campaign: str
    audience_dt: str
    window_end: str
    compared_with: str  # "control" or "global_control"
    treatment: int
    control: int
    conversion_treatment: float
    conversion_control: float
    lift: float
    lift_low: float
    lift_high: float
    relative_lift: float | None
    relative_low: float | None
    relative_high: float | None
    p_lift_positive: float
    revenue_treatment: float
    revenue_control: float
    revenue_lift: float
    revenue_low: float
    revenue_high: float
    incremental_revenue: float
    cost: float | None
    return_on_cost: float | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def outcomes(members: pd.DataFrame, orders: pd.DataFrame, returns: pd.DataFrame | None = None) -> pd.DataFrame:
    """``members`` (customer_id, group) with ``converted`` and ``revenue`` from the window's orders."""
    per = orders.groupby("customer_id")["amount"].agg(["size", "sum"])
    refunded = returns.groupby("customer_id")["amount"].sum() if returns is not None and len(returns) else None
    out = members[["customer_id", "group"]].copy()
    out["converted"] = out["customer_id"].map(per["size"]).fillna(0).to_numpy() > 0
    revenue = out["customer_id"].map(per["sum"]).fillna(0.0)
    if refunded is not None:
        revenue = revenue - out["customer_id"].map(refunded).fillna(0.0)
    out["revenue"] = revenue.to_numpy(dtype=float)
    return out


def measure(
    members: pd.DataFrame,
    campaign: str,
    audience_dt: str,
    window_end: str,
    cost_per_contact: float | None = None,
    compared_with: str = "control",
) -> Lift | None:
    """Lift of the treatment group over ``compared_with`` (None: a group is empty)."""
    t = members[members["group"] == "treatment"]
    c = members[members["group"] == compared_with]
    if len(t) == 0 or len(c) == 0:
        return None
    p_t, p_c = float(t["converted"].mean()), float(c["converted"].mean())
    se = math.sqrt(p_t * (1 - p_t) / len(t) + p_c * (1 - p_c) / len(c))
    lift = p_t - p_c
    rel = rel_low = rel_high = None
    if p_t > 0 and p_c > 0:
        log_ratio = math.log(p_t / p_c)
        se_log = math.sqrt((1 - p_t) / (p_t * len(t)) + (1 - p_c) / (p_c * len(c)))
        rel = math.exp(log_ratio) - 1
        rel_low, rel_high = math.exp(log_ratio - Z95 * se_log) - 1, math.exp(log_ratio + Z95 * se_log) - 1
    p_positive = _normal_cdf(lift / se) if se > 0 else float(lift > 0)
    r_t, r_c = t["revenue"].to_numpy(), c["revenue"].to_numpy()
    r_se = math.sqrt(_var(r_t) / len(r_t) + _var(r_c) / len(r_c))
    r_lift = float(r_t.mean() - r_c.mean())
    incremental = r_lift * len(t)
    cost = cost_per_contact * len(t) if cost_per_contact is not None else None
    roc = (incremental - cost) / cost if cost else None
    return Lift(
        campaign=campaign,
        audience_dt=audience_dt,
        window_end=window_end,
        compared_with=compared_with,
        treatment=len(t),
        control=len(c),
        conversion_treatment=round(p_t, 6),
        conversion_control=round(p_c, 6),
        lift=round(lift, 6),
        lift_low=round(lift - Z95 * se, 6),
        lift_high=round(lift + Z95 * se, 6),
        relative_lift=_r(rel),
        relative_low=_r(rel_low),
        relative_high=_r(rel_high),
        p_lift_positive=round(p_positive, 6),
        revenue_treatment=round(float(r_t.mean()), 4),
        revenue_control=round(float(r_c.mean()), 4),
        revenue_lift=round(r_lift, 4),
        revenue_low=round(r_lift - Z95 * r_se, 4),
        revenue_high=round(r_lift + Z95 * r_se, 4),
        incremental_revenue=round(incremental, 2),
        cost=None if cost is None else round(cost, 2),
        return_on_cost=_r(roc),
    )


def _var(values: np.ndarray) -> float:
    return float(values.var(ddof=1)) if len(values) > 1 else 0.0


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
