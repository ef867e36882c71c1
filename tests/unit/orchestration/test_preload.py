"""The task libraries are imported once in the processes that fork tasks, and forked tasks can use them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from campaignflow.orchestration.preload import forks_tasks


@pytest.mark.parametrize(
    ("argv", "forks"),
    [
        (["/venv/bin/airflow", "scheduler"], True),
        (["airflow", "celery", "worker", "--concurrency", "2", "--skip-serve-logs"], True),
        (["airflow", "--verbose", "scheduler"], True),
        (["airflow", "dag-processor"], False),
        (["airflow", "triggerer"], False),
        (["airflow", "api-server"], False),
        (["airflow", "celery", "flower"], False),
        (["airflow", "tasks", "test", "scheduler"], False),
        (["pytest", "tests"], False),
        (["airflow"], False),
    ],
)
def test_only_the_processes_that_fork_tasks_preload(argv: list[str], forks: bool) -> None:
    assert forks_tasks(argv) is forks


def _run(code: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


PRELOADED = """
import sys
from campaignflow.orchestration.preload import preload_if_forking
done = preload_if_forking({argv!r})
print(sorted(done), "torch" in sys.modules, "great_expectations" in sys.modules)
"""


def test_a_scheduler_imports_the_task_libraries() -> None:
    out = _run(PRELOADED.format(argv=["airflow", "scheduler"]))
    assert out.endswith("True True")
    assert "lightgbm" in out and "pyspark.sql.connect.session" in out


def test_other_processes_and_a_switched_off_preload_import_nothing() -> None:
    assert _run(PRELOADED.format(argv=["airflow", "dag-processor"])) == "[] False False"
    assert _run(PRELOADED.format(argv=["airflow", "scheduler"]), CAMPAIGNFLOW_PRELOAD="0") == "[] False False"


FORKED_TASK = """
import os, sys
from campaignflow.orchestration.preload import preload
preload()
pid = os.fork()
if pid == 0:  # the task: threads of torch and LightGBM, and a figure, all after the fork
    import numpy as np, torch, lightgbm as lgb, matplotlib.pyplot as plt
    torch.set_num_threads(2)
    x = torch.randn(256, 256)
    assert torch.isfinite(x @ x).all()
    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 4))
    model = lgb.train({"objective": "binary", "verbose": -1, "num_threads": 2},
                      lgb.Dataset(features, (features[:, 0] > 0).astype(int)), num_boost_round=5)
    assert model.predict(features).shape == (500,)
    plt.plot([0, 1]); plt.close("all")
    os._exit(0)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_task_uses_the_preloaded_libraries() -> None:
    assert _run(FORKED_TASK) == "0"
