"""An uplift model (T-learner) from a measured campaign: who gains most from being contacted.

Two gradient-boosted classifiers are fitted on a past campaign's members: one on the treatment
group, one on the control group, each predicting conversion in the response window from the
features as of the audience date. A customer's expected uplift is the difference of the two; the
control model alone is the "would have bought anyway" probability a churn ranking approximates.
Ranking by uplift × value targets the persuadable instead of the already-lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "deterministic": True,
    "force_col_wise": True,
    "verbose": -1,
}


@dataclass
class TLearner:
    columns: list[str]
    treated: object  # lightgbm.Booster
    control: object

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """Per customer: ``p_treated``, ``p_control`` and ``uplift`` (their difference)."""
        x = features[self.columns].to_numpy(dtype=float)
        p_t = self.treated.predict(x)  # type: ignore[attr-defined]
        p_c = self.control.predict(x)  # type: ignore[attr-defined]
        return pd.DataFrame({"p_treated": p_t, "p_control": p_c, "uplift": p_t - p_c}, index=features.index)


def fit_t_learner(
    features: pd.DataFrame, treated: np.ndarray, converted: np.ndarray, seed: int = 7, rounds: int = 200
) -> TLearner:
    """Fit the two outcome models.

    Args:
        features: numeric feature columns per member, as of the audience date.
        treated: True for treatment-group members, False for control.
        converted: the outcome in the response window.
        seed: LightGBM's seed.
        rounds: boosting rounds per model.
    """
    import lightgbm as lgb

    from campaignflow.models.churn_lgbm import threads

    columns = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
    x = features[columns].to_numpy(dtype=float)
    params = {**_PARAMS, "seed": seed, "num_threads": threads()}
    models = []
    for group in (True, False):
        mask = np.asarray(treated) == group
        data = lgb.Dataset(x[mask], label=np.asarray(converted)[mask].astype(float))
        models.append(lgb.train(params, data, num_boost_round=rounds))
    return TLearner(columns, models[0], models[1])
