"""Planning a day across campaigns: priorities, exclusions, frequency caps, budgets, holdouts, schedules."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from campaignflow.campaigns.selection import DayInputs, plan_audiences
from campaignflow.campaigns.spec import CampaignSpec, Schedule
from campaignflow.errors import MissingPartition
from tests.unit.campaigns.test_spec_and_selection import scored_and_contacts

D = "2024-03-11"  # a Monday


def campaign(name: str, **over: object) -> CampaignSpec:
    base: dict[str, object] = {
        "name": name,
        "owner": "crm",
        "audience": {"rule": "churn_prob >= 0.3"},
        "control": {"fraction": 0.1},
        "destinations": [{"name": "csv"}],
    }
    base.update(over)
    return CampaignSpec.model_validate(base)


def day(n: int = 3000, **over: object) -> tuple[pd.DataFrame, DayInputs]:
    scored, contacts = scored_and_contacts(n)
    rng = np.random.default_rng(1)
    scored = scored.assign(
        predicted_value=rng.gamma(2.0, 50.0, n),
        rfm_tier=rng.choice(["champions", "at_risk", "hibernating"], n),
        churn_band=np.where(scored["churn_prob"] >= 0.6, "high", "low"),
    )
    return scored, DayInputs(contacts=contacts, **over)  # type: ignore[arg-type]


def test_a_customer_goes_to_the_highest_priority_campaign_only() -> None:
    scored, inputs = day()
    low, high = campaign("low", priority=1), campaign("high", priority=9, audience={"rule": "churn_prob >= 0.6"})
    plans = plan_audiences([low, high], scored, inputs, D)
    a_low, s_low = plans["low"]
    a_high, s_high = plans["high"]
    assert not set(a_low["customer_id"]) & set(a_high["customer_id"])
    assert s_low.excluded["taken_by_higher_priority"] == len(a_high) > 0
    assert s_high.excluded["taken_by_higher_priority"] == 0
    assert s_low.overlap["high"] == s_high.overlap["low"] == int((scored["churn_prob"] >= 0.6).sum())
    swapped = plan_audiences([low.model_copy(update={"priority": 10}), high], scored, inputs, D)
    assert len(swapped["high"][0]) == 0  # every high-risk customer now went to "low"


def test_segment_and_campaign_exclusions() -> None:
    history = pd.DataFrame(
        {
            "customer_id": ["C00001", "C00002", "C00003"],
            "campaign": "other",
            "dt": ["2024-03-01", "2024-03-09", "2024-03-10"],
        }
    )
    scored, inputs = day(assigned=history)
    spec = campaign(
        "care",
        audience={"rule": "churn_prob >= 0.0"},
        exclude={"segments": ["champions"], "campaigns": ["other"], "campaign_days": 5},
    )
    audience, stats = plan_audiences([spec], scored, inputs, D)["care"]
    tiers = scored.set_index("customer_id").loc[audience["customer_id"], "rfm_tier"]
    assert "champions" not in set(tiers) and stats.excluded["excluded_segment"] > 0
    assert {"C00002", "C00003"}.isdisjoint(audience["customer_id"])  # within 5 days
    tier = scored.set_index("customer_id")["rfm_tier"]
    recent_not_champions = sum(tier[c] != "champions" for c in ("C00002", "C00003"))  # C00001: 10 days ago
    assert stats.excluded["in_excluded_campaign"] == recent_not_champions


def test_frequency_cap_counts_any_campaigns_recent_contacts() -> None:
    scored, inputs = day()
    everyone = campaign("all", audience={"rule": "churn_prob >= 0.0"}, frequency_cap_days=7)
    first, _ = plan_audiences([everyone], scored, inputs, D)["all"]
    treated = first[first["group"] == "treatment"]["customer_id"]
    contacted = pd.DataFrame({"customer_id": treated, "campaign": "someone_else", "dt": "2024-03-05"})
    _, later = day(contacted=contacted)
    second, stats = plan_audiences([everyone], scored, later, D)["all"]
    assert set(second["customer_id"]).isdisjoint(treated) and stats.excluded["contacted_recently"] == len(treated)
    old = contacted.assign(dt="2024-03-01")  # 10 days ago: outside the 7-day cap
    third, _ = plan_audiences([everyone], scored, day(contacted=old)[1], D)["all"]
    assert set(treated) <= set(third["customer_id"])


def test_budget_is_filled_by_expected_value_highest_first() -> None:
    scored, inputs = day()
    spec = campaign(
        "value",
        audience={"rule": "churn_prob >= 0.0", "order_by": "churn_prob * predicted_value"},
        budget={"max_cost": 30.0, "cost_per_contact": 0.1},
    )
    audience, stats = plan_audiences([spec], scored, inputs, D)["value"]
    assert len(audience) == 300 and stats.capped > 0
    values = audience["churn_prob * predicted_value"]
    assert values.is_monotonic_decreasing and audience["rank"].tolist() == list(range(1, 301))
    unlimited, _ = plan_audiences(
        [spec.model_copy(update={"budget": spec.budget.model_copy(update={"max_cost": None})})], scored, inputs, D
    )["value"]
    assert audience["customer_id"].tolist() == unlimited["customer_id"].head(300).tolist()  # the 300 most valuable


def test_global_control_is_held_out_of_every_campaign_and_recorded() -> None:
    scored, inputs = day(global_control_fraction=0.2)
    specs = [campaign("a", priority=2, audience={"rule": "churn_prob >= 0.5"}), campaign("b", priority=1)]
    plans = plan_audiences(specs, scored, inputs, D)
    held = set()
    for name in ("a", "b"):
        audience, stats = plans[name]
        group = audience[audience["group"] == "global_control"]
        assert stats.global_control == len(group) > 0
        held |= set(group["customer_id"])
    again = plan_audiences(specs, scored.sample(frac=1, random_state=3), inputs, "2024-04-01")
    held_again = {c for n in ("a", "b") for c in again[n][0].query("group == 'global_control'")["customer_id"]}
    assert held == held_again  # stable across days and row order
    share = len(held) / sum(plans[n][1].matched - sum(plans[n][1].excluded.values()) for n in ("a", "b"))
    assert 0.15 < share < 0.25


def test_control_groups_are_independent_across_campaigns_and_balanced() -> None:
    scored, inputs = day(6000)
    a = campaign("a", audience={"rule": "churn_prob >= 0.0"}, control={"fraction": 0.5})
    b = campaign("b", audience={"rule": "churn_prob >= 0.0"}, control={"fraction": 0.5})
    ga = plan_audiences([a], scored, inputs, D)["a"][0].set_index("customer_id")["group"]
    gb = plan_audiences([b], scored, inputs, D)["b"][0].set_index("customer_id")["group"]
    both = pd.concat([ga, gb], axis=1, join="inner")
    agreement = (both.iloc[:, 0] == both.iloc[:, 1]).mean()
    assert 0.45 < agreement < 0.55  # independent salts: agreement by chance only
    _, stats = plan_audiences([a], scored, inputs, D)["a"]
    assert abs(stats.balance["churn_prob"]["smd"]) < 0.1  # type: ignore[arg-type]
    assert stats.by_band and stats.by_segment and stats.expected_churners > 0


def test_a_named_suppression_list_must_exist() -> None:
    scored, inputs = day(50)
    with pytest.raises(MissingPartition, match=r"suppression list\(s\) \['vip_optout'\] have not been imported"):
        plan_audiences([campaign("a", exclude={"suppression_lists": ["vip_optout"]})], scored, inputs, D)


@pytest.mark.parametrize(
    ("schedule", "runs"),
    [
        ({"cadence": "daily"}, [True, True, True]),
        ({"cadence": "weekly", "weekdays": ["mon"]}, [True, False, False]),
        ({"cadence": "dates", "dates": ["2024-03-12"]}, [False, True, False]),
        ({"cadence": "daily", "start": "2024-03-12", "end": "2024-03-12"}, [False, True, False]),
    ],
)
def test_schedules(schedule: dict[str, object], runs: list[bool]) -> None:
    s = Schedule.model_validate(schedule)
    assert [s.runs_on(date(2024, 3, d)) for d in (11, 12, 13)] == runs
