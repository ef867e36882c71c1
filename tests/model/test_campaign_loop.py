"""The closed loop: publish → simulated response → measurement.

A generated shop runs 60 days; two campaigns are planned and published on D (one with a known,
heterogeneous effect, one with none); the generator reads the *published* treatment groups and
applies the effect to the next 14 days; ``measure-campaigns`` on D + 14 must cover the true effect
with its 95 % interval and must not call the zero-effect campaign a win.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from campaignflow.campaigns.publish import publication_key, published
from campaignflow.campaigns.selection import DayInputs, plan_audiences
from campaignflow.campaigns.spec import load_campaigns
from campaignflow.io import datasets
from campaignflow.io.storage import LocalStore
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings
from campaignflow.synthetic.generate import ShopSpec, generate_raw
from campaignflow.synthetic.population import make_population
from campaignflow.synthetic.response import (
    CampaignResponse,
    treated_from_publication,
    true_conversion_lift,
    true_uplift,
)

START, HISTORY, WINDOW = date(2024, 1, 1), 60, 14
D = START + timedelta(days=HISTORY - 1)


def write_campaigns(folder: Path) -> None:
    folder.mkdir()
    for name, priority, rule in (("promo", 2, "churn_prob >= 0.5"), ("placebo", 1, "churn_prob >= 0.0")):
        spec = {
            "name": name,
            "owner": "test",
            "priority": priority,
            "audience": {"rule": rule},
            "control": {"fraction": 0.5},
            "budget": {"cost_per_contact": 0.05},
            "response_window_days": WINDOW,
            "destinations": [{"name": "email", "type": "email_csv", "identifiers": ["email_sha256"]}],
        }
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(spec))


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from jobs import export_audience, measure_campaigns, snapshot_contacts

    root = tmp_path_factory.mktemp("loop")
    write_campaigns(root / "campaigns")
    rt = Runtime.from_settings(Settings.under(root, campaigns_dir=str(root / "campaigns")))
    shop = ShopSpec(customers=12_000, days=HISTORY + WINDOW, start=START, seed=11)
    truth = LocalStore(root / "truth")
    generate_raw(shop, rt.lake, truth, days=range(HISTORY))
    snapshot_contacts.run(rt, str(D))
    contacts = rt.lake.read_frame(datasets.CONTACTS.at(str(D)))
    rng = np.random.default_rng(5)
    scored = pd.DataFrame({"customer_id": contacts["customer_id"], "churn_prob": rng.random(len(contacts))})
    specs = load_campaigns(root / "campaigns")
    for name, (audience, stats) in plan_audiences(specs, scored, DayInputs(contacts), str(D)).items():
        rt.lake.write_frame(datasets.audience(name).at(str(D)), audience, {"stats": stats.to_dict()})
        export_audience.run(rt, str(D), name)

    pop = make_population(shop.customers, shop.days, shop.seed)
    responses = {}
    for name, rate in (("promo", 0.012), ("placebo", 0.0)):
        found = published(rt.exports.store, publication_key("email", name, str(D)))
        assert found is not None
        hashes = set(pd.read_csv(pd.io.common.BytesIO(found[1]["audience-00001.csv"]))["email_sha256"])
        responses[name] = CampaignResponse(name, D, treated_from_publication(pop, shop.seed, hashes), rate, WINDOW)
    generate_raw(shop, rt.lake, truth, days=range(HISTORY, HISTORY + WINDOW), responses=list(responses.values()))
    result = measure_campaigns.run(rt, str(D + timedelta(days=WINDOW)))
    lifts = {r["campaign"]: r for r in result["results"] if r["compared_with"] == "control"}
    truths = {name: true_conversion_lift(pop, START, r) for name, r in responses.items()}
    days = [(D + timedelta(days=i)).isoformat() for i in range(1, WINDOW + 1)]
    orders = rt.lake.read_dates(datasets.raw("orders"), days, ["order_id", "amount"])
    assert orders is not None
    extra = orders[orders["order_id"].str.contains("-Rpromo-")]["amount"].sum()
    revenue = extra / len(responses["promo"].treated)  # what the response orders brought per treated customer
    return {
        "lifts": lifts,
        "truths": truths,
        "revenue": revenue,
        "responses": responses,
        "rt": rt,
        "pop": pop,
        "shop": shop,
    }


def test_the_interval_covers_the_true_effect(loop: dict) -> None:  # type: ignore[type-arg]
    promo, truth = loop["lifts"]["promo"], loop["truths"]["promo"]
    assert truth > 0.02  # the simulated effect is real and sizeable
    assert promo["lift_low"] <= truth <= promo["lift_high"], (promo, truth)
    assert promo["lift_low"] > 0 and promo["p_lift_positive"] > 0.99  # and it is found
    # revenue is heavy-tailed (B2B-sized orders): the estimate must sit within 3 standard errors of
    # what the response orders really brought per treated customer (a biased measurement would not)
    se = (promo["revenue_high"] - promo["revenue_low"]) / (2 * 1.959964)
    assert abs(promo["revenue_lift"] - loop["revenue"]) < 3 * se, (promo["revenue_lift"], loop["revenue"], se)
    assert promo["incremental_revenue"] == pytest.approx(promo["revenue_lift"] * promo["treatment"], abs=1)
    cost = 0.05 * promo["treatment"]
    assert promo["cost"] == pytest.approx(cost) and promo["return_on_cost"] == pytest.approx(
        (promo["incremental_revenue"] - cost) / cost, rel=1e-4
    )
    treated = len(loop["responses"]["promo"].treated)
    assert abs(promo["treatment"] - treated) <= treated * 0.01  # the generator found the published group


def test_a_zero_effect_campaign_is_not_reported_as_a_win(loop: dict) -> None:  # type: ignore[type-arg]
    placebo = loop["lifts"]["placebo"]
    assert loop["truths"]["placebo"] == 0.0
    assert placebo["lift_low"] <= 0.0 <= placebo["lift_high"], placebo
    assert placebo["p_lift_positive"] < 0.975 and placebo["treatment"] > 1000


def observable_features(rt: Runtime, ds: date) -> pd.DataFrame:
    """What the shop could know about each customer at ``ds``: recency, frequency, spend, browsing."""
    days = [(START + timedelta(days=i)).isoformat() for i in range((ds - START).days + 1)]
    orders = rt.lake.read_dates(datasets.raw("orders"), days, ["customer_id", "order_ts", "amount"])
    events = rt.lake.read_dates(datasets.raw("events"), days, ["customer_id", "event_ts"])
    assert orders is not None and events is not None
    end = pd.Timestamp(ds) + pd.Timedelta(days=1)
    recent = end - pd.Timedelta(days=30)
    per = orders.groupby("customer_id").agg(
        orders=("amount", "size"), spend=("amount", "sum"), last=("order_ts", "max")
    )
    per["recency_days"] = (end - per.pop("last")).dt.days
    per["orders_30d"] = orders[orders["order_ts"] >= recent].groupby("customer_id").size()
    browsing = events.groupby("customer_id").agg(events=("event_ts", "size"), last_event=("event_ts", "max"))
    browsing["events_30d"] = events[events["event_ts"] >= recent].groupby("customer_id").size()
    browsing["days_since_event"] = (end - browsing.pop("last_event")).dt.days
    return per.join(browsing, how="outer").fillna(
        {"orders": 0, "spend": 0, "orders_30d": 0, "events": 0, "events_30d": 0}
    )


def test_an_uplift_model_targets_the_persuadable_better_than_churn_risk(loop: dict) -> None:  # type: ignore[type-arg]
    """T-learner on half of the promo audience; on the other half its top 30 % gain more (by the
    known true effect) than the top 30 % by churn risk (1 − P(buying anyway))."""
    from campaignflow.campaigns.measurement import outcomes
    from campaignflow.campaigns.uplift import fit_t_learner
    from campaignflow.splits import in_share
    from jobs.measure_campaigns import window

    rt, pop, response = loop["rt"], loop["pop"], loop["responses"]["promo"]
    members = rt.lake.read_frame(datasets.audience("promo").at(str(D)), ["customer_id", "group"])
    orders, returns = window(rt, str(D), str(D + timedelta(days=WINDOW)))
    results = outcomes(members, orders, returns).set_index("customer_id")
    features = observable_features(rt, D).reindex(results.index)
    index_of = {cid: i for i, cid in enumerate(pop.ids)}
    truth = pd.Series(true_uplift(pop, START, response, results.index.map(index_of).to_numpy()), index=results.index)
    train = in_share("uplift-split", results.index, 0.5)
    model = fit_t_learner(
        features[train], (results["group"] == "treatment")[train].to_numpy(), results["converted"][train].to_numpy()
    )
    scored = model.predict(features[~train]).assign(truth=truth[~train])
    top = int(0.3 * len(scored))
    by_uplift = scored.nlargest(top, "uplift")["truth"].mean()
    by_churn = scored.nsmallest(top, "p_control")["truth"].mean()  # highest churn risk first
    at_random = scored["truth"].mean()
    print(
        f"true uplift in the top 30 %: by uplift {by_uplift:.4f}, by churn risk {by_churn:.4f}, random {at_random:.4f}"
    )
    assert by_uplift > by_churn and by_uplift > at_random


def test_measurement_waits_for_the_whole_window(loop: dict) -> None:  # type: ignore[type-arg]
    from campaignflow.errors import MissingPartition
    from jobs import measure_campaigns

    rt = loop["rt"]
    late = D + timedelta(days=WINDOW + 30)  # a window that would need days not generated yet
    for spec_dt in (str(late - timedelta(days=WINDOW)),):
        rt.lake.write_frame(  # type: ignore[attr-defined]
            datasets.audience("promo").at(spec_dt), pd.DataFrame({"customer_id": ["x"], "group": ["treatment"]})
        )
    with pytest.raises(MissingPartition, match=r"the response window .* is not complete"):
        measure_campaigns.run(rt, str(late))
