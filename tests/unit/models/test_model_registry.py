"""The registry: point-in-time champion, promotion gate, rollback, damaged files, schema checks."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest

from campaignflow.errors import ConfigError, CorruptModel, MissingPartition, ModelMismatch, NoModelYet, NotEnoughHistory
from campaignflow.io import datasets
from campaignflow.io.lake import Dataset, Lake
from campaignflow.models import churn, registry
from campaignflow.models.metrics import evaluate
from tests.unit.models.synthetic_rows import synthetic_splits


@pytest.fixture(scope="module")
def trained() -> tuple[object, list[churn.ChurnModel]]:
    splits = synthetic_splits(1200, seed=3)
    baselines = churn.baseline_scores(splits)
    return splits, [churn.train_candidate(n, splits, 7, "2024-03-29", baselines, 30) for n in registry.CANDIDATES]


def test_every_registered_candidate_has_an_estimator() -> None:
    from campaignflow.recommend import bpr, serving

    assert set(churn.ESTIMATORS) == set(registry.CANDIDATES)
    assert registry.RECOMMENDER_CANDIDATES == (bpr.NAME, serving.BASELINE_NAME)


def _register(lake: Lake, name: str, version: str) -> None:
    lake.write_files(datasets.model(name).at(version), {"model.txt": b"m"}, rows=1)


def test_champion_is_the_newest_pointer_on_or_before_the_date(lake: Lake) -> None:
    for version in ("2024-03-01", "2024-05-01"):
        _register(lake, "churn_lgbm", version)
        registry.set_champion(lake, version, "churn_lgbm", version, "test")
    lake.store.write_bytes("registry/churn_champion/dt=2024-04-01/champion.json", b"{}")  # uncommitted
    assert registry.champion(lake, "2024-02-28") is None
    assert registry.champion(lake, "2024-04-15").version == "2024-03-01"  # type: ignore[union-attr]
    assert registry.champion(lake, "2024-06-01").version == "2024-05-01"  # type: ignore[union-attr]
    assert registry.last_training(lake, "2024-04-30") == "2024-03-01"


def test_a_model_cannot_serve_before_it_was_trained(lake: Lake) -> None:
    _register(lake, "churn_lgbm", "2024-05-01")
    with pytest.raises(ConfigError, match="trained after 2024-04-01"):
        registry.set_champion(lake, "2024-04-01", "churn_lgbm", "2024-05-01", "manual")
    with pytest.raises(ConfigError, match="no model churn_torch@2024-03-01"):
        registry.set_champion(lake, "2024-04-01", "churn_torch", "2024-03-01", "manual")


def test_rollback_walks_back_one_promotion_at_a_time(lake: Lake) -> None:
    for v in ("2024-01-01", "2024-02-01", "2024-03-01"):
        _register(lake, "churn_lgbm", v)
        registry.set_champion(lake, v, "churn_lgbm", v, "promoted")
    first = registry.rollback(lake, "2024-03-10")
    assert (first.version, first.since, first.origin) == ("2024-02-01", "2024-03-10", "2024-02-01")
    second = registry.rollback(lake, "2024-03-10")
    assert second.version == "2024-01-01"
    with pytest.raises(ConfigError, match="is the first champion"):
        registry.rollback(lake, "2024-03-10")
    assert registry.champion(lake, "2024-03-05").version == "2024-03-01"  # type: ignore[union-attr]  # history kept
    assert [c.version for c in registry.history(lake)][-1] == "2024-01-01"


def test_a_worse_challenger_is_never_promoted(trained) -> None:  # type: ignore[no-untyped-def]
    splits, models = trained
    good = max(models, key=lambda m: m.metrics["test"]["auc"])
    noise = churn.ChurnModel("churn_lgbm", "2024-04-26", _Noise(), good.features, good.calibrator, {"test": {}})
    noise.metrics["test"] = {"auc": 0.5, "log_loss": 0.7}
    kept = churn.decide([noise], good, splits, margin=0.005)
    assert kept.promote is None and "kept" in kept.reason
    # the same model cannot displace itself either: beating by the margin is required
    assert churn.decide([good], good, splits, margin=0.005).promote is None
    assert churn.decide([good], noise, splits, margin=0.005).promote is good
    assert churn.decide([good], None, splits, margin=0.005).promote is good


def test_the_champions_own_model_retrained_replaces_it_unless_worse_beyond_noise(trained) -> None:  # type: ignore[no-untyped-def]
    splits, models = trained
    fresh = next(m for m in models if m.name == "churn_rfm")
    stale = dataclasses.replace(fresh, version="2024-01-05")
    assert fresh.version > stale.version
    refreshed = churn.decide([fresh], stale, splits, margin=0.005)
    assert refreshed.promote is fresh and refreshed.reason.startswith("refreshed churn_rfm@2024-01-05")
    # a refit that differs from the champion by noise alone is fresher, so it serves
    jittered = dataclasses.replace(fresh, estimator=_Jitter(fresh.estimator))
    assert churn.decide([jittered], stale, splits, margin=0.005).promote is jittered
    worse = dataclasses.replace(fresh, estimator=_Noise())
    worse.metrics = {**fresh.metrics, "test": {"auc": 0.5, "log_loss": 0.7}}
    assert churn.decide([worse], stale, splits, margin=0.005).promote is None
    # an older fit of the champion's model is no refresh
    assert churn.decide([stale], fresh, splits, margin=0.005).promote is None


class _Jitter:
    """Another model's raw score with a small seeded jitter: a learned model no better than it."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def raw(self, x: np.ndarray) -> np.ndarray:
        return self.inner.raw(x) + np.random.default_rng(1).normal(scale=1e-3, size=len(x))  # type: ignore[attr-defined]


