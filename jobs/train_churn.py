"""Train churn on a schedule: candidates on calendar snapshots, compared with the champion on one test window.

At D, when the newest model is ``CAMPAIGNFLOW_RETRAIN_DAYS`` old (or none exists, or ``--force``):

1. snapshots T_k = T_0 − k·step on the snapshot calendar (:mod:`campaignflow.models.training_set`):
   features as of each T and labels from (T, T+H] (both built if missing); test = newest, validation =
   next, train = rest;
2. an eligibility check (enough customers and both outcomes in every window) — a refusal keeps the
   current champion serving and says why; with no champion at all (a young shop) the refusal is
   committed and the task skipped, and the next date tries again;
3. each candidate (LightGBM, torch MLP) trained, calibrated and measured on the test window against
   recency, frequency, an RFM logistic regression and BG/NBD; all are registered
   (``models/<name>/dt=D``), with the value model (``models/value/dt=D``, learned vs BG/NBD);
4. the promotion gate: the best candidate (a learned one only when its gain over the RFM baseline is
   beyond noise) becomes champion from D on only if it beats the champion's AUC on the same test
   window by ``CAMPAIGNFLOW_PROMOTION_MARGIN``;
5. every candidate's calibration refitted on the test window, the newest outcome known at D.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pandas as pd

from campaignflow.errors import NoModelYet, NotEnoughHistory
from campaignflow.features.lineage import RawInputs, raw_inputs
from campaignflow.io import datasets
from campaignflow.jobcli import training_job
from campaignflow.runtime import Runtime

log = logging.getLogger(__name__)
MIN_HISTORY_DAYS = 28  # a snapshot needs this much order history before it


def run(rt: Runtime, ds: str, force: bool = False) -> dict[str, Any]:
    """Train if due (or forced) and commit the decision to ``monitoring/training_churn/dt=D``.

    Raises:
        NoModelYet: no model serves and the history is too short to train one (the refusal is
            committed first, so the date's scoring does not wait for a model that cannot come).
    """
    from campaignflow.models import registry

    result = registry.record_training_run(rt.lake, "churn", ds, train(rt, ds, force))
    if result["champion"] is None and "refused" in result:
        raise NoModelYet(f"no churn model at {ds} yet: {result['refused']}")
    return result


def train(rt: Runtime, ds: str, force: bool = False) -> dict[str, Any]:
    from campaignflow.models import churn, registry, value

    lake, s = rt.lake, rt.settings
    current, wait = registry.training_due(lake, ds, "churn", s.retrain_days, force)
    if wait:
        return {"dt": ds, "trained": False, "champion": current.label() if current else None, "why": wait}
    try:
        splits, plan = training_splits(rt, ds)
    except NotEnoughHistory as err:
        serving = current.label() if current else None
        log.warning("not training at %s: %s; %s", ds, err, f"{serving} keeps serving" if serving else "no model yet")
        return {"dt": ds, "trained": False, "champion": serving, "refused": str(err)}
    value_model = value.train(splits, s.churn_horizon_days, s.seed, ds)
    baselines = churn.baseline_scores(splits)
    baselines["BG/NBD expected orders"] = value.churn_score_from_bgnbd(value_model, splits.test)
    candidates = [
        churn.train_candidate(name, splits, s.seed, ds, baselines, s.churn_horizon_days) for name in s.churn_candidates
    ]
    champion_model = churn.load(lake, current.name, current.version) if current else None
    decision = churn.decide(candidates, champion_model, splits, s.promotion_margin)
    for model in candidates:
        churn.recalibrate(model, splits.test, plan.test)
    date_reference(rt, ds, candidates)
    meta = {"horizon_days": s.churn_horizon_days, "snapshots": plan.describe(), "decision": decision.reason}
    for model in candidates:
        churn.save(lake, model, meta)
    rows = sum(len(w) for w in (splits.train, splits.valid, splits.test))
    registry.save_version(lake, value.NAME, ds, value_model.to_files(), rows, {**meta, "metrics": value_model.metrics})
    if decision.promote is not None:
        current = registry.set_champion(lake, ds, decision.promote.name, ds, decision.reason)
    log.info("churn training at %s: %s", ds, decision.reason)
    assert current is not None
    backtest = record_backtest(rt, ds, plan.test)
    return {
        "backtest": backtest,
        "dt": ds,
        "trained": True,
        "champion": current.label(),
        "promoted": decision.promote is not None,
        "decision": decision.reason,
        "test_auc": decision.test_auc,
        "metrics": {m.name: m.metrics["test"] for m in candidates},
        "value": {"serving": value_model.serving, **value_model.metrics[f"test_{value_model.serving}"]},
    }


def date_reference(rt: Runtime, ds: str, candidates: list[Any]) -> None:
    """Each candidate's drift reference as of the training date (like with like; see models.drift),
    where the date's features are committed; else the training window's stays."""
    from campaignflow.models import drift
    from campaignflow.models.training_set import with_context

    ref = datasets.CUSTOMER_FEATURES.at(ds)
    if not rt.lake.is_committed(ref):
        return
    features = with_context(rt.lake.read_frame(ref), ds)
    for model in candidates:
        model.reference = drift.dated_reference(model.predict, features, model.features, ds) or model.reference


def record_backtest(rt: Runtime, ds: str, scored_on: str) -> dict[str, Any] | None:
    """Judge the scores published at T = D - H by the labels at T; keep the history with a chart."""
    from campaignflow.io.lake import frame_to_parquet
    from campaignflow.models.backtest import history_chart, judge

    scores_ref = datasets.CUSTOMER_SCORES.at(scored_on)
    labels_ref = datasets.churn_labels(rt.settings.churn_horizon_days).at(scored_on)
    if not (rt.lake.is_committed(scores_ref) and rt.lake.is_committed(labels_ref)):
        return None  # the pipeline did not publish scores that day
    result = judge(rt.lake.read_frame(scores_ref), rt.lake.read_frame(labels_ref))
    if result is None:
        return None
    row = pd.DataFrame([{"scored_on": scored_on, **result}])
    yesterday = (date.fromisoformat(ds) - timedelta(days=1)).isoformat()
    earlier = rt.lake.read_range(datasets.CHURN_BACKTEST, end=yesterday)
    history = row if earlier is None else pd.concat([earlier.drop(columns="dt"), row], ignore_index=True)
    files = {"part-00000.parquet": frame_to_parquet(row), "backtest_history.png": history_chart(history)}
    rt.lake.write_files(datasets.CHURN_BACKTEST.at(ds), files, 1, {"scored_on": scored_on, **result})
    log.info("backtest of the scores published %s: %s", scored_on, result)
    return {"scored_on": scored_on, **result}


def training_splits(rt: Runtime, ds: str) -> tuple[Any, Any]:
    """The snapshot plan at ``ds`` and its eligible train / validation / test windows.

    Raises:
        NotEnoughHistory: too little history for two snapshots, or a window too small or one-sided.
    """
    from campaignflow.models.training_set import check_eligible, plan_snapshots, split

    s = rt.settings
    orders = rt.lake.committed_dates(datasets.raw("orders"), end=ds)
    if not orders:
        raise NotEnoughHistory(f"no raw orders on or before {ds}")
    plan = plan_snapshots(ds, s.churn_horizon_days, s.snapshot_step_days, s.snapshot_count, orders[0], MIN_HISTORY_DAYS)
    inputs = raw_inputs(rt.lake, ds)  # every raw manifest once, for all the snapshots
    rows = pd.concat([snapshot(rt, t, inputs) for t in plan.dates], ignore_index=True)
    splits = split(rows, plan, s.seed)
    check_eligible(splits)
    log.info("training windows at %s: %s %s", ds, plan.describe(), splits.sizes())
    return splits, plan


def snapshot(rt: Runtime, t: str, inputs: RawInputs | None = None) -> pd.DataFrame:
    """Features as of T (with its season) joined to the labels at T, both built when missing."""
    from campaignflow.models.training_set import with_context
    from jobs import build_features, build_labels

    horizon = rt.settings.churn_horizon_days
    outcome_through = (date.fromisoformat(t) + timedelta(days=horizon)).isoformat()
    label_ref = datasets.churn_labels(horizon).at(t)
    if not rt.lake.is_committed(datasets.CUSTOMER_FEATURES.at(t)):
        build_features.run(rt, t, inputs)
    if not rt.lake.is_committed(label_ref) or rt.lake.manifest(label_ref)["meta"].get("outcome_through") != (
        outcome_through
    ):
        build_labels.run(rt, outcome_through, inputs)
    labels = rt.lake.read_frame(label_ref)
    features = with_context(rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(t)), t)
    rows = features.merge(labels[["customer_id", "churned", "future_orders", "future_value"]], on="customer_id")
    return rows.assign(snapshot=t)


add_arguments, run_args, main = training_job(run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
