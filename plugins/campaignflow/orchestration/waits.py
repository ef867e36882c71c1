"""What each DAG waits for before it starts a date: committed partitions, never another DAG's state.

Every condition reads the lake (or the landing zone), so a daily run, a retry and a backfill wait
for the same thing, and the DAGs of the suite can run in any order or at once. Each function is
checked by a :class:`~campaignflow.orchestration.partition_sensor.PartitionSensor`'s trigger with
the run's logical date and answers in one or two object-store reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the lake's modules load on the first check, not when a DAG file names a condition
    from campaignflow.runtime import Runtime

TRAINED_TASKS = ("churn", "recommender")


def _runtime() -> Runtime:
    from campaignflow.orchestration.tasks import connected_runtime

    return connected_runtime()


def landing_complete(ds: str, rt: Runtime | None = None) -> bool:
    """The shop's export for ``ds`` has arrived (``landing/dt=D/_SUCCESS``)."""
    from campaignflow.io import landing

    rt = rt or _runtime()
    return landing.is_complete(rt.landing, ds)


def orders_validated(ds: str, rt: Runtime | None = None) -> bool:
    """``raw/orders/dt=D`` is committed: the day's export passed validation."""
    from campaignflow.io import datasets

    rt = rt or _runtime()
    return rt.lake.is_committed(datasets.raw("orders").at(ds))


def features_built(ds: str, rt: Runtime | None = None) -> bool:
    """Features, segments and the contact snapshot as of ``ds`` are all committed."""
    from campaignflow.io import datasets

    rt = rt or _runtime()
    outputs = (datasets.CUSTOMER_FEATURES, datasets.CUSTOMER_SEGMENTS, datasets.CONTACTS)
    return all(rt.lake.is_committed(d.at(ds)) for d in outputs)


def models_settled(ds: str, rt: Runtime | None = None) -> bool:
    """Every training task has decided for ``ds`` (trained, not due or skipped), so the champion
    serving at ``ds`` is final and a backfill scores each date with the model of its own time."""
    from campaignflow.models.registry import training_recorded

    rt = rt or _runtime()
    return all(training_recorded(rt.lake, ds, task) for task in TRAINED_TASKS)


CONDITIONS: dict[str, Callable[[str, Runtime | None], bool]] = {
    "landing_complete": landing_complete,
    "orders_validated": orders_validated,
    "features_built": features_built,
    "models_settled": models_settled,
}
