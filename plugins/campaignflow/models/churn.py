"""Churn models: train the candidates, calibrate, compare with the champion, save, load, score.

Every candidate (LightGBM, torch MLP, and two baselines that serve when they are best: the RFM
logistic regression and BG/NBD) is fitted on the train window, early-stopped and calibrated
(isotonic, or Platt on a small window) on the validation window, and judged on the test window
against the same baselines (recency alone, frequency alone, an RFM logistic regression, BG/NBD).
Once judged, each candidate's serving map is refitted on the test window (:func:`recalibrate`).
A learned candidate serves only when its AUC gain over the baseline candidate on the test window is
beyond noise (:func:`best_candidate`), and a challenger replaces the champion only if its test AUC
beats the champion's on the *same* test window by the promotion margin; the champion's own model,
retrained, replaces it unless it is worse there beyond noise (:func:`decide`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from campaignflow.errors import CorruptModel, ModelMismatch
from campaignflow.io.lake import Lake
from campaignflow.models import churn_bgnbd, churn_lgbm, churn_rfm, churn_torch, drift, registry
from campaignflow.models.calibration import Calibrator, fit_calibrator
from campaignflow.models.metrics import evaluate, paired_auc_difference, ranking_auc
from campaignflow.models.plots import churn_model_plots
from campaignflow.models.reasons import REASON_COLUMNS, top_reasons
from campaignflow.models.training_set import MODEL_COLUMNS, Splits, in_population, matrix

log = logging.getLogger(__name__)

BANDS = ((0.3, "low"), (0.6, "medium"), (1.01, "high"))
SCORE_COLUMNS = {  # what score() writes, by the type campaign rules see
    "churn_prob": "number",
    "churn_band": "string",
    "model_name": "string",
    "model_version": "string",
    **dict.fromkeys(REASON_COLUMNS, "string"),
}
SEGMENT_SCORE_COLUMNS = {"rfm_tier": "string", "cluster": "number"}  # joined from segments/customer
# each: fit(x_train, y_train, x_valid, y_valid, seed, *, horizon_days) and Estimator (raw, to_files, from_files)
ESTIMATORS: dict[str, Any] = {m.NAME: m for m in (churn_lgbm, churn_torch, churn_rfm, churn_bgnbd)}


@dataclass
class ChurnModel:
    name: str
    version: str
    estimator: Any
    features: list[str]
    calibrator: Calibrator
    metrics: dict[str, Any]
    pictures: dict[str, bytes] = field(default_factory=dict)
    reference: dict[str, Any] | None = None  # training distributions, for drift (see models.drift)

    def raw(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.estimator.raw(matrix(frame, self.features)))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probability per row."""
        return np.asarray(self.calibrator(self.raw(frame)))

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


def baseline_scores(splits: Splits) -> dict[str, np.ndarray]:
    """Scores on the test window of the simple rules the models must beat."""
    rfm = list(churn_rfm.RFM)
    lr = churn_rfm.fit_rfm(
        splits.train[rfm].astype("float64").to_numpy(), splits.train["churned"].to_numpy(), [0, 1, 2]
    )
    test = splits.test
    return {
        "recency only": test["recency_days"].astype("float64").fillna(churn_rfm.NEVER).to_numpy(),
        "frequency only": -test["orders_total"].astype("float64").fillna(0).to_numpy(),
        "RFM logistic regression": lr.raw(test[rfm].astype("float64").to_numpy()),
    }


def train_candidate(
    name: str, splits: Splits, seed: int, version: str, baselines: dict[str, np.ndarray], horizon_days: int
) -> ChurnModel:
    """Fit one candidate, calibrate it on the validation window, measure it on the test window
    (``horizon_days``: the churn label's outcome window, which BG/NBD projects over)."""
    columns = list(MODEL_COLUMNS)
    x_train, y_train = matrix(splits.train, columns), splits.train["churned"].to_numpy()
    x_valid, y_valid = matrix(splits.valid, columns), splits.valid["churned"].to_numpy()
    x_test, y_test = matrix(splits.test, columns), splits.test["churned"].to_numpy()
    estimator, info = ESTIMATORS[name].fit(x_train, y_train, x_valid, y_valid, seed, horizon_days=horizon_days)
    calibrator = fit_calibrator(estimator.raw(x_valid), y_valid)
    raw_test = estimator.raw(x_test)
    p_test = calibrator(raw_test)
    uncalibrated = evaluate(y_test, raw_test)
    metrics = {
        "test": evaluate(y_test, p_test),
        "test_uncalibrated": {k: uncalibrated[k] for k in ("log_loss", "brier", "ece")},
        "valid": evaluate(y_valid, calibrator(estimator.raw(x_valid))),
        "baselines_test_auc": {k: ranking_auc(y_test, s) for k, s in baselines.items()},
        "windows": splits.sizes(),
        "training": info,
    }
    importance = estimator.importance(columns) if hasattr(estimator, "importance") else None
    if importance:
        metrics["top_features"] = dict(sorted(importance.items(), key=lambda kv: -kv[1])[:10])
    pictures = churn_model_plots(y_test, p_test, baselines, importance, title=f"{name} @ {version}")
    reference = drift.profile(splits.train, columns, p_test)
    log.info("trained %s@%s: test %s", name, version, metrics["test"])
    return ChurnModel(name, version, estimator, columns, calibrator, metrics, pictures, reference)


