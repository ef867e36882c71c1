"""Lift statistics against a worked example (scipy as the reference for the normal quantities)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from campaignflow.campaigns.measurement import measure, outcomes


def members(n_t: int, x_t: int, n_c: int, x_c: int) -> pd.DataFrame:
    groups = ["treatment"] * n_t + ["control"] * n_c
    converted = [True] * x_t + [False] * (n_t - x_t) + [True] * x_c + [False] * (n_c - x_c)
    revenue = np.where(converted, 50.0, 0.0)
    return pd.DataFrame({"customer_id": range(n_t + n_c), "group": groups, "converted": converted, "revenue": revenue})


def test_conversion_lift_interval_and_probability() -> None:
    lift = measure(members(1000, 100, 1000, 80), "c", "2024-01-01", "2024-01-15", cost_per_contact=0.1)
    assert lift is not None
    se = math.sqrt(0.1 * 0.9 / 1000 + 0.08 * 0.92 / 1000)
    z = stats.norm.ppf(0.975)
    assert lift.lift == pytest.approx(0.02) and lift.lift_low == pytest.approx(0.02 - z * se, abs=1e-6)
    assert lift.lift_high == pytest.approx(0.02 + z * se, abs=1e-6)
    assert lift.p_lift_positive == pytest.approx(stats.norm.cdf(0.02 / se), abs=1e-6)
    se_log = math.sqrt(0.9 / 100 + 0.92 / 80)
    assert lift.relative_lift == pytest.approx(0.25, abs=1e-6)
    assert lift.relative_low == pytest.approx(math.exp(math.log(1.25) - z * se_log) - 1, abs=1e-6)
    assert lift.revenue_lift == pytest.approx(1.0)  # 0.02 × 50 per customer
    assert lift.incremental_revenue == pytest.approx(1000.0) and lift.cost == pytest.approx(100.0)
    assert lift.return_on_cost == pytest.approx(9.0)


def test_equal_groups_show_no_lift_and_an_empty_group_none() -> None:
    lift = measure(members(500, 50, 500, 50), "c", "d0", "d1")
    assert lift is not None and lift.lift == 0 and lift.p_lift_positive == pytest.approx(0.5)
    assert lift.cost is None and lift.return_on_cost is None
    assert measure(members(10, 1, 0, 0), "c", "d0", "d1") is None


def test_outcomes_count_orders_and_net_returns() -> None:
    audience = pd.DataFrame({"customer_id": ["a", "b", "c"], "group": ["treatment", "control", "treatment"]})
    orders = pd.DataFrame({"customer_id": ["a", "a", "c", "z"], "amount": [10.0, 5.0, 7.0, 99.0]})
    returns = pd.DataFrame({"customer_id": ["a"], "amount": [5.0]})
    out = outcomes(audience, orders, returns).set_index("customer_id")
    assert out["converted"].tolist() == [True, False, True]
    assert out["revenue"].tolist() == [10.0, 0.0, 7.0]
