"""A shop whose orders do not yet reach back far enough for a churn model, through the daily DAGs.

Its features and segments are built; the training records its refusal and is skipped; scoring and
the campaigns are skipped for the same reason: the run succeeds and says why, and the next date's
runs are not held behind a failure (``depends_on_past`` passes a skipped task).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from campaignflow.io import datasets
from campaignflow.models import registry
from campaignflow.runtime import Runtime
from jobs import load_history
from tests.conftest import ROOT, make_shop

pytestmark = [pytest.mark.airflow, pytest.mark.spark]
START = date(2024, 1, 1)


def test_a_young_shop_runs_without_a_model_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("CAMPAIGNFLOW_EXPORTS", "CAMPAIGNFLOW_S3_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CAMPAIGNFLOW_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("CAMPAIGNFLOW_LANDING", str(tmp_path / "shop" / "landing"))
    monkeypatch.setenv("CAMPAIGNFLOW_CAMPAIGNS_DIR", str(ROOT / "campaigns"))
    make_shop(tmp_path / "shop", customers=300, days=30, start=START)
    first, last = START + timedelta(days=28), START + timedelta(days=29)
    load_history.run(Runtime.from_settings(), None, str(first - timedelta(days=1)))
    cli = Path(sys.executable).with_name("campaignflow")
    command = [str(cli), "run", "--date", str(first), "--to", str(last)]
    run = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("churn model:   none yet, so no scores or campaigns: ") == 2, run.stdout
    assert "needs two snapshots" in run.stdout
    from campaignflow.cli import main

    assert main(["summary", "--date", str(last)]) == 0  # complete: no scores or audiences are due yet
    rt = Runtime.from_settings()
    for day in (str(first), str(last)):
        assert rt.lake.is_committed(datasets.CUSTOMER_SEGMENTS.at(day))
        assert not rt.lake.is_committed(datasets.CUSTOMER_SCORES.at(day))
        assert not rt.lake.is_committed(datasets.audience("winback").at(day))
        decision = registry.training_decision(rt.lake, day, "churn")
        assert decision is not None and decision["champion"] is None and decision["refused"]