@dataclass(frozen=True)
class Decision:
    promote: ChurnModel | None
    reason: str
    test_auc: dict[str, float | None]


BASELINE_CANDIDATES = frozenset({churn_rfm.NAME, churn_bgnbd.NAME})  # simple rules: serve unless beaten beyond noise
BEYOND_NOISE_Z = 1.645  # one-sided 95 % on a paired AUC difference (DeLong): a gain or a loss beyond noise


def _paired_gain(y: np.ndarray, scores: np.ndarray, other: np.ndarray) -> tuple[float, float] | None:
    """AUC(scores) − AUC(other) on one window and its standard error (None: too few churners to tell)."""
    try:
        return paired_auc_difference(y, scores, other)
    except ValueError:
        return None


def best_candidate(candidates: list[ChurnModel], splits: Splits) -> tuple[ChurnModel, str]:
    """The candidate to serve and why: the best by test AUC, unless it is a learned model whose gain
    over the best baseline candidate on the test window is within noise; then the baseline serves.

    A few hundred churners leave a test AUC's error near 0.01: picking the highest number among
    close candidates picks noise, and the noise does not carry over to D."""
    ranked = sorted(candidates, key=lambda m: (m.metrics["test"]["auc"] or 0.0, -m.metrics["test"]["log_loss"]))
    best = ranked[-1]
    why = f"{best.label} (test AUC {best.metrics['test']['auc']})"
    simple = [m for m in ranked if m.name in BASELINE_CANDIDATES]
    if best.name in BASELINE_CANDIDATES or not simple:
        return best, why
    baseline = simple[-1]
    paired = _paired_gain(splits.test["churned"].to_numpy(), best.predict(splits.test), baseline.predict(splits.test))
    if paired is None:  # too few churners to tell: the simple rule serves
        return baseline, f"{baseline.label}: too few churners on the test window to tell {best.label} from it"
    gain, se = paired
    evidence = f"gain over {baseline.label} {gain:+.4f}, standard error {se:.4f}"
    if gain > 0 and gain >= BEYOND_NOISE_Z * se:  # a tie (identical rankings: no error) is no gain
        return best, f"{why}; {evidence}"
    return baseline, f"{baseline.label}: {best.label}'s {evidence}, within noise"


def decide(candidates: list[ChurnModel], champion: ChurnModel | None, splits: Splits, margin: float) -> Decision:
    """The promotion gate on the same test window: the candidate :func:`best_candidate` picks replaces
    the champion if it beats it by ``margin``; otherwise the newer fit of the champion's own model
    replaces it unless it is worse there beyond noise (the same model on fresher windows, with a
    fresher calibration: a champion kept because its refit never beats it by a margin serves a shop's
    base rate of months ago, while a refit worse beyond noise is not fresher, only worse)."""
    best, why = best_candidate(candidates, splits)
    aucs: dict[str, float | None] = {m.label: m.metrics["test"]["auc"] for m in candidates}
    best_auc = best.metrics["test"]["auc"] or 0.0
    if champion is None:
        return Decision(best, f"first champion: {why}", aucs)
    y = splits.test["churned"].to_numpy()
    try:
        champion_scores = champion.predict(splits.test)
        champion_auc = ranking_auc(y, champion_scores) or 0.0
    except (ModelMismatch, ValueError) as err:
        return Decision(best, f"champion {champion.label} cannot score the current features ({err}); {why}", aucs)
    aucs[f"champion {champion.label}"] = champion_auc
    if best_auc >= champion_auc + margin:
        return Decision(best, f"{why} beats champion {champion_auc} by >= {margin}", aucs)
    refresh = next((m for m in candidates if m.name == champion.name and m.version > champion.version), None)
    paired = _paired_gain(y, refresh.predict(splits.test), champion_scores) if refresh is not None else None
    if refresh is not None and (paired is None or paired[0] >= -BEYOND_NOISE_Z * paired[1]):
        evidence = "" if paired is None else f", AUC {paired[0]:+.4f} (standard error {paired[1]:.4f})"
        return Decision(
            refresh, f"refreshed {champion.label} with {refresh.label}{evidence}; best challenger {why}", aucs
        )
    return Decision(None, f"kept {champion.label} (test AUC {champion_auc}): best challenger {why}", aucs)


