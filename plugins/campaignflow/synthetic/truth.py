"""What the generator knows and the pipeline never sees: each customer's true churn probability.

A customer orders on each active day (sign-up ≤ day < drop-out) with a Poisson rate times the day's
seasonality, so the chance of no order in (T, T+H] is ``exp(−rate · Σ season(day))`` over the
active days of that window (1 after drop-out). Ranking customers by it is the oracle a churn
model's AUC is measured against.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from campaignflow.synthetic.seasonality import seasonality


def true_churn_probability(truth: pd.DataFrame, as_of: date, horizon_days: int) -> pd.Series:
    """P(no order in (as_of, as_of + H]) per customer of the truth table, indexed by customer_id."""
    days = [as_of + timedelta(days=k) for k in range(1, horizon_days + 1)]
    season = np.array([seasonality(d) for d in days])
    day_ns = pd.to_datetime(pd.Series(days)).to_numpy()
    signup = pd.to_datetime(truth["signup_date"]).to_numpy()
    dropout = pd.to_datetime(truth["dropout_date"]).to_numpy()
    active = (signup[:, None] <= day_ns[None, :]) & (day_ns[None, :] < dropout[:, None])
    exposure = (active * season[None, :]).sum(axis=1)
    prob = np.exp(-truth["purchase_rate"].to_numpy() * exposure)
    return pd.Series(prob, index=truth["customer_id"].to_numpy(), name="true_churn_prob")
