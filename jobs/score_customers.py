"""Score customers as of D: calibrated churn probability, band, reasons, value, segment.

Churn comes from the champion serving at D; the reasons from the LightGBM version trained with it
(the champion itself when it is LightGBM), for customers with an order at medium or high risk (a
low risk has no causes to act on; TreeSHAP is most of scoring's cost); predicted orders, spend and
days to the next order from the newest value model trained on or before D; the RFM tier and
cluster from ``segments/customer``. Features that do not match the model's columns are refused with
the columns named. PSI of the model columns and the score against the training window (customers
with an order, the population the model is trained on) goes to ``monitoring/churn_drift``.
"""

from __future__ import annotations

from typing import Any

from campaignflow.errors import MissingPartition, NoModelYet
from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    from campaignflow.models import churn, churn_lgbm, registry
    from campaignflow.models.training_set import with_context

    pointer = registry.champion(rt.lake, ds)
    if pointer is None:
        if refused := registry.no_model_yet(rt.lake, ds):  # a young shop: nothing is wrong
            raise NoModelYet(f"no churn model at {ds} yet: {refused}")
        raise MissingPartition(f"no churn champion serves at {ds}", remedy=f"run train-churn --date {ds} first")
    model = churn.load(rt.lake, pointer.name, pointer.version)
    explainer = model if model.name == churn_lgbm.NAME else None
    if explainer is None and pointer.version in registry.versions(rt.lake, churn_lgbm.NAME):
        explainer = churn.load(rt.lake, churn_lgbm.NAME, pointer.version)
    ref = datasets.CUSTOMER_FEATURES.at(ds)
    if not rt.lake.is_committed(ref):
        raise MissingPartition(f"no features for {ds} in {rt.lake.uri}", remedy=f"run build-features --date {ds}")
    features = with_context(rt.lake.read_frame(ref), ds)
    scores = churn.score(model, features, explainer)
    scores = with_value_and_segments(rt, ds, features, scores)
    rt.lake.write_frame(datasets.CUSTOMER_SCORES.at(ds), scores, {"model": pointer.label(), "since": pointer.since})
    drifted = record_drift(rt, ds, model, features, scores)
    return {
        "dt": ds,
        "customers": len(scores),
        "model": pointer.label(),
        "bands": scores["churn_band"].value_counts().sort_index().to_dict(),
        "drifted": drifted,
    }


def with_value_and_segments(rt: Runtime, ds: str, features: Any, scores: Any) -> Any:
    """Scores plus the value model's predictions and the date's segments (null where absent)."""
    from campaignflow.models import value
    from campaignflow.models.churn import SEGMENT_SCORE_COLUMNS

    model = value.load(rt.lake, ds)
    if model is not None:
        predicted = model.predict(features).assign(customer_id=features["customer_id"].to_numpy())
        scores = scores.merge(predicted, on="customer_id", how="left")
    else:
        scores = scores.assign(**dict.fromkeys(value.VALUE_COLUMNS, float("nan")))
    segments_ref = datasets.CUSTOMER_SEGMENTS.at(ds)
    if rt.lake.is_committed(segments_ref):
        segments = rt.lake.read_frame(segments_ref, columns=["customer_id", *SEGMENT_SCORE_COLUMNS])
        scores = scores.merge(segments, on="customer_id", how="left")
    else:
        scores = scores.assign(rfm_tier=None, cluster=float("nan"))
    return scores.sort_values("customer_id", ignore_index=True)


def record_drift(rt: Runtime, ds: str, model: Any, features: Any, scores: Any) -> list[str]:
    """PSI of today's model columns and scores vs the model's training window; the flagged columns."""
    import logging

    from campaignflow.models import drift

    if model.reference is None:
        return []
    table = drift.population_report(model.reference, features, scores.set_index("customer_id")["churn_prob"], ds)
    if table is None:
        return []
    flagged = table.loc[table["flagged"], "column"].tolist()
    meta = {"model": model.label, "alert_psi": drift.PSI_ALERT, "flagged": flagged}
    rt.lake.write_frame(datasets.CHURN_DRIFT.at(ds), table, meta)
    if flagged:
        logging.getLogger(__name__).warning("drift at %s vs %s's training window: %s", ds, model.label, flagged)
    return flagged


add_arguments, run_args, main = date_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
