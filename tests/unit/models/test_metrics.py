"""Metrics of a churn score: golden values and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaignflow.models.metrics import (
    average_lift,
    evaluate,
    expected_calibration_error,
    lift_at,
    paired_auc_difference,
)


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


def _delong_by_pairs(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """DeLong's estimate from its definition: the kernel over every (churner, other) pair."""
    pos, neg = y == 1, y == 0
    m, n = pos.sum(), neg.sum()
    v10, v01, aucs = [], [], []
    for s in (a, b):
        kernel = (s[pos][:, None] > s[neg][None, :]) + 0.5 * (s[pos][:, None] == s[neg][None, :])
        aucs.append(kernel.mean())
        v10.append(kernel.mean(axis=1))
        v01.append(kernel.mean(axis=0))
    s10, s01 = np.cov(np.vstack(v10)), np.cov(np.vstack(v01))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    return aucs[0] - aucs[1], float(np.sqrt(max(var, 0.0)))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 80), st.integers(2, 6))
def test_paired_auc_difference_equals_the_pairwise_definition(seed: int, rows: int, levels: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.r_[0, 0, 1, 1, rng.integers(0, 2, rows)]
    a = rng.integers(0, levels, len(y)) + y  # few levels: ties within and across the classes
    b = rng.normal(size=len(y)) + 0.5 * y
    got, want = paired_auc_difference(y, a, b), _delong_by_pairs(y, a, b)
    assert np.allclose(got, want, atol=1e-12)
    assert paired_auc_difference(y, a, a) == (0.0, 0.0)
    with pytest.raises(ValueError, match="two customers of each outcome"):
        paired_auc_difference(np.array([0, 1, 1]), a[:3], b[:3])


def test_paired_auc_difference_covers_the_true_difference() -> None:
    """Over simulated windows, difference ± 1.96 SE covers the population difference about 95 % of the time."""
    rng = np.random.default_rng(7)
    big = 400_000
    y_all = rng.integers(0, 2, big)
    signal = rng.normal(size=big) + y_all
    a_all, b_all = signal + rng.normal(scale=0.5, size=big), signal + rng.normal(scale=1.0, size=big)
    truth, _ = paired_auc_difference(y_all, a_all, b_all)
    covered = 0
    for _ in range(300):
        rows = rng.integers(0, big, 400)
        diff, se = paired_auc_difference(y_all[rows], a_all[rows], b_all[rows])
        covered += abs(diff - truth) <= 1.96 * se
    assert 0.91 <= covered / 300 <= 0.99