def _judged(model: churn.ChurnModel, test: pd.DataFrame) -> churn.ChurnModel:
    """``model`` with its test metrics measured on ``test``."""
    metrics = {**model.metrics, "test": evaluate(test["churned"].to_numpy(), model.predict(test))}
    return dataclasses.replace(model, metrics=metrics)


def test_a_learned_model_serves_only_beyond_noise_over_the_baseline(trained) -> None:  # type: ignore[no-untyped-def]
    splits, models = trained
    rfm, lgbm = (next(m for m in models if m.name == name) for name in ("churn_rfm", "churn_lgbm"))
    twin = dataclasses.replace(rfm, name="churn_lgbm", estimator=_Jitter(rfm.estimator))
    twin.metrics = {**rfm.metrics, "test": {**rfm.metrics["test"], "auc": rfm.metrics["test"]["auc"] + 0.001}}
    served, why = churn.best_candidate([twin, rfm], splits)
    assert served is rfm and "within noise" in why and twin.label in why
    assert churn.decide([twin, rfm], None, splits, margin=0.005).promote is rfm
    # on a window whose outcome LightGBM ranks perfectly, its gain is far beyond noise
    cut = np.median(lgbm.raw(splits.test))
    test = splits.test.assign(churned=(lgbm.raw(splits.test) > cut).astype(int))
    clear = dataclasses.replace(splits, test=test)
    candidates = [_judged(m, test) for m in (rfm, lgbm)]
    served, why = churn.best_candidate(candidates, clear)
    assert served.name == "churn_lgbm" and "gain over churn_rfm" in why
    assert churn.best_candidate([rfm], clear)[0] is rfm


class _Noise:
    def raw(self, x: np.ndarray) -> np.ndarray:
        return np.random.default_rng(0).random(len(x))


def test_save_load_round_trip_and_a_damaged_file_is_refused(trained, lake: Lake) -> None:  # type: ignore[no-untyped-def]
    splits, models = trained
    for model in models:
        churn.save(lake, model, {"horizon_days": 90})
        loaded = churn.load(lake, model.name, model.version)
        assert np.array_equal(loaded.predict(splits.test), model.predict(splits.test))
        assert loaded.metrics == model.metrics
    meta = lake.manifest(datasets.model("churn_lgbm").at("2024-03-29"))["meta"]
    assert meta["code_version"] and meta["horizon_days"] == 90
    key = "models/churn_torch/dt=2024-03-29/model.pt"
    lake.store.write_bytes(key, lake.store.read_bytes(key)[:100])  # truncated
    with pytest.raises(CorruptModel, match="checksum differs"):
        churn.load(lake, "churn_torch", "2024-03-29")
    assert churn.load(lake, "churn_lgbm", "2024-03-29").name == "churn_lgbm"  # the other model is untouched


