"""Behavioural tests of the churn candidates on a generated shop, scored against the latent truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from campaignflow.models import churn
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings
from campaignflow.synthetic.truth import true_churn_probability
from tests.conftest import make_shop

pytestmark = [pytest.mark.spark]
HORIZON = 60
TRAIN_AT = "2024-08-27"  # day 239: D - H is day 179; calendar snapshots every 28 days from day 169 (test), 141, …


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from jobs import load_history, train_churn

    root = tmp_path_factory.mktemp("churn")
    _, truth = make_shop(root, customers=2500, days=240, seed=21)
    settings = Settings.under(root, churn_horizon_days=HORIZON)
    rt = Runtime.from_settings(settings)
    load_history.run(rt, None, TRAIN_AT)
    splits, plan = train_churn.training_splits(rt, TRAIN_AT)
    baselines = churn.baseline_scores(splits)
    models = {
        name: churn.train_candidate(name, splits, 7, TRAIN_AT, baselines, HORIZON)
        for name in ("churn_lgbm", "churn_torch")
    }
    return models, splits, plan, pd.read_parquet(Path(truth.uri) / "customers.parquet")


def _oracle_auc(splits, plan, truth: pd.DataFrame) -> float:  # type: ignore[no-untyped-def]
    p = true_churn_probability(truth, date.fromisoformat(plan.test), HORIZON)
    return float(roc_auc_score(splits.test["churned"], p.reindex(splits.test["customer_id"]).to_numpy()))


def test_windows_are_calendar_snapshots_in_time_order(trained) -> None:  # type: ignore[no-untyped-def]
    _, splits, plan, _ = trained
    assert (plan.test, plan.valid) == ("2024-06-18", "2024-05-21")
    assert plan.train == ("2024-04-23", "2024-03-26", "2024-02-27", "2024-01-30")
    assert set(splits.test["snapshot"]) == {plan.test} and set(splits.train["snapshot"]) == set(plan.train)


def test_lightgbm_reaches_the_oracle_and_beats_every_baseline(trained) -> None:  # type: ignore[no-untyped-def]
    models, splits, plan, truth = trained
    m = models["churn_lgbm"].metrics
    oracle = _oracle_auc(splits, plan, truth)
    # the oracle knows each customer's latent drop-out day; behaviour only hints at it
    assert m["test"]["auc"] >= 0.85 * oracle, (m["test"]["auc"], oracle)
    for baseline, auc in m["baselines_test_auc"].items():
        assert m["test"]["auc"] > auc, baseline
    assert m["test"]["ece"] <= 0.05  # a 1.6 k-customer window; the README reports larger shops
    assert m["test"]["ece"] <= m["test_uncalibrated"]["ece"] + 0.01
    assert m["training"]["best_iteration"] < 1000  # early stopping stopped it


def test_torch_challenger_trains_on_cpu_and_learns(trained, caplog) -> None:  # type: ignore[no-untyped-def]
    models, splits, plan, truth = trained
    m = models["churn_torch"].metrics
    assert m["training"]["device"] == "cpu"
    assert m["test"]["auc"] > m["baselines_test_auc"]["frequency only"]
    assert m["test"]["auc"] >= 0.9 * _oracle_auc(splits, plan, truth)
    assert m["test"]["ece"] <= 0.06


def test_directional_longer_absence_raises_risk(trained) -> None:  # type: ignore[no-untyped-def]
    models, splits, _, _ = trained
    for model in models.values():
        recent = splits.test[splits.test["recency_days"] <= 14].copy()
        quiet = [c for c in recent.columns if c.endswith(("_7d", "_30d"))]
        older = recent.assign(
            recency_days=recent["recency_days"] + 60, days_since_last_event=60, **dict.fromkeys(quiet, 0)
        )
        assert model.predict(older).mean() > model.predict(recent).mean() + 0.1, model.name


def test_invariant_to_row_order_and_customer_ids(trained) -> None:  # type: ignore[no-untyped-def]
    models, splits, _, _ = trained
    model = models["churn_lgbm"]
    sample = splits.test.head(200)
    shuffled = sample.sample(frac=1, random_state=3).assign(customer_id=lambda f: "X" + f["customer_id"])
    a = churn.score(model, sample).set_index("customer_id")["churn_prob"]
    b = churn.score(model, shuffled).set_index("customer_id")["churn_prob"]
    b.index = b.index.str[1:]
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index())


def test_training_is_deterministic(trained) -> None:  # type: ignore[no-untyped-def]
    models, splits, _, _ = trained
    baselines = churn.baseline_scores(splits)
    for name, model in models.items():
        again = churn.train_candidate(name, splits, 7, TRAIN_AT, baselines, HORIZON)
        assert np.array_equal(again.predict(splits.test), model.predict(splits.test)), name
        assert again.metrics == model.metrics


def test_reasons_name_what_drives_risk(trained) -> None:  # type: ignore[no-untyped-def]
    models, splits, _, _ = trained
    lgbm = models["churn_lgbm"]
    scores = churn.score(lgbm, splits.test, explainer=lgbm)
    high = scores[scores["churn_band"] == "high"]
    assert len(high) > 50 and high["reason_1"].notna().all()
    # a long absence is among the top reasons of most high-risk customers
    top3 = high[["reason_1", "reason_2", "reason_3"]].fillna("")
    assert top3.apply(lambda r: any(x.startswith(("no order in", "no activity in")) for x in r), axis=1).mean() > 0.5


def test_reasons_only_where_a_risk_has_causes(trained) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.models.reasons import REASON_COLUMNS, top_reasons
    from campaignflow.models.training_set import matrix

    models, splits, _, _ = trained
    lgbm = models["churn_lgbm"]
    frame = splits.test.reset_index(drop=True)
    frame.loc[frame.index % 5 == 0, "orders_total"] = 0  # outside the model's population: never ordered
    scores = churn.score(lgbm, frame, explainer=lgbm).set_index("customer_id").loc[frame["customer_id"]]
    everyone = top_reasons(lgbm.estimator.contributions(matrix(frame, lgbm.features)), frame, lgbm.features)
    wanted = (frame["orders_total"] > 0).to_numpy() & (scores["churn_band"] != "low").to_numpy()
    assert wanted.sum() > 50 and (~wanted).sum() > 50
    got = scores[REASON_COLUMNS].reset_index(drop=True)
    # the same reasons as explaining every row, where they are given; none elsewhere
    pd.testing.assert_frame_equal(got[wanted], everyone[wanted].astype(object), check_dtype=False)
    assert got[~wanted].isna().all().all()
    assert got.loc[wanted, "reason_1"].notna().mean() > 0.9


def test_pictures_are_saved_with_the_model(trained, lake) -> None:  # type: ignore[no-untyped-def]
    models, _, _, _ = trained
    model = models["churn_lgbm"]
    png = model.pictures["churn_model.png"]
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    churn.save(lake, model, {})
    assert lake.store.read_bytes(f"models/churn_lgbm/dt={model.version}/churn_model.png") == png


@pytest.mark.gpu
def test_torch_trains_on_cuda_when_present(trained) -> None:  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device visible")
    from campaignflow.models import churn_torch
    from campaignflow.models.training_set import MODEL_COLUMNS, matrix

    models, splits, _, _ = trained
    x = {k: matrix(getattr(splits, k), list(MODEL_COLUMNS)) for k in ("train", "valid", "test")}
    est, info = churn_torch.fit(
        x["train"],
        splits.train["churned"].to_numpy(),
        x["valid"],
        splits.valid["churned"].to_numpy(),
        7,
        horizon_days=HORIZON,
    )
    assert info["device"] == "cuda" and info["batch_size"] == churn_torch.CUDA_BATCH
    auc = roc_auc_score(splits.test["churned"], est.raw(x["test"]))
    assert auc > models["churn_torch"].metrics["test"]["auc"] - 0.03


def test_the_rfm_baseline_is_a_serving_candidate_that_scores_as_the_baseline(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """churn_rfm fitted as a candidate ranks the test window exactly as the RFM baseline does, and survives
    its registry round trip; so a shop whose models lose to it is served by it."""
    from campaignflow.io.lake import Lake
    from campaignflow.io.storage import LocalStore

    _, splits, _, _ = trained
    baselines = churn.baseline_scores(splits)
    rfm = churn.train_candidate("churn_rfm", splits, 7, TRAIN_AT, baselines, HORIZON)
    baseline_auc = rfm.metrics["baselines_test_auc"]["RFM logistic regression"]
    raw_auc = roc_auc_score(splits.test["churned"], rfm.raw(splits.test))
    assert raw_auc == pytest.approx(baseline_auc, abs=1e-4) and 0.6 < baseline_auc < 1.0
    lake = Lake(LocalStore(tmp_path / "lake"))
    churn.save(lake, rfm, {})
    loaded = churn.load(lake, "churn_rfm", TRAIN_AT)
    np.testing.assert_allclose(loaded.predict(splits.test), rfm.predict(splits.test))
