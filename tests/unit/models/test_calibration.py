"""Isotonic calibration: fixes a distorted score, survives its JSON, never fits on too little."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaignflow.models.calibration import IDENTITY, Calibrator, fit_calibrator, fit_isotonic
from campaignflow.models.metrics import expected_calibration_error


def _distorted(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true_p = rng.random(n)
    y = (rng.random(n) < true_p).astype(int)
    return true_p**3, y  # a good ranking with badly understated probabilities


def test_calibration_fixes_a_distorted_score_on_fresh_data() -> None:
    raw_fit, y_fit = _distorted(4000, 1)
    raw_new, y_new = _distorted(4000, 2)
    cal = fit_calibrator(raw_fit, y_fit)
    assert expected_calibration_error(y_new, raw_new) > 0.15
    assert expected_calibration_error(y_new, cal(raw_new)) < 0.03
    assert np.all(np.diff(cal(np.linspace(0, 1, 101))) >= 0)  # monotone: the ranking is kept


def test_json_round_trip_gives_identical_probabilities() -> None:
    raw, y = _distorted(1000, 3)
    cal = fit_calibrator(raw, y)
    again = Calibrator.from_json(cal.to_json())
    assert np.array_equal(cal(raw), again(raw))
    with pytest.raises(ValueError, match="not a calibration map"):
        Calibrator.from_json(b'{"method": "platt", "x": [], "y": []}')
    with pytest.raises(ValueError, match="not a calibration map"):
        Calibrator.from_json(b'{"method": "magic", "x": [1], "y": [1]}')


def test_too_few_rows_or_one_class_leaves_the_score_alone() -> None:
    assert fit_calibrator(np.array([0.1, 0.2]), np.array([0, 1])) is IDENTITY
    assert fit_calibrator(np.linspace(0, 1, 100), np.zeros(100)) is IDENTITY
    assert np.array_equal(IDENTITY(np.array([0.25, 0.5])), np.array([0.25, 0.5]))


def test_small_windows_get_platt_large_ones_isotonic() -> None:
    raw, y = _distorted(400, 4)
    platt = fit_calibrator(raw, y)
    assert platt.method == "platt"
    fresh_raw, fresh_y = _distorted(4000, 5)
    assert expected_calibration_error(fresh_y, platt(fresh_raw)) < 0.06  # two numbers, no overfit steps
    assert len(np.unique(platt(fresh_raw))) > 1000  # a smooth curve, not a few levels
    assert fit_calibrator(*_distorted(2000, 6)).method == "isotonic"
    assert Calibrator.from_json(platt.to_json()) == platt


def test_isotonic_blocks_without_both_outcomes_are_not_certainties() -> None:
    """A block of n customers where none churned maps to 1/(2n + 2), not to the floor; the same at the top."""
    raw = np.r_[np.linspace(0.0, 0.1, 1000), np.linspace(0.2, 0.8, 1000), np.linspace(0.9, 1.0, 9)]
    y = np.r_[np.zeros(1000), (np.arange(1000) + 1) % 2, np.ones(9)]
    cal = fit_isotonic(raw, y)
    assert cal(np.array([0.05]))[0] == pytest.approx(0.5 / 1001)
    assert cal(np.array([0.95]))[0] == pytest.approx(9.5 / 10)
    assert cal(np.array([0.5]))[0] == pytest.approx(0.5)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 400))
def test_isotonic_stays_monotone_and_keeps_the_window_mean(seed: int, rows: int) -> None:
    rng = np.random.default_rng(seed)
    raw = rng.random(rows)
    y = (rng.random(rows) < raw**2).astype(float)
    fitted = fit_isotonic(raw, y)(raw)
    assert np.all(np.diff(fitted[np.argsort(raw)]) >= -1e-12)
    # the shrinkage moves the mean toward one half by at most what the pseudo-counts weigh
    blocks = len(np.unique(fitted))
    assert abs(fitted.mean() - y.mean()) <= blocks / rows + 1e-9