def test_scoring_refuses_features_that_do_not_match(trained) -> None:  # type: ignore[no-untyped-def]
    splits, models = trained
    model = models[0]
    with pytest.raises(ModelMismatch, match="lack 1 column"):
        churn.score(model, splits.test.drop(columns=["recency_days"]))
    with pytest.raises(ModelMismatch, match="infinite values in \\['orders_30d'\\]"):
        churn.score(model, splits.test.assign(orders_30d=np.inf))
    with pytest.raises(ModelMismatch, match="only nulls in \\['email_clicks_30d'\\]"):
        churn.score(model, splits.test.assign(email_clicks_30d=np.nan))
    churn.score(model, splits.test.assign(extra_column=1.0))  # extra columns are ignored


def test_scores_carry_calibrated_probabilities_bands_and_reasons(trained) -> None:  # type: ignore[no-untyped-def]
    splits, models = trained
    lgbm = next(m for m in models if m.name == "churn_lgbm")
    scores = churn.score(lgbm, splits.test, explainer=lgbm)
    assert list(scores.columns) == ["customer_id", *churn.SCORE_COLUMNS]
    assert scores["churn_prob"].between(0, 1).all()
    high = scores["churn_band"] == "high"
    assert (scores.loc[high, "churn_prob"] >= 0.6).all() and (scores.loc[~high, "churn_prob"] < 0.6).all()
    risky = scores.sort_values("churn_prob").tail(50)
    assert risky["reason_1"].str.startswith("no order in").mean() > 0.5  # recency drives the synthetic churn


def test_listing_shows_versions_and_champions(trained, lake: Lake) -> None:  # type: ignore[no-untyped-def]
    _, models = trained
    for model in models:
        churn.save(lake, model, {"decision": "first"})
    registry.set_champion(lake, "2024-03-29", "churn_lgbm", "2024-03-29", "first champion")
    out = registry.listing(lake)
    assert {(v["model"], v["version"]) for v in out["versions"]} == {(n, "2024-03-29") for n in registry.CANDIDATES}
    assert out["champions"][0]["name"] == "churn_lgbm"


