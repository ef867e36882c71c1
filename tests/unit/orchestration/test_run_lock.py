"""Two campaignflow runs on one Airflow home queue instead of racing on the metadata DB."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HOLD = """
import sys, time
from campaignflow.orchestration.airflow_runner import configure_airflow_env, migrate_db, run_lock
configure_airflow_env()
with run_lock(on_wait=lambda msg: print("WAITED", flush=True)):
    print("START", time.monotonic(), flush=True)
    migrate_db()
    print("END", time.monotonic(), flush=True)
"""


def test_concurrent_runs_on_a_fresh_home_queue(tmp_path: Path) -> None:
    env = {**os.environ, "CAMPAIGNFLOW_HOME": str(tmp_path), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HOLD], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    spans = []
    for out, _ in outs:
        marks = {
            line.split()[0]: float(line.split()[1]) for line in out.splitlines() if line.startswith(("START", "END"))
        }
        spans.append((marks["START"], marks["END"]))
    first, second = sorted(spans)
    assert first[1] <= second[0]  # the second migration started after the first had finished
    assert sum("WAITED" in out for out, _ in outs) <= 1  # whoever came second said it was waiting
