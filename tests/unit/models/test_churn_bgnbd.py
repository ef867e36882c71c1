"""BG/NBD as a churn candidate: it ranks as the value model's BG/NBD does, survives the registry,
reads its own story better than the RFM rule, and serves as a baseline unless beaten beyond noise."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from campaignflow.io.lake import Lake
from campaignflow.models import churn, churn_bgnbd
from campaignflow.models.metrics import ranking_auc
from campaignflow.models.training_set import MODEL_COLUMNS, SnapshotPlan, Splits, split
from campaignflow.models.value import BgNbd, fit_bgnbd, rfm_inputs
from tests.unit.models.test_value import simulate_bgnbd

HORIZON = 60
TRUE = BgNbd(r=0.8, alpha=30.0, a=0.9, b=2.5)


def btyd_rows(n: int, snapshot: str, seed: int) -> pd.DataFrame:
    """Customers who buy and leave as BG/NBD says, as model rows: churned = no order in the horizon."""
    x, t_x, big_t, future = simulate_bgnbd(n, TRUE, HORIZON, seed)
    age = np.floor(big_t)
    data = {c: np.random.default_rng([seed, 1]).poisson(2.0, n).astype(float) for c in MODEL_COLUMNS}
    data |= {
        "orders_total": x + 1,
        "days_since_first_order": age,
        "recency_days": np.where(x > 0, np.floor(big_t - t_x), age),
        "monetary_total": 25.0 * (x + 1),
        "avg_order_value": np.full(n, 25.0),
    }
    ids = [f"{snapshot}-{i:05d}" for i in range(n)]
    return pd.DataFrame(data).assign(customer_id=ids, churned=(future == 0).astype(int), snapshot=snapshot)


@pytest.fixture(scope="module")
def btyd() -> tuple[Splits, dict[str, churn.ChurnModel]]:
    plan = SnapshotPlan(test="2024-03-01", valid="2024-02-02", train=("2024-01-05",))
    rows = pd.concat([btyd_rows(3000, d, seed) for seed, d in enumerate(plan.dates)], ignore_index=True)
    splits = split(rows, plan, 7)
    baselines = churn.baseline_scores(splits)
    names = ("churn_rfm", "churn_bgnbd", "churn_lgbm")
    return splits, {n: churn.train_candidate(n, splits, 7, "2024-03-29", baselines, HORIZON) for n in names}


def test_it_ranks_as_the_value_models_bgnbd_fitted_on_the_same_window(btyd) -> None:  # type: ignore[no-untyped-def]
    splits, models = btyd
    reference = fit_bgnbd(*rfm_inputs(splits.train)[:3])
    expected = reference.expected_orders(*rfm_inputs(splits.test)[:3], HORIZON)
    raw = models["churn_bgnbd"].raw(splits.test)
    np.testing.assert_allclose(raw, np.exp(-expected), rtol=1e-9)
    assert models["churn_bgnbd"].metrics["training"]["parameters"]["r"] == pytest.approx(reference.r, rel=1e-6)


def test_on_its_own_story_it_recovers_the_parameters_and_ranks_better_than_rfm(btyd) -> None:  # type: ignore[no-untyped-def]
    splits, models = btyd
    fitted = models["churn_bgnbd"].estimator.model
    assert fitted.r == pytest.approx(TRUE.r, rel=0.3) and fitted.alpha == pytest.approx(TRUE.alpha, rel=0.35)
    y = splits.test["churned"].to_numpy()
    bgnbd, rfm = (ranking_auc(y, models[n].predict(splits.test)) for n in ("churn_bgnbd", "churn_rfm"))
    assert bgnbd is not None and rfm is not None and bgnbd > rfm + 0.01


def test_the_gate_serves_it_where_it_reads_the_shop_best(btyd) -> None:  # type: ignore[no-untyped-def]
    """On its own story BG/NBD has the best test AUC, so it serves with no noise test (a simple rule);
    between the two simple rules alone, the higher test AUC serves."""
    splits, models = btyd
    served, why = churn.best_candidate(list(models.values()), splits)
    assert served is models["churn_bgnbd"] and why.startswith("churn_bgnbd@")
    assert churn.decide(list(models.values()), None, splits, margin=0.005).promote is served
    assert churn.best_candidate([models["churn_rfm"], models["churn_bgnbd"]], splits)[0] is served
    # a learned model judged better only within noise does not displace it
    twin = dataclasses.replace(models["churn_bgnbd"], name="churn_lgbm", version="twin")
    twin.metrics = {**twin.metrics, "test": {**twin.metrics["test"], "auc": twin.metrics["test"]["auc"] + 0.001}}
    served, why = churn.best_candidate([twin, *models.values()], splits)
    assert served is models["churn_bgnbd"] and "within noise" in why


def test_registry_round_trip_scores_the_same(btyd, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.io.storage import LocalStore

    splits, models = btyd
    lake = Lake(LocalStore(tmp_path / "lake"))
    model = models["churn_bgnbd"]
    churn.save(lake, model, {"horizon_days": HORIZON})
    loaded = churn.load(lake, churn_bgnbd.NAME, model.version)
    assert loaded.estimator.horizon_days == HORIZON
    np.testing.assert_array_equal(loaded.predict(splits.test), model.predict(splits.test))
    longer = dataclasses.replace(loaded.estimator, horizon_days=3 * HORIZON)
    x = splits.test[list(MODEL_COLUMNS)].astype("float64").to_numpy()
    assert (longer.raw(x) <= loaded.estimator.raw(x) + 1e-12).all()  # a longer horizon: more orders expected
