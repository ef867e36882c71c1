"""Churn model: LightGBM on point-in-time features, its validation metrics, and scoring.

Models live in the lake as ``models/churn_lgbm/dt=D/`` (trained on data up to D). The model a
date D uses is the newest one trained on or before D, so re-running or backfilling a date never
uses a model that saw its future.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from campaignflow.errors import NotEnoughHistory
from campaignflow.features.catalogue import FEATURE_COLUMNS
from campaignflow.io import datasets
from campaignflow.io.lake import Lake
from campaignflow.models.plots import churn_model_plots
from campaignflow.splits import in_share

log = logging.getLogger(__name__)

BANDS = ((0.3, "low"), (0.6, "medium"), (1.01, "high"))
SCORE_COLUMNS = {"churn_prob": "number", "churn_band": "string", "model_version": "string"}  # what score() writes
MIN_TRAINING_ROWS = 50


@dataclass
class ChurnModel:
    version: str
    booster: Any
    features: list[str]
    metrics: dict[str, Any]
    pictures: dict[str, bytes] = field(default_factory=dict)  # validation plots, saved with the model

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster.predict(_matrix(frame, self.features), num_threads=1))


def train(training: pd.DataFrame, seed: int, version: str) -> ChurnModel:
    """Fit LightGBM on ``training`` (features + ``churned``) and measure it on a held-out split.

    Raises:
        NotEnoughHistory: too few labelled customers, or only one class.
    """
    import lightgbm as lgb
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    if len(training) < MIN_TRAINING_ROWS or training["churned"].nunique() < 2:
        raise NotEnoughHistory(
            f"only {len(training)} labelled customers ({training['churned'].sum()} churned): need at least "
            f"{MIN_TRAINING_ROWS} and both outcomes"
        )
    valid = in_share(f"churn-validation-{seed}", training["customer_id"], 0.2)
    x, y = _matrix(training, FEATURE_COLUMNS), training["churned"].to_numpy()
    params = {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": 2,
        "verbose": -1,
    }
    booster = lgb.train(params, lgb.Dataset(x[~valid], y[~valid]), num_boost_round=200)
    p = np.asarray(booster.predict(x[valid]))
    y_valid = y[valid]
    recency = training.loc[valid, "recency_days"].fillna(10_000).to_numpy()
    metrics = {
        "n_train": int((~valid).sum()),
        "n_valid": int(valid.sum()),
        "churn_rate": round(float(y.mean()), 4),
        "auc": round(float(roc_auc_score(y_valid, p)), 4) if len(set(y_valid)) > 1 else None,
        "auc_recency_only": round(float(roc_auc_score(y_valid, recency)), 4) if len(set(y_valid)) > 1 else None,
        "log_loss": round(float(log_loss(y_valid, p, labels=[0, 1])), 4),
        "brier": round(float(brier_score_loss(y_valid, p)), 4),
    }
    log.info("trained churn model %s: %s", version, metrics)
    pictures = churn_model_plots(y_valid, p, recency) if len(set(y_valid)) > 1 else {}
    return ChurnModel(version, booster, list(FEATURE_COLUMNS), metrics, pictures)


def save(lake: Lake, model: ChurnModel, meta: dict[str, Any]) -> dict[str, Any]:
    files = {
        "model.txt": model.booster.model_to_string().encode(),
        "metrics.json": json.dumps(model.metrics, indent=2, sort_keys=True).encode(),
        "features.json": json.dumps(model.features).encode(),
        **model.pictures,
    }
    return lake.write_files(
        datasets.CHURN_MODELS.at(model.version),
        files,
        model.metrics["n_train"] + model.metrics["n_valid"],
        {**meta, "metrics": model.metrics},
    )


def champion_version(lake: Lake, as_of: str) -> str | None:
    """Newest model trained on or before ``as_of``."""
    versions = lake.committed_dates(datasets.CHURN_MODELS, end=as_of)
    return versions[-1] if versions else None


def load(lake: Lake, version: str) -> ChurnModel:
    import lightgbm as lgb

    ref = datasets.CHURN_MODELS.at(version)
    manifest = lake.manifest(ref)
    booster = lgb.Booster(model_str=lake.store.read_bytes(f"{ref.key}/model.txt").decode())
    features = json.loads(lake.store.read_bytes(f"{ref.key}/features.json"))
    return ChurnModel(version, booster, features, manifest["meta"]["metrics"])


def score(model: ChurnModel, features: pd.DataFrame) -> pd.DataFrame:
    """Churn probability and band for every customer in ``features``."""
    prob = model.predict(features)
    bands = np.select([prob < cut for cut, _ in BANDS], [name for _, name in BANDS], default="high")
    return pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "churn_prob": prob.round(6),
            "churn_band": bands,
            "model_version": model.version,
        }
    ).sort_values("customer_id", ignore_index=True)


def _matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    return frame.reindex(columns=columns).astype("float64").to_numpy()