def recalibrate(model: ChurnModel, window: pd.DataFrame, fitted_on: str) -> None:
    """Refit ``model``'s serving map on ``window``, the newest labelled outcome at training time.

    Called once the candidates are judged: their test metrics stay those of the map fitted on the
    validation window (out of sample), while the map that serves comes one window closer to D, whose
    base rate it should match (a moving base rate is most of a real shop's calibration error).
    """
    model.calibrator = fit_calibrator(model.raw(window), window["churned"].to_numpy())
    model.metrics["calibration"] = {"fitted_on": fitted_on, "method": model.calibrator.method, "rows": len(window)}


def save(lake: Lake, model: ChurnModel, meta: dict[str, Any]) -> None:
    files = {
        **model.estimator.to_files(),
        "calibration.json": model.calibrator.to_json(),
        "features.json": json.dumps(
            {"columns": model.features, "schema_hash": registry.schema_hash(model.features)}
        ).encode(),
        "metrics.json": json.dumps(model.metrics, indent=2, sort_keys=True).encode(),
        **({"reference.json": drift.to_json(model.reference)} if model.reference else {}),
        **model.pictures,
    }
    rows = sum(w["rows"] for w in model.metrics["windows"].values())
    registry.save_version(lake, model.name, model.version, files, rows, {**meta, "metrics": model.metrics})


def load(lake: Lake, name: str, version: str) -> ChurnModel:
    """A registered version, its files checked; a damaged model is a clear error, never a guess."""
    files, meta = registry.read_version(lake, name, version)
    try:
        spec = json.loads(files["features.json"])
        estimator = ESTIMATORS[name].Estimator.from_files(files)
        calibrator = Calibrator.from_json(files["calibration.json"])
        reference = json.loads(files["reference.json"]) if "reference.json" in files else None
    except Exception as err:  # any parse failure of a checksummed file means a bad write or a foreign file
        raise CorruptModel(f"model {name}@{version} cannot be loaded: {type(err).__name__}: {err}") from err
    metrics = meta.get("metrics", {})
    return ChurnModel(name, version, estimator, list(spec["columns"]), calibrator, metrics, reference=reference)


def check_features(model: ChurnModel, frame: pd.DataFrame) -> None:
    """Refuse to score features the model was not trained on.

    Raises:
        ModelMismatch: naming the missing or all-null columns.
    """
    missing = [c for c in model.features if c not in frame.columns]
    if missing:
        raise ModelMismatch(f"features lack {len(missing)} column(s) model {model.label} was trained on: {missing[:8]}")
    numeric = frame[model.features].apply(pd.to_numeric, errors="coerce").astype("float64")
    if np.isinf(numeric.to_numpy()).any():
        bad = [c for c in model.features if np.isinf(numeric[c].to_numpy()).any()]
        raise ModelMismatch(f"features hold infinite values in {bad[:8]}: not scorable by {model.label}")
    if model.reference is not None and len(frame):
        # a column the model learned from (not always null in training) that is now entirely null
        trained_on = [c for c, ref in model.reference["columns"].items() if ref["shares"][-1] < 1.0]
        emptied = [c for c in trained_on if c in numeric and numeric[c].isna().all()]
        if emptied:
            raise ModelMismatch(
                f"features have only nulls in {emptied[:8]}, which {model.label} was trained on "
                "(did an export stop arriving?)"
            )


def score(model: ChurnModel, features: pd.DataFrame, explainer: ChurnModel | None = None) -> pd.DataFrame:
    """Calibrated churn probability, band and top reasons for every customer in ``features``.

    ``explainer`` is the LightGBM model whose SHAP contributions give the reasons (the champion
    itself when it is LightGBM); None leaves the reasons empty. Reasons are given where a risk has
    causes to name (:func:`explained`); elsewhere they are null.
    """
    check_features(model, features)
    prob = model.predict(features)
    bands = np.select([prob < cut for cut, _ in BANDS], [name for _, name in BANDS], default="high")
    out = pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "churn_prob": prob.round(6),
            "churn_band": bands,
            "model_name": model.name,
            "model_version": model.version,
        }
    )
    out = out.assign(**dict.fromkeys(REASON_COLUMNS, None))
    if explainer is not None:  # TreeSHAP is most of scoring's cost: only the rows whose reasons are read
        rows = np.flatnonzero(explained(features, bands))
        if len(rows):
            at_risk = features.iloc[rows].reset_index(drop=True)
            contrib = explainer.estimator.contributions(matrix(at_risk, explainer.features))
            reasons = top_reasons(contrib, at_risk, explainer.features)
            for column in REASON_COLUMNS:
                out.loc[rows, column] = reasons[column].to_numpy()
    return out.sort_values("customer_id", ignore_index=True)


def explained(features: pd.DataFrame, bands: np.ndarray) -> np.ndarray:
    """Rows whose churn score gets reasons: customers of the model's population (with an order;
    :func:`~campaignflow.models.training_set.in_population`) at medium or high risk. A low risk has
    no causes to act on, and a customer who never ordered cannot lapse from buying."""
    return np.asarray(in_population(features)) & (np.asarray(bands) != BANDS[0][1])
