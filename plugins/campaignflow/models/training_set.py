"""Training sets from calendar snapshots: which as-of dates, which split, and whether to train at all.

Training at D uses snapshots T_k = T_0 − k·step (k = 0 … count−1): features as of T_k and labels
from (T_k, T_k + H], so no label window reaches past D. T_0 is the newest date on the **snapshot
calendar** (every ``step`` days from 1980-01-01) at or before D − H, so the weekly retrains between
two calendar dates train on the same snapshots and build none (a rolling T_0 = D − H would build
every snapshot's features and labels again at each retrain). A young shop, whose history does not
yet reach back to all ``count`` calendar snapshots, steps back from D − H itself.

The newest snapshot is the **test** window (every candidate and the champion are compared on it),
the next the **validation** window (early stopping and calibration), the older ones **train**. With
only two snapshots in the history, the validation customers are a stable hash share of the older
snapshot. Each row carries its snapshot's season (week of year, days to the peak), so a model
trained in summer knows it is not November, and two ratios of its own features that trees cannot
form from splits: how overdue the customer is against their usual gap between orders, and their
lifetime order rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from campaignflow.errors import NotEnoughHistory
from campaignflow.features.catalogue import FEATURE_COLUMNS
from campaignflow.settings import EARLIEST_DATE
from campaignflow.splits import in_share

CONTEXT_COLUMNS = ["season_week_sin", "season_week_cos", "days_to_peak"]
RATIO_COLUMNS = ["overdue_ratio", "orders_per_30d_lifetime"]
MODEL_COLUMNS = [*FEATURE_COLUMNS, *CONTEXT_COLUMNS, *RATIO_COLUMNS]
MIN_ROWS = {"train": 100, "valid": 40, "test": 40}
MIN_PER_CLASS = {"train": 10, "valid": 5, "test": 5}
VALID_SHARE = 0.25


@dataclass(frozen=True)
class SnapshotPlan:
    test: str
    valid: str | None  # None: validation customers are a hash share of the train snapshots
    train: tuple[str, ...]

    @property
    def dates(self) -> list[str]:
        return sorted({self.test, *([self.valid] if self.valid else []), *self.train})

    def describe(self) -> dict[str, object]:
        return {"test": self.test, "valid": self.valid or f"{VALID_SHARE:.0%} of train customers", "train": self.train}


def plan_snapshots(
    ds: str, horizon_days: int, step_days: int, count: int, first_order: str, min_history_days: int
) -> SnapshotPlan:
    """The snapshot dates for training at ``ds``, newest first in meaning (test, valid, train).

    Raises:
        NotEnoughHistory: fewer than two snapshots have ``min_history_days`` of history before them.
    """
    latest = date.fromisoformat(ds) - timedelta(days=horizon_days)
    earliest = date.fromisoformat(first_order) + timedelta(days=min_history_days)

    def usable_from(end: date) -> list[str]:
        dates = [end - timedelta(days=k * step_days) for k in range(count)]
        return [d.isoformat() for d in dates if d >= earliest]

    usable = usable_from(on_calendar(latest, step_days))
    if len(usable) < count:
        usable = usable_from(latest)  # a young shop: the most recent snapshots its history allows
    if len(usable) < 2:
        raise NotEnoughHistory(
            f"training at {ds} needs two snapshots (T = D - {horizon_days} days and T - {step_days} days) with "
            f"{min_history_days} days of orders before each; the orders start on {first_order}",
            remedy=f"load more history, or train once orders reach {_needed(earliest, horizon_days, step_days)}",
        )
    if len(usable) == 2:
        return SnapshotPlan(test=usable[0], valid=None, train=(usable[1],))
    return SnapshotPlan(test=usable[0], valid=usable[1], train=tuple(usable[2:]))


def on_calendar(day: date, step_days: int) -> date:
    """The newest snapshot-calendar date (every ``step_days`` from :data:`EARLIEST_DATE`) at or before ``day``."""
    return day - timedelta(days=(day - EARLIEST_DATE).days % step_days)


def _needed(earliest: date, horizon_days: int, step_days: int) -> str:
    return (earliest + timedelta(days=horizon_days + step_days)).isoformat()


def peak_day(year: int) -> date:
    """The retail peak: Black Friday, the day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thursday + timedelta(days=1)


