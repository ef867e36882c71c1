"""Metrics of a churn score: golden values and properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from campaignflow.models.metrics import average_lift, evaluate, expected_calibration_error, lift_at


def test_ece_golden_values() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    assert expected_calibration_error(y, np.full(10, 0.6)) < 1e-12  # one bin, 6/10 observed, 0.6 predicted
    assert abs(expected_calibration_error(y, np.full(10, 0.9)) - 0.3) < 1e-12
    # two bins: 0.05 predicted where 0 of 4 churn (gap .05), 0.95 where 6 of 6 churn (gap .05)
    p = np.array([0.05] * 4 + [0.95] * 6)
    assert abs(expected_calibration_error(y, p) - 0.05) < 1e-12


def test_lift_golden_values() -> None:
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])  # base rate 0.2
    perfect = np.arange(10, 0, -1)
    assert lift_at(y, perfect, 0.2) == 5.0  # the top 2 are both churners: 1.0 / 0.2
    assert lift_at(y, -perfect, 0.2) == 0.0
    assert average_lift(y, perfect, (0.1, 0.2)) == 5.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=2, max_size=200))
def test_ece_is_bounded_and_zero_for_the_observed_rate(pairs: list[tuple[bool, float]]) -> None:
    y = np.array([int(a) for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    assert 0.0 <= expected_calibration_error(y, p) <= 1.0
    assert expected_calibration_error(y, np.full(len(y), y.mean())) < 1e-9


def test_evaluate_names_every_metric() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    good = np.clip(y * 0.6 + rng.random(500) * 0.4, 0, 1)
    m = evaluate(y, good)
    assert set(m) == {
        "n",
        "churn_rate",
        "auc",
        "pr_auc",
        "log_loss",
        "brier",
        "ece",
        "lift_at_10",
        "average_lift",
        "mean_prob",
    }
    assert m["auc"] > 0.9 and m["lift_at_10"] > 1.5
    assert evaluate(y, rng.random(500))["auc"] < 0.6
