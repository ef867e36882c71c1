"""Waiting for a committed partition: one check in a worker, then in Airflow's triggerer.

:class:`PartitionSensor` checks its condition (one of :mod:`campaignflow.orchestration.waits`: one
or two object-store reads) once where it starts and succeeds at once when it holds, as it does in
backfills and late runs. Otherwise it defers to :class:`PartitionTrigger`, which checks in the
triggerer (off the event loop) and ends the task itself when it holds: the wait holds no worker slot
and needs no worker process to end. The poll lengthens with the wait (:func:`poll_interval`), so a
commit goes unseen about 1 % of the time already waited: a fraction of a second inside a run, at
most the longest poll for an export that arrives hours later. The wait's start travels with the
trigger, so a trigger resumed by another triggerer (a restart, a failover) keeps its pace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent

if TYPE_CHECKING:
    from campaignflow.runtime import Runtime

TRIGGER_PATH = "campaignflow.orchestration.partition_sensor.PartitionTrigger"
SHORTEST_POLL_SECONDS = 0.2
POLL_SHARE = 0.01  # of the time waited so far


def poll_interval(waited_seconds: float, longest_seconds: float) -> float:
    """Seconds to the next check of a wait that has lasted ``waited_seconds``: 1 % of that, at least
    0.2 s and at most ``longest_seconds``."""
    return min(longest_seconds, max(SHORTEST_POLL_SECONDS, POLL_SHARE * waited_seconds))


def check(condition: str, partition_date: str, rt: Runtime | None = None) -> bool:
    """Whether ``condition`` (a name in :data:`campaignflow.orchestration.waits.CONDITIONS`) holds for
    the date (``rt``: the storage to read; None: built from the environment and connections)."""
    from campaignflow.orchestration.waits import CONDITIONS

    return CONDITIONS[condition](partition_date, rt)


class PartitionTrigger(BaseTrigger):
    """Polls one wait condition for one date; fires a task-success event when it holds.

    ``poll_seconds`` is the longest poll (:func:`poll_interval`); ``waiting_since`` (epoch seconds,
    default now) when the wait began, which paces the poll."""

    def __init__(
        self, condition: str, partition_date: str, poll_seconds: float, waiting_since: float | None = None
    ) -> None:
        super().__init__()
        self.condition = condition
        self.partition_date = partition_date
        self.poll_seconds = poll_seconds
        self.waiting_since = time.time() if waiting_since is None else waiting_since

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {
            "condition": self.condition,
            "partition_date": self.partition_date,
            "poll_seconds": self.poll_seconds,
            "waiting_since": self.waiting_since,
        }
        return TRIGGER_PATH, kwargs

    def next_poll(self) -> float:
        """Seconds to the next check, from the time waited since the wait began."""
        return poll_interval(max(0.0, time.time() - self.waiting_since), self.poll_seconds)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from asgiref.sync import sync_to_async

        from campaignflow.orchestration.tasks import connected_runtime

        # connections and object-store reads are blocking calls; the connections are read once
        rt = await sync_to_async(connected_runtime)()
        holds = sync_to_async(check)
        while not await holds(self.condition, self.partition_date, rt):
            await asyncio.sleep(self.next_poll())
        self.log.info("%s holds for %s", self.condition, self.partition_date)
        yield TaskSuccessEvent()


class PartitionSensor(BaseSensorOperator):
    """Waits until ``condition`` holds for the run's logical date (``{{ ds }}``): checks once, then
    polls in the triggerer.

    Args:
        condition: a name in :data:`campaignflow.orchestration.waits.CONDITIONS`.
        poll_seconds: the trigger's longest poll (a commit goes unseen at most this long).
        timeout_seconds: how long to wait before the task fails.
    """

    template_fields = ("partition_date",)
    ui_color = "#e6f1f2"

    def __init__(self, *, condition: str, poll_seconds: float, timeout_seconds: float, **kwargs: Any) -> None:
        super().__init__(poke_interval=poll_seconds, timeout=timeout_seconds, **kwargs)
        from campaignflow.orchestration.waits import CONDITIONS

        if condition not in CONDITIONS:
            raise ValueError(f"{self.task_id}: unknown wait condition {condition!r} (one of {sorted(CONDITIONS)})")
        self.condition = condition
        self.partition_date = "{{ ds }}"

    def poke(self, context: Any) -> bool:
        return check(self.condition, self.partition_date)

    def execute(self, context: Any) -> None:
        if not self.poke(context):
            trigger = PartitionTrigger(self.condition, self.partition_date, self.poke_interval)
            self.defer(trigger=trigger, method_name="execute_complete", timeout=timedelta(seconds=self.timeout))

    def execute_complete(self, context: Any, event: Any = None) -> None:
        """The trigger saw the condition hold (reached only where the task resumes on a worker)."""