def season_context(as_of: date) -> dict[str, float]:
    """Where in the year a snapshot sits: week-of-year on a circle and days to the next peak."""
    angle = 2 * np.pi * (as_of.timetuple().tm_yday - 1) / 365.25
    peak = peak_day(as_of.year)
    if peak < as_of:
        peak = peak_day(as_of.year + 1)
    return {
        "season_week_sin": float(np.sin(angle)),
        "season_week_cos": float(np.cos(angle)),
        "days_to_peak": float((peak - as_of).days),
    }


def with_context(features: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """Features of one as-of date plus that date's season context and the model's ratio columns."""
    return features.assign(**season_context(date.fromisoformat(as_of)), **ratios(features))


def in_population(features: pd.DataFrame) -> pd.Series:
    """Rows of customers with an order by their as-of date: the population churn is labelled on
    (``features/labels.py``), so the one a model's training window and drift reference describe."""
    return pd.to_numeric(features["orders_total"], errors="coerce").fillna(0) > 0


def ratios(features: pd.DataFrame) -> dict[str, pd.Series]:
    """Recency over the mean gap between orders (1 = due today), and orders per 30 days of lifetime."""
    used = ["interpurchase_days_mean", "recency_days", "orders_total", "days_since_first_order"]
    x = features.reindex(columns=used).apply(pd.to_numeric, errors="coerce").astype("float64")
    gap, recency, orders, age = (x[c] for c in used)
    return {
        "overdue_ratio": (recency / gap.where(gap > 0)).round(4),
        "orders_per_30d_lifetime": (30.0 * orders / (age + 1.0)).round(4),
    }


@dataclass
class Splits:
    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame

    def sizes(self) -> dict[str, dict[str, int]]:
        return {
            name: {"rows": len(f), "churned": int(f["churned"].sum())}
            for name, f in (("train", self.train), ("valid", self.valid), ("test", self.test))
        }


def split(rows: pd.DataFrame, plan: SnapshotPlan, seed: int) -> Splits:
    """Rows (one per customer and snapshot, with ``snapshot`` and ``churned``) into the plan's windows."""
    test = rows[rows["snapshot"] == plan.test]
    older = rows[rows["snapshot"].isin(plan.train)]
    if plan.valid is not None:
        return Splits(older.reset_index(drop=True), _reset(rows[rows["snapshot"] == plan.valid]), _reset(test))
    held = in_share(f"churn-validation-{seed}", older["customer_id"], VALID_SHARE)
    return Splits(_reset(older[~held]), _reset(older[held]), _reset(test))


def _reset(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reset_index(drop=True)


def check_eligible(splits: Splits) -> None:
    """Refuse to train on windows too small or one-sided to learn or judge a model.

    Raises:
        NotEnoughHistory: naming the window and what it has.
    """
    problems = []
    for name, frame in (("train", splits.train), ("valid", splits.valid), ("test", splits.test)):
        churned = int(frame["churned"].sum())
        kept = len(frame) - churned
        if len(frame) < MIN_ROWS[name]:
            problems.append(f"{name} window has {len(frame)} customers (need {MIN_ROWS[name]})")
        elif min(churned, kept) < MIN_PER_CLASS[name]:
            problems.append(
                f"{name} window has {churned} churned and {kept} retained customers "
                f"(need {MIN_PER_CLASS[name]} of each)"
            )
    if problems:
        raise NotEnoughHistory("not eligible for training: " + "; ".join(problems))


def matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The float matrix a model sees (missing columns and nulls are NaN)."""
    return frame.reindex(columns=columns).astype("float64").to_numpy()
