"""Drift (PSI) against a model's training window: like compared with like, shifts flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from campaignflow.models import drift
from campaignflow.models.training_set import CONTEXT_COLUMNS, in_population

COLUMNS = ["orders_total", "recency_days", *CONTEXT_COLUMNS]


def buyers(rng: np.random.Generator, n: int, recency_scale: float = 60.0, week: float = 0.3) -> pd.DataFrame:
    """Customers with orders, as the training window holds them (one season value: one snapshot)."""
    recency = rng.exponential(recency_scale, n).round()
    recency[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "orders_total": rng.geometric(0.4, n).astype(float),
            "recency_days": recency,
            "season_week_sin": np.full(n, np.sin(week)),
            "season_week_cos": np.full(n, np.cos(week)),
            "days_to_peak": np.full(n, 300 * week),
        }
    )


def flagged(reference: dict, frame: pd.DataFrame) -> list[str]:
    table = drift.report(reference, frame, np.zeros(len(frame)))
    return table.loc[table["flagged"], "column"].tolist()


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_sample_of_the_training_distribution_is_not_flagged(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = drift.profile(buyers(rng, 20_000), COLUMNS, np.zeros(20_000))
    table = drift.report(reference, buyers(rng, 5_000), np.zeros(5_000))
    assert not table["flagged"].any(), table
    assert (table["psi"] >= 0).all()


def test_a_shifted_column_is_flagged_and_the_others_are_not() -> None:
    rng = np.random.default_rng(1)
    reference = drift.profile(buyers(rng, 20_000), COLUMNS, np.zeros(20_000))
    assert flagged(reference, buyers(rng, 5_000, recency_scale=150.0)) == ["recency_days"]


def test_season_columns_are_not_compared() -> None:
    """A window of snapshots across the year always differs from one date's season: never a flag."""
    rng = np.random.default_rng(2)
    window = pd.concat([buyers(rng, 5_000, week=w) for w in (0.3, 1.5, 3.0, 4.5)], ignore_index=True)
    reference = drift.profile(window, COLUMNS, np.zeros(len(window)))
    table = drift.report(reference, buyers(rng, 5_000, week=6.0), np.zeros(5_000))
    assert set(table["column"]) == {"orders_total", "recency_days", "__score__"}
    assert not table["flagged"].any()


def test_customers_without_orders_are_outside_the_population() -> None:
    """Scoring covers every customer, training only those with an order: compared unfiltered, the
    never-buyers alone would flag the columns; the population filter compares like with like."""
    rng = np.random.default_rng(3)
    reference = drift.profile(buyers(rng, 20_000), COLUMNS, np.zeros(20_000))
    never = pd.DataFrame({"orders_total": np.zeros(4_000), "recency_days": np.full(4_000, np.nan)})
    today = pd.concat([buyers(rng, 5_000), never.assign(**buyers(rng, 1)[CONTEXT_COLUMNS].iloc[0])], ignore_index=True)
    assert set(flagged(reference, today)) >= {"orders_total", "recency_days"}
    assert int(in_population(today).sum()) == 5_000
    today["customer_id"] = [f"c{k}" for k in range(len(today))]
    table = drift.population_report(reference, today, pd.Series(0.0, index=today["customer_id"]))
    assert table is not None and not table["flagged"].any()
    assert drift.population_report(reference, today.iloc[5_000:], pd.Series(0.0, index=today["customer_id"])) is None


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), days=st.integers(1, 120))
def test_a_population_that_only_grew_older_does_not_drift(seed: int, days: int) -> None:
    """A reference dated at training; the same customers ``days`` later, nobody having ordered: their
    recency grew by ``days``, which is ageing, not drift. Undated, the same comparison flags it."""
    rng = np.random.default_rng(seed)
    population = buyers(rng, 20_000, recency_scale=20.0)
    reference = drift.profile(population, COLUMNS, np.zeros(len(population)), as_of="2024-03-01")
    later = population.assign(recency_days=population["recency_days"] + days)
    as_of = (pd.Timestamp("2024-03-01") + pd.Timedelta(days=days)).strftime("%Y-%m-%d")
    table = drift.report(reference, later, np.zeros(len(later)), as_of)
    assert not table["flagged"].any(), table
    if days >= 30:
        assert "recency_days" in flagged(reference, later)  # compared without the dates


def test_ageing_hides_no_real_shift() -> None:
    """Half the customers came back (recency reset) between the reference and D: flagged, aged or not."""
    rng = np.random.default_rng(4)
    population = buyers(rng, 20_000, recency_scale=60.0)
    reference = drift.profile(population, COLUMNS, np.zeros(len(population)), as_of="2024-03-01")
    later = population.assign(recency_days=population["recency_days"] + 14)
    back = rng.random(len(later)) < 0.5
    later.loc[back, "recency_days"] = rng.integers(0, 14, int(back.sum()))
    table = drift.report(reference, later, np.zeros(len(later)), "2024-03-15")
    assert table.loc[table["flagged"], "column"].tolist() == ["recency_days"]
