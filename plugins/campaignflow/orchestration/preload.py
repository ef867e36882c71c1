"""Import the task libraries once, in the Airflow processes that fork task processes.

Airflow 3 runs each task in a process forked from an executor worker: the LocalExecutor's workers
are forked from the scheduler, a Celery worker's pool from the Celery worker. Each task then imports
what its job needs (Great Expectations, torch, LightGBM, matplotlib, the Spark Connect client):
seconds per task, paid again by every task of every date of a backfill. Imported in the forking
process, they are every forked task's at no cost (the pages are shared, copy-on-write).

Importing is fork-safe for these libraries: no CUDA context, OpenMP pool or network channel exists
until a task uses them. ``CAMPAIGNFLOW_PRELOAD=0`` turns it off.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

ENV = "CAMPAIGNFLOW_PRELOAD"
TASK_LIBRARIES = (
    "pandas",
    "pyarrow.parquet",
    "great_expectations",
    "sklearn.cluster",
    "lightgbm",
    "torch",
    "pyspark.sql.connect.session",
)
# Airflow commands whose process forks the task processes (``airflow <command...>``).
FORKING_COMMANDS = (("scheduler",), ("celery", "worker"))


def forks_tasks(argv: Sequence[str]) -> bool:
    """Whether a process started with ``argv`` (``airflow scheduler``, ``airflow celery worker``) forks tasks."""
    words = [a for a in argv[1:] if not a.startswith("-")]
    return any(tuple(words[: len(cmd)]) == cmd for cmd in FORKING_COMMANDS)


def preload(modules: Sequence[str] = TASK_LIBRARIES) -> dict[str, float]:
    """Import ``modules`` and the report figures' headless pyplot; seconds per module (a missing
    optional library is skipped)."""
    from campaignflow.figures import pyplot

    started = time.perf_counter()
    pyplot()
    seconds = {"matplotlib.pyplot": round(time.perf_counter() - started, 2)}
    for name in modules:
        started = time.perf_counter()
        try:
            importlib.import_module(name)
        except ImportError as err:
            log.warning("preload: %s not importable (%s); tasks will import what they need", name, err)
            continue
        seconds[name] = round(time.perf_counter() - started, 2)
    return seconds


def preload_if_forking(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> dict[str, float]:
    """:func:`preload` in a process that forks tasks, unless ``CAMPAIGNFLOW_PRELOAD=0``; what was imported."""
    argv = sys.argv if argv is None else argv
    env = os.environ if env is None else env
    if env.get(ENV, "1") == "0" or not forks_tasks(argv):
        return {}
    seconds = preload()
    log.info("preloaded task libraries in %.1f s: %s", sum(seconds.values()), seconds)
    return seconds
