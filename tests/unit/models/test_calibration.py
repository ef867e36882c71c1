"""Isotonic calibration: fixes a distorted score, survives its JSON, never fits on too little."""

from __future__ import annotations

import numpy as np
import pytest

from campaignflow.models.calibration import IDENTITY, Calibrator, fit_isotonic
from campaignflow.models.metrics import expected_calibration_error


def _distorted(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true_p = rng.random(n)
    y = (rng.random(n) < true_p).astype(int)
    return true_p**3, y  # a good ranking with badly understated probabilities


def test_calibration_fixes_a_distorted_score_on_fresh_data() -> None:
    raw_fit, y_fit = _distorted(4000, 1)
    raw_new, y_new = _distorted(4000, 2)
    cal = fit_isotonic(raw_fit, y_fit)
    assert expected_calibration_error(y_new, raw_new) > 0.15
    assert expected_calibration_error(y_new, cal(raw_new)) < 0.03
    assert np.all(np.diff(cal(np.linspace(0, 1, 101))) >= 0)  # monotone: the ranking is kept


def test_json_round_trip_gives_identical_probabilities() -> None:
    raw, y = _distorted(1000, 3)
    cal = fit_isotonic(raw, y)
    again = Calibrator.from_json(cal.to_json())
    assert np.array_equal(cal(raw), again(raw))
    with pytest.raises(ValueError, match="not an isotonic"):
        Calibrator.from_json(b'{"method": "platt", "x": [], "y": []}')


def test_too_few_rows_or_one_class_leaves_the_score_alone() -> None:
    assert fit_isotonic(np.array([0.1, 0.2]), np.array([0, 1])) is IDENTITY
    assert fit_isotonic(np.linspace(0, 1, 100), np.zeros(100)) is IDENTITY
    assert np.array_equal(IDENTITY(np.array([0.25, 0.5])), np.array([0.25, 0.5]))
