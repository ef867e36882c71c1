"""Sensors wait for committed partitions: each condition turns true only when its inputs are committed;
a sensor checks once, otherwise defers to a trigger that polls in Airflow's triggerer and fires only then."""

from __future__ import annotations

import asyncio
import importlib
import time

import pandas as pd
import pytest
from airflow.sdk.exceptions import TaskDeferred
from airflow.triggers.base import TaskSuccessEvent
from hypothesis import given
from hypothesis import strategies as st

from campaignflow.io import datasets
from campaignflow.models.registry import record_training_run
from campaignflow.orchestration import waits
from campaignflow.orchestration.partition_sensor import (
    POLL_SHARE,
    SHORTEST_POLL_SECONDS,
    PartitionSensor,
    PartitionTrigger,
    poll_interval,
)
from campaignflow.runtime import Runtime

D = "2024-04-07"


def import_string(path: str) -> object:
    """The class a triggerer loads from a stored trigger's class path."""
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def test_features_built_needs_features_segments_and_contacts(runtime_env: Runtime) -> None:
    rt, frame = runtime_env, pd.DataFrame({"customer_id": ["c1"]})
    for dataset in (datasets.CUSTOMER_FEATURES, datasets.CUSTOMER_SEGMENTS, datasets.CONTACTS):
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


def test_trigger_polls_until_the_partition_is_committed(runtime_env: Runtime) -> None:
    rt, trigger = runtime_env, PartitionTrigger("orders_validated", D, poll_seconds=0.05)

    async def commit_while_polling() -> object:
        first = asyncio.ensure_future(anext(trigger.run()))
        await asyncio.sleep(0.5)
        assert not first.done()  # nothing committed: still polling
        rt.lake.write_frame(datasets.raw("orders").at(D), pd.DataFrame({"order_id": ["o1"]}))
        return await asyncio.wait_for(first, timeout=30)

    assert isinstance(asyncio.run(commit_while_polling()), TaskSuccessEvent)  # ends the task in the triggerer


@given(
    st.floats(0, 10 * 24 * 3600, allow_nan=False),
    st.floats(0, 10 * 24 * 3600, allow_nan=False),
    st.floats(0.01, 600, allow_nan=False),
)
def test_the_poll_lengthens_with_the_wait_up_to_the_longest(earlier: float, later: float, longest: float) -> None:
    earlier, later = sorted((earlier, later))
    assert poll_interval(earlier, longest) <= poll_interval(later, longest) <= longest
    assert poll_interval(later, longest) <= max(SHORTEST_POLL_SECONDS, POLL_SHARE * later)  # unseen ≤ 1 % of the wait
    assert poll_interval(later, longest) >= min(SHORTEST_POLL_SECONDS, longest)


def test_trigger_round_trips_through_its_serialized_form() -> None:
    path, kwargs = PartitionTrigger("features_built", D, poll_seconds=5.0, waiting_since=1.7e9).serialize()
    again = import_string(path)(**kwargs)  # what the triggerer does with the stored row
    assert (again.condition, again.partition_date, again.poll_seconds, again.waiting_since) == (
        "features_built",
        D,
        5.0,
        1.7e9,
    )


def test_a_resumed_trigger_keeps_the_pace_of_its_wait() -> None:
    """A trigger re-created from its row (another triggerer took it over) polls as slowly as the wait's
    length asks, not from the shortest poll again."""
    hour_ago = time.time() - 3600
    _, kwargs = PartitionTrigger("features_built", D, poll_seconds=30.0, waiting_since=hour_ago).serialize()
    resumed = PartitionTrigger(**kwargs)
    assert resumed.next_poll() == pytest.approx(poll_interval(3600, 30.0), abs=0.1) == 30.0
    fresh = PartitionTrigger("features_built", D, poll_seconds=30.0)
    assert fresh.next_poll() == SHORTEST_POLL_SECONDS


def test_sensor_checks_once_then_defers_to_the_trigger(runtime_env: Runtime) -> None:
    sensor = PartitionSensor(
        task_id="wait_for_orders", condition="orders_validated", poll_seconds=5, timeout_seconds=60
    )
    assert sensor.partition_date == "{{ ds }}" and "partition_date" in sensor.template_fields
    sensor.partition_date = D  # as Airflow renders it for the run
    with pytest.raises(TaskDeferred) as deferred:  # nothing committed: the triggerer polls
        sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, PartitionTrigger) and deferred.value.method_name == "execute_complete"
    kwargs = trigger.serialize()[1]
    assert {k: v for k, v in kwargs.items() if k != "waiting_since"} == {
        "condition": "orders_validated",
        "partition_date": D,
        "poll_seconds": 5,
    }
    assert time.time() - 60 < kwargs["waiting_since"] <= time.time()  # the wait began at the deferral
    assert deferred.value.timeout is not None and deferred.value.timeout.total_seconds() == 60
    runtime_env.lake.write_frame(datasets.raw("orders").at(D), pd.DataFrame({"order_id": ["o1"]}))
    assert sensor.execute({}) is None  # committed already (a backfill, a late run): done without the triggerer


def test_sensor_refuses_an_unknown_condition() -> None:
    with pytest.raises(ValueError, match="unknown wait condition 'orders_landed'"):
        PartitionSensor(task_id="wait", condition="orders_landed", poll_seconds=5, timeout_seconds=60)
