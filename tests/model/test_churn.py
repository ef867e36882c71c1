"""Behavioural tests of the churn model on a generated shop, scored against the latent truth."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from campaignflow.models import churn
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings
from tests.conftest import make_shop

pytestmark = [pytest.mark.spark, pytest.mark.slow]
HORIZON = 60
TRAIN_AT = "2024-05-29"  # day 150


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from jobs import load_history, train_churn

    root = tmp_path_factory.mktemp("churn")
    _, truth = make_shop(root, customers=2500, days=150, seed=21)
    settings = Settings(
        lake_uri=str(root / "lake"),
        landing_uri=str(root / "landing"),
        exports_uri=str(root / "exports"),
        churn_horizon_days=HORIZON,
    )
    rt = Runtime.from_settings(settings)
    load_history.run(rt, None, TRAIN_AT)
    training = train_churn.training_set(rt, TRAIN_AT)
    model = churn.train(training, seed=7, version=TRAIN_AT)
    return model, training, pd.read_parquet(Path(truth.uri) / "customers.parquet")


def test_beats_recency_alone_and_knows_the_truth(trained) -> None:  # type: ignore[no-untyped-def]
    model, training, truth = trained
    assert model.metrics["auc"] > 0.75
    assert model.metrics["auc"] > model.metrics["auc_recency_only"]
    # against the latent truth: did the customer really drop out before the horizon ended?
    t = date.fromisoformat(TRAIN_AT) - timedelta(days=HORIZON)
    joined = training.merge(truth, on="customer_id")
    dropped = pd.to_datetime(joined["dropout_date"]) <= pd.Timestamp(t + timedelta(days=HORIZON))
    assert roc_auc_score(dropped, model.predict(joined)) > 0.75


def test_directional_longer_absence_raises_risk(trained) -> None:  # type: ignore[no-untyped-def]
    model, training, _ = trained
    recent = training[training["recency_days"] <= 14].copy()
    quiet = [c for c in recent.columns if c.endswith(("_7d", "_30d"))]
    older = recent.assign(recency_days=recent["recency_days"] + 60, days_since_last_event=60, **dict.fromkeys(quiet, 0))
    assert model.predict(older).mean() > model.predict(recent).mean() + 0.1


def test_invariant_to_row_order_and_customer_ids(trained) -> None:  # type: ignore[no-untyped-def]
    model, training, _ = trained
    sample = training.head(200)
    shuffled = sample.sample(frac=1, random_state=3).assign(customer_id=lambda f: "X" + f["customer_id"])
    a = churn.score(model, sample).set_index("customer_id")["churn_prob"]
    b = churn.score(model, shuffled).set_index("customer_id")["churn_prob"]
    b.index = b.index.str[1:]
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index())


def test_training_is_deterministic(trained) -> None:  # type: ignore[no-untyped-def]
    model, training, _ = trained
    again = churn.train(training, seed=7, version=TRAIN_AT)
    assert again.booster.model_to_string() == model.booster.model_to_string()
    assert again.metrics == model.metrics


def test_scores_are_probabilities_with_bands(trained) -> None:  # type: ignore[no-untyped-def]
    model, training, _ = trained
    scores = churn.score(model, training)
    assert scores["churn_prob"].between(0, 1).all()
    high = scores["churn_band"] == "high"
    assert (scores.loc[high, "churn_prob"] >= 0.6).all() and (scores.loc[~high, "churn_prob"] < 0.6).all()
    assert np.isin(scores["churn_band"], ["low", "medium", "high"]).all()


def test_too_little_history_is_a_clear_error() -> None:
    tiny = pd.DataFrame({"customer_id": ["a", "b"], "churned": [0, 1]})
    with pytest.raises(churn.NotEnoughHistory, match="only 2 labelled customers"):
        churn.train(tiny, seed=7, version="x")


def test_validation_pictures_are_saved_with_the_model(trained, lake) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = trained
    png = model.pictures["churn_model.png"]
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    churn.save(lake, model, {})
    loaded = churn.load(lake, model.version)
    assert loaded.metrics == model.metrics
    assert lake.store.read_bytes(f"models/churn_lgbm/dt={model.version}/churn_model.png") == png
