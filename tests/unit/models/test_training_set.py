"""Calendar snapshots: the dates, the windows, the season, and when training is refused."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaignflow.errors import NotEnoughHistory
from campaignflow.models.training_set import (
    SnapshotPlan,
    check_eligible,
    on_calendar,
    peak_day,
    plan_snapshots,
    season_context,
    split,
)
from tests.unit.models.synthetic_rows import labelled_rows


def test_snapshots_step_back_from_the_calendar_and_never_see_past_d() -> None:
    plan = plan_snapshots("2024-10-31", 90, 28, 4, first_order="2023-01-01", min_history_days=28)
    assert plan == SnapshotPlan(test="2024-07-16", valid="2024-06-18", train=("2024-05-21", "2024-04-23"))
    assert all((date(2024, 10, 31) - date.fromisoformat(t)).days >= 90 for t in plan.dates)


@given(st.dates(date(1990, 1, 1), date(2040, 12, 31)), st.integers(0, 60), st.sampled_from([7, 14, 28, 30]))
def test_retrains_between_two_calendar_dates_share_every_snapshot(day: date, later: int, step: int) -> None:
    horizon, count = 90, 6
    ds, again = day.isoformat(), (day + timedelta(days=later)).isoformat()
    first_order = (day - timedelta(days=horizon + count * step + 60)).isoformat()  # a shop with the history
    plan = plan_snapshots(ds, horizon, step, count, first_order, 28)
    newest = day - timedelta(days=horizon)
    test = date.fromisoformat(plan.test)
    assert test <= newest < test + timedelta(days=step)  # at most step - 1 days older than D - H
    assert on_calendar(test, step) == test and len(plan.dates) == count
    assert [(b - a).days for a, b in pairwise(map(date.fromisoformat, plan.dates))] == [step] * (count - 1)
    same_period = on_calendar(newest + timedelta(days=later), step) == test
    assert (plan_snapshots(again, horizon, step, count, first_order, 28) == plan) is same_period


def test_a_young_shop_steps_back_from_d_minus_h_then_refuses() -> None:
    # history for 3 of the 6 snapshots: the newest ones, from D − H (the calendar would start 5 days earlier)
    plan = plan_snapshots("2024-04-30", 30, 28, 6, first_order="2024-01-01", min_history_days=28)
    assert plan == SnapshotPlan(test="2024-03-31", valid="2024-03-03", train=("2024-02-04",))
    two = plan_snapshots("2024-04-02", 30, 28, 6, first_order="2024-01-01", min_history_days=28)
    assert two.valid is None and two.train == ("2024-02-04",)
    with pytest.raises(NotEnoughHistory, match="needs two snapshots"):
        plan_snapshots("2024-03-10", 30, 28, 6, first_order="2024-01-01", min_history_days=28)


def test_peak_day_is_black_friday_and_context_counts_down_to_it() -> None:
    assert peak_day(2023) == date(2023, 11, 24) and peak_day(2024) == date(2024, 11, 29)
    assert season_context(date(2024, 11, 1))["days_to_peak"] == 28
    assert season_context(date(2024, 12, 1))["days_to_peak"] == (date(2025, 11, 28) - date(2024, 12, 1)).days
    jan, jul = season_context(date(2024, 1, 1)), season_context(date(2024, 7, 2))
    assert jan["season_week_cos"] == pytest.approx(1.0) and jul["season_week_cos"] < -0.99


def test_windows_are_disjoint_and_hash_split_when_only_two_snapshots() -> None:
    rows = labelled_rows(400, 1)
    three = split(rows, SnapshotPlan("2024-03-01", "2024-02-02", ("2024-01-05",)), seed=7)
    assert set(three.test["snapshot"]) == {"2024-03-01"} and set(three.valid["snapshot"]) == {"2024-02-02"}
    two = split(rows, SnapshotPlan("2024-03-01", None, ("2024-02-02", "2024-01-05")), seed=7)
    assert not set(two.train["customer_id"] + two.train["snapshot"]) & set(
        two.valid["customer_id"] + two.valid["snapshot"]
    )
    assert 0.15 < len(two.valid) / (len(two.train) + len(two.valid)) < 0.35


def test_ineligible_windows_are_named() -> None:
    splits = split(labelled_rows(400, 2), SnapshotPlan("2024-03-01", "2024-02-02", ("2024-01-05",)), seed=7)
    check_eligible(splits)
    splits.test = splits.test.assign(churned=1)
    splits.valid = splits.valid.head(10)
    with pytest.raises(NotEnoughHistory) as err:
        check_eligible(splits)
    assert "valid window has 10 customers (need 40)" in str(err.value)
    assert "test window has 400 churned and 0 retained customers" in str(err.value)
