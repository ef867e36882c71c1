"""The churn model on real-shape shops, with the outcome window over the peak season.

Two shops a merchant brings: an orders-only log (no events, no customer file) and line-level
exports with products, quantities and returns (still no events). The test window's outcome period
(T, T+60 d] is November-December, Black Friday and Christmas included, and every training snapshot
is older. On both shops LightGBM must beat recency alone, frequency alone, an RFM logistic
regression and BG/NBD on the same split, and stay calibrated (ECE <= 0.05).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from campaignflow.io import datasets
from campaignflow.io.storage import LocalStore
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings
from campaignflow.synthetic.generate import ShopSpec, generate_raw
from campaignflow.synthetic.seasonality import black_friday

pytestmark = [pytest.mark.spark]
HORIZON = 60
CUSTOMERS = 10_000  # below a few thousand customers without events, BG/NBD ties LightGBM (README)
START, TRAIN_AT = date(2024, 5, 1), "2024-12-31"  # test snapshot 2024-11-01, outcomes through New Year's Eve
SHOPS = {
    "orders only": frozenset({"orders"}),
    "order lines with returns": frozenset({"orders", "order_lines", "products", "returns"}),
}


@pytest.fixture(scope="module", params=sorted(SHOPS))
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from campaignflow.models import churn, value
    from jobs import train_churn

    root = tmp_path_factory.mktemp("shop")
    settings = Settings.under(root, churn_horizon_days=HORIZON)
    rt = Runtime.from_settings(settings)
    days = (date.fromisoformat(TRAIN_AT) - START).days + 1
    spec = ShopSpec(CUSTOMERS, days, START, seed=31, tables=SHOPS[request.param], return_rate=0.06)
    generate_raw(spec, rt.lake, LocalStore(root / "truth"))
    splits, plan = train_churn.training_splits(rt, TRAIN_AT)
    value_model = value.train(splits, HORIZON, 7, TRAIN_AT)
    baselines = churn.baseline_scores(splits)
    baselines["BG/NBD expected orders"] = value.churn_score_from_bgnbd(value_model, splits.test)
    model = churn.train_candidate("churn_lgbm", splits, 7, TRAIN_AT, baselines, HORIZON)
    return {"name": request.param, "rt": rt, "plan": plan, "splits": splits, "model": model}


def test_the_test_outcome_window_is_the_peak_and_training_is_older(shop: dict[str, Any]) -> None:
    plan = shop["plan"]
    assert plan.test == "2024-11-01" and black_friday(2024) > date.fromisoformat(plan.test)
    assert all(t < plan.valid < plan.test for t in plan.train)


def test_features_say_which_exports_the_shop_lacks(shop: dict[str, Any]) -> None:
    rt, plan = shop["rt"], shop["plan"]
    absent = rt.lake.manifest(datasets.CUSTOMER_FEATURES.at(plan.test))["meta"]["absent_tables"]
    expected = {"customers", "events"} | (
        {"order_lines", "products", "returns"} if shop["name"] == "orders only" else set()
    )
    assert set(absent) == expected
    if shop["name"] != "orders only":
        assert shop["splits"].test["returns_365d"].sum() > 100  # the returns reached the features


def test_beats_every_baseline_and_stays_calibrated_in_the_peak(shop: dict[str, Any]) -> None:
    m = shop["model"].metrics
    assert set(m["baselines_test_auc"]) == {
        "recency only",
        "frequency only",
        "RFM logistic regression",
        "BG/NBD expected orders",
    }
    for baseline, auc in m["baselines_test_auc"].items():
        assert m["test"]["auc"] > auc, (shop["name"], baseline, m["test"]["auc"], auc)
    assert m["test"]["ece"] <= 0.05, (shop["name"], m["test"])