def test_training_without_history_fails_before_any_spark_work(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from campaignflow.runtime import Runtime
    from campaignflow.settings import Settings
    from jobs.train_churn import training_splits

    rt = Runtime.from_settings(Settings.under(tmp_path, churn_horizon_days=90))
    rt.lake.write_frame(datasets.raw("orders").at("2024-03-01"), pd.DataFrame({"customer_id": ["a"]}))
    with pytest.raises(NotEnoughHistory, match="needs two snapshots"):
        training_splits(rt, "2024-03-01")
    assert not rt.lake.committed_dates(Dataset("features", "customer"))


def test_a_young_shop_commits_the_refusal_and_skips_training_and_scoring(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """No model and too little history: the refusal is the date's decision (what waits for it stops
    waiting), the step is skipped with the reason, and scoring the date is skipped for it too."""
    from campaignflow.orchestration.waits import models_settled
    from campaignflow.reporting import expected_outputs
    from campaignflow.runtime import Runtime
    from campaignflow.settings import Settings
    from jobs import score_customers, train_churn

    rt = Runtime.from_settings(Settings.under(tmp_path, churn_horizon_days=90))
    rt.lake.write_frame(datasets.raw("orders").at("2024-03-01"), pd.DataFrame({"customer_id": ["a"]}))
    assert registry.no_model_yet(rt.lake, "2024-03-01") is None
    stages = {e.stage for e in expected_outputs(rt, "2024-03-01")}
    assert "score_customers" in stages and "build_audiences[winback]" in stages
    with pytest.raises(NoModelYet, match=r"no churn model at 2024-03-01 yet: .*needs two snapshots") as err:
        train_churn.run(rt, "2024-03-01")
    assert "load-history" in err.value.remedy
    decision = registry.training_decision(rt.lake, "2024-03-01", "churn")
    assert decision is not None and decision["champion"] is None and "needs two snapshots" in decision["refused"]
    assert "needs two snapshots" in (registry.no_model_yet(rt.lake, "2024-03-01") or "")
    registry.record_training_run(rt.lake, "recommender", "2024-03-01", {"skipped": "no order lines"})
    assert models_settled("2024-03-01", rt)
    with pytest.raises(NoModelYet, match="needs two snapshots"):
        score_customers.run(rt, "2024-03-01")
    assert {e.stage for e in expected_outputs(rt, "2024-03-01")} == {
        "validate_raw",
        "build_features",
        "build_segments",
        "snapshot_contacts",
    }
    with pytest.raises(MissingPartition, match="no churn champion serves at 2024-03-02"):
        score_customers.run(rt, "2024-03-02")  # no refusal recorded: a step not run, not a young shop
    _register(rt.lake, "churn_lgbm", "2024-03-01")
    registry.set_champion(rt.lake, "2024-03-01", "churn_lgbm", "2024-03-01", "first")
    assert registry.no_model_yet(rt.lake, "2024-03-01") is None  # a model serves: nothing is skipped


def test_retraining_on_the_champions_own_date_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A forced retrain at D would overwrite the version serving from D: refused, nothing written."""
    from campaignflow.runtime import Runtime
    from campaignflow.settings import Settings
    from jobs import train_churn

    rt = Runtime.from_settings(Settings.under(tmp_path))
    _register(rt.lake, "churn_lgbm", "2024-03-01")
    registry.set_champion(rt.lake, "2024-03-01", "churn_lgbm", "2024-03-01", "first")
    before = rt.lake.manifest(datasets.model("churn_lgbm").at("2024-03-01"))
    with pytest.raises(ConfigError, match="would overwrite it"):
        train_churn.run(rt, "2024-03-01", force=True)
    assert rt.lake.manifest(datasets.model("churn_lgbm").at("2024-03-01")) == before


def test_a_re_run_keeps_the_date_s_training_record(lake: Lake) -> None:
    """Re-running a date that trained finds its model 0 days old; the record of why it was promoted stays."""
    trained = {"trained": True, "champion": "churn_lgbm@2024-03-01", "decision": "first champion", "test": {"auc": 0.8}}
    registry.record_training_run(lake, "churn", "2024-03-01", trained)
    again = registry.record_training_run(
        lake, "churn", "2024-03-01", {"trained": False, "why": "newest model is 0 day(s) old"}
    )
    assert again == trained == registry.training_decision(lake, "2024-03-01", "churn")
    retrained = {**trained, "decision": "forced", "test": {"auc": 0.81}}
    assert (
        registry.record_training_run(lake, "churn", "2024-03-01", retrained) == retrained
    )  # a real training replaces it
    assert registry.training_decision(lake, "2024-03-01", "churn") == retrained
    not_due = {"trained": False, "why": "newest model is 3 day(s) old"}
    assert registry.record_training_run(lake, "churn", "2024-03-04", not_due) == not_due  # nothing to keep: recorded


def test_recalibrate_matches_the_newest_window_and_keeps_the_judgement(trained) -> None:  # type: ignore[no-untyped-def]
    splits, models = trained
    model = copy.deepcopy(next(m for m in models if m.name == "churn_lgbm"))
    judged = copy.deepcopy(model.metrics["test"])
    rng = np.random.default_rng(5)  # the newest window's base rate moved: a third of the retained churned
    newest = splits.test.assign(churned=np.where(rng.random(len(splits.test)) < 0.33, 1, splits.test["churned"]))
    before = model.predict(newest).mean()
    churn.recalibrate(model, newest, "2024-03-01")
    assert abs(model.predict(newest).mean() - newest["churned"].mean()) < 0.005 < abs(before - newest["churned"].mean())
    assert model.metrics["calibration"] == {"fitted_on": "2024-03-01", "method": "isotonic", "rows": len(newest)}
    assert model.metrics["test"] == judged  # the out-of-sample judgement is not rewritten
