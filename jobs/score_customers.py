"""Score customers: churn probability and band for every customer as of D, with the champion model."""

from __future__ import annotations

from typing import Any

from campaignflow.errors import MissingPartition
from campaignflow.io import datasets
from campaignflow.jobcli import date_job
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str) -> dict[str, Any]:
    from campaignflow.models import churn

    version = churn.champion_version(rt.lake, ds)
    if version is None:
        raise MissingPartition(f"no churn model trained on or before {ds}", remedy=f"run train-churn --date {ds} first")
    model = churn.load(rt.lake, version)
    features = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(ds))
    scores = churn.score(model, features)
    rt.lake.write_frame(datasets.CUSTOMER_SCORES.at(ds), scores, {"model_version": version})
    return {
        "dt": ds,
        "customers": len(scores),
        "model_version": version,
        "bands": scores["churn_band"].value_counts().sort_index().to_dict(),
    }


add_arguments, run_args, main = date_job(run, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
