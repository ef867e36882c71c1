"""Waiting for a committed partition in Airflow's triggerer, not in a worker.

:class:`PartitionSensor` starts in the triggerer (``start_from_trigger``): the scheduler hands the
wait straight to :class:`PartitionTrigger`, which checks one condition of
:mod:`campaignflow.orchestration.waits` every few seconds (one or two object-store reads, off the
event loop) and ends the task itself when it holds. A wait therefore costs no worker process at
start or end, and a commit is seen within one poll. Where the task does reach a worker
(``dag.test``, ``campaignflow run``), ``execute`` checks once and defers to the same trigger.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.triggers.base import BaseTrigger, StartTriggerArgs, TaskSuccessEvent, TriggerEvent

if TYPE_CHECKING:
    from campaignflow.runtime import Runtime

TRIGGER_PATH = "campaignflow.orchestration.partition_sensor.PartitionTrigger"


def check(condition: str, partition_date: str, rt: Runtime | None = None) -> bool:
    """Whether ``condition`` (a name in :data:`campaignflow.orchestration.waits.CONDITIONS`) holds for
    the date (``rt``: the storage to read; None: built from the environment and connections)."""
    from campaignflow.orchestration.waits import CONDITIONS

    return CONDITIONS[condition](partition_date, rt)


class PartitionTrigger(BaseTrigger):
    """Polls one wait condition for one date; fires a task-success event when it holds."""

    def __init__(self, condition: str, partition_date: str, poll_seconds: float) -> None:
        super().__init__()
        self.condition = condition
        self.partition_date = partition_date
        self.poll_seconds = poll_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {"condition": self.condition, "partition_date": self.partition_date, "poll_seconds": self.poll_seconds}
        return TRIGGER_PATH, kwargs

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from asgiref.sync import sync_to_async

        from campaignflow.orchestration.tasks import connected_runtime

        # connections and object-store reads are blocking calls; the connections are read once
        rt = await sync_to_async(connected_runtime)()
        holds = sync_to_async(check)
        while not await holds(self.condition, self.partition_date, rt):
            await asyncio.sleep(self.poll_seconds)
        self.log.info("%s holds for %s", self.condition, self.partition_date)
        yield TaskSuccessEvent()


class PartitionSensor(BaseSensorOperator):
    """Waits until ``condition`` holds for the run's logical date (``{{ ds }}``), in the triggerer.

    Args:
        condition: a name in :data:`campaignflow.orchestration.waits.CONDITIONS`.
        poll_seconds: how often the trigger checks (a commit goes unseen at most this long).
        timeout_seconds: how long to wait before the task fails.
    """

    template_fields = ("partition_date",)
    ui_color = "#e6f1f2"
    start_from_trigger = True

    def __init__(self, *, condition: str, poll_seconds: float, timeout_seconds: float, **kwargs: Any) -> None:
        super().__init__(poke_interval=poll_seconds, timeout=timeout_seconds, **kwargs)
        from campaignflow.orchestration.waits import CONDITIONS

        if condition not in CONDITIONS:
            raise ValueError(f"{self.task_id}: unknown wait condition {condition!r} (one of {sorted(CONDITIONS)})")
        self.condition = condition
        self.partition_date = "{{ ds }}"
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=TRIGGER_PATH,
            trigger_kwargs={"condition": condition, "partition_date": "{{ ds }}", "poll_seconds": poll_seconds},
            next_method="execute_complete",
            next_kwargs=None,
            timeout=timedelta(seconds=timeout_seconds),
        )

    def poke(self, context: Any) -> bool:
        return check(self.condition, self.partition_date)

    def execute(self, context: Any) -> None:
        if not self.poke(context):
            trigger = PartitionTrigger(self.condition, self.partition_date, self.poke_interval)
            self.defer(trigger=trigger, method_name="execute_complete", timeout=timedelta(seconds=self.timeout))

    def execute_complete(self, context: Any, event: Any = None) -> None:
        """The trigger saw the condition hold (reached only where the task resumes on a worker)."""
