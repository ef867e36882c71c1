"""Train the product recommender on a schedule, judge it on a time split, promote it only if better.

At D, when the newest recommender is ``CAMPAIGNFLOW_RETRAIN_DAYS`` old (or none exists, or
``--force``): interactions from raw order lines and events (:mod:`campaignflow.recommend`), the
model trained on windows before T = D − H (H = ``CAMPAIGNFLOW_RECOMMEND_HORIZON_DAYS``) and judged
with the baselines (popularity, buy again, co-occurrence) on what customers bought in (T, D]. The
version is registered (``models/recommender_bpr/dt=D``, with metrics and the recall@k picture),
the evaluation kept (``monitoring/recommender_evaluation/dt=D``), and the best NDCG@10 on that
window serves (:func:`campaignflow.recommend.serving.choose`): the challenger when it beats the
learned champion by ``CAMPAIGNFLOW_PROMOTION_MARGIN`` and every baseline, else the champion, and a
baseline (registered as ``models/recommender_baseline/dt=D``) whenever it beats both.
A shop without order lines or a catalogue is skipped with the reason, never failed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd

from campaignflow.errors import NotEnoughHistory
from campaignflow.io import datasets
from campaignflow.jobcli import training_job
from campaignflow.runtime import Runtime

log = logging.getLogger(__name__)


def run(rt: Runtime, ds: str, force: bool = False) -> dict[str, Any]:
    """Train if due (or forced) and commit the decision to ``monitoring/training_recommender/dt=D``."""
    from campaignflow.models import registry

    return registry.record_training_run(rt.lake, "recommender", ds, train(rt, ds, force))


def train(rt: Runtime, ds: str, force: bool = False) -> dict[str, Any]:
    from campaignflow.models import registry
    from campaignflow.recommend import bpr, interactions, serving, training

    lake, s = rt.lake, rt.settings
    current, wait = registry.training_due(lake, ds, "recommender", s.retrain_days, force)
    if wait:
        return {"dt": ds, "trained": False, "champion": current.label() if current else None, "why": wait}
    span = interactions.WINDOW_DAYS + (training.WINDOWS + 1) * s.recommend_horizon_days
    activity = interactions.load_activity(lake, ds, span)
    # a serving baseline is not loaded: it is judged again among the baselines
    champion = load(rt, current.version) if current and current.name == bpr.NAME else None
    try:
        result = training.train_and_judge(activity, ds, s.recommend_horizon_days, s.seed, champion=champion)
    except NotEnoughHistory as err:
        log.warning("recommender not trained at %s: %s", ds, err)
        return {"dt": ds, "trained": False, "champion": current.label() if current else None, "skipped": str(err)}
    choice = serving.choose(result.metrics, current.label() if current else None, s.promotion_margin)
    reason = choice.reason
    files = {
        **result.model.to_files(),
        "metrics.json": json.dumps(result.metrics, indent=2, sort_keys=True).encode(),
        **result.pictures,
    }
    meta = {"horizon_days": s.recommend_horizon_days, "decision": reason, "notes": result.notes}
    rows = int(result.metrics["training"]["positives"])
    registry.save_version(lake, bpr.NAME, ds, files, rows, {**meta, "metrics": result.metrics})
    table = evaluation_table(result.metrics)
    lake.write_frame(datasets.RECOMMENDER_EVALUATION.at(ds), table, {"decision": reason})
    promote = choice.serving != "champion"
    if choice.baseline is not None:
        judged = {"test": result.metrics["baselines"][choice.baseline], "baselines": result.metrics["baselines"]}
        spec = json.dumps({"baseline": choice.baseline}).encode()
        registry.save_version(lake, serving.BASELINE_NAME, ds, {"baseline.json": spec}, 0, {**meta, "metrics": judged})
        current = registry.set_champion(lake, ds, serving.BASELINE_NAME, ds, reason)
    elif promote:
        current = registry.set_champion(lake, ds, bpr.NAME, ds, reason)
    log.info("recommender at %s: %s", ds, reason)
    return {
        "dt": ds,
        "trained": True,
        "promoted": promote,
        "decision": reason,
        "champion": current.label() if current else None,
        "test": {k: result.metrics["test"][k] for k in ("recall@10", "ndcg@10", "map@10", "coverage@10")},
        "baselines_ndcg@10": {k: v["ndcg@10"] for k, v in result.metrics["baselines"].items()},
        "notes": result.notes,
    }


def load(rt: Runtime, version: str) -> Any:
    """A registered recommender version (files checked against their checksums)."""
    from campaignflow.errors import CorruptModel
    from campaignflow.models import registry
    from campaignflow.recommend import bpr

    files, _ = registry.read_version(rt.lake, bpr.NAME, version)
    try:
        return bpr.BprRecommender.from_files(files)
    except Exception as err:  # a checksummed file that does not parse is a foreign or bad write
        raise CorruptModel(f"recommender {bpr.NAME}@{version} cannot be loaded: {type(err).__name__}: {err}") from err


def evaluation_table(metrics: dict[str, Any]) -> pd.DataFrame:
    """One row per recommender (model, champion, baselines) and metric."""
    rows = []
    named = {"model": metrics["test"], "champion": metrics.get("champion_test"), **metrics["baselines"]}
    for name, values in named.items():
        for metric, value in (values or {}).items():
            rows.append({"recommender": name, "metric": metric, "value": float(value)})
    return pd.DataFrame(rows)


add_arguments, run_args, main = training_job(run, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
