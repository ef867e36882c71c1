"""Sensors wait for committed partitions: each condition turns true only when its inputs are committed."""

from __future__ import annotations

import pandas as pd

from campaignflow.io import datasets
from campaignflow.models.registry import record_training_run
from campaignflow.orchestration import waits
from campaignflow.runtime import Runtime

D = "2024-04-07"


def test_features_built_needs_features_segments_and_contacts(runtime_env: Runtime) -> None:
    rt, frame = runtime_env, pd.DataFrame({"customer_id": ["c1"]})
    for dataset in waits.FEATURE_OUTPUTS:
        assert not waits.features_built(D, rt)
        rt.lake.write_frame(dataset.at(D), frame)
    assert waits.features_built(D, rt)
    assert not waits.features_built("2024-04-08", rt)


def test_models_settled_once_every_training_decided(runtime_env: Runtime) -> None:
    rt = runtime_env
    assert not waits.models_settled(D, rt)
    record_training_run(rt.lake, "churn", D, {"trained": False, "why": "newest model is 3 day(s) old"})
    assert not waits.models_settled(D, rt)
    record_training_run(rt.lake, "recommender", D, {"trained": False, "skipped": "no order lines"})
    assert waits.models_settled(D, rt)
    assert rt.lake.manifest(datasets.training_run("recommender").at(D))["meta"]["skipped"] == "no order lines"


def test_orders_validated(runtime_env: Runtime) -> None:
    rt = runtime_env
    assert not waits.orders_validated(D, rt)
    rt.lake.write_frame(datasets.raw("orders").at(D), pd.DataFrame({"order_id": ["o1"]}))
    assert waits.orders_validated(D, rt)
