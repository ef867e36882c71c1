"""Train churn: make sure a churn model trained on or before D exists; train one at D if not.

Training is point in time: features as of T = D - horizon, labels from orders in (T, D].
"""

from __future__ import annotations

import argparse
from typing import Any

from campaignflow.io import datasets
from campaignflow.jobcli import add_date_argument, job_main
from campaignflow.runtime import Runtime


def run(rt: Runtime, ds: str, force: bool = False) -> dict[str, Any]:
    from campaignflow.models import churn

    existing = churn.champion_version(rt.lake, ds)
    if existing and not force:
        model = churn.load(rt.lake, existing)
        return {"dt": ds, "model_version": existing, "trained": False, "metrics": model.metrics}
    training = training_set(rt, ds)
    model = churn.train(training, rt.settings.seed, version=ds)
    churn.save(
        rt.lake, model, {"horizon_days": rt.settings.churn_horizon_days, "features_as_of": training["as_of"].iloc[0]}
    )
    return {"dt": ds, "model_version": ds, "trained": True, "metrics": model.metrics}


def training_set(rt: Runtime, ds: str) -> Any:
    """Features as of T = D - H joined to the labels at T (both built if missing)."""
    from jobs import build_labels

    t = build_labels.label_date(rt, ds)
    label_ref = datasets.churn_labels(rt.settings.churn_horizon_days).at(t)
    if not rt.lake.is_committed(label_ref) or rt.lake.manifest(label_ref)["meta"].get("outcome_through") != ds:
        build_labels.run(rt, ds)
    labels = rt.lake.read_frame(label_ref)
    features = rt.lake.read_frame(datasets.CUSTOMER_FEATURES.at(t))
    return features.merge(labels[["customer_id", "churned"]], on="customer_id", how="inner")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_date_argument(parser)
    parser.add_argument("--force", action="store_true", help="train a new model at D even if one exists")


def run_args(args: argparse.Namespace) -> dict[str, Any]:
    return run(Runtime.from_settings(), args.date, force=args.force)


def main(argv: list[str] | None = None) -> int:
    return job_main(__doc__ or "", add_arguments, run_args, argv)


if __name__ == "__main__":
    raise SystemExit(main())
