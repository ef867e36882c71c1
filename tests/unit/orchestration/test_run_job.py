"""The task wrapper's failure semantics: permanent errors fail at once, a step with nothing to do yet
is skipped with its reason, anything else propagates for Airflow's retries; the CLI alike."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from campaignflow.errors import MissingPartition, NoModelYet
from campaignflow.jobcli import job_main
from campaignflow.orchestration import tasks

OUTCOMES: dict[str, BaseException | None] = {
    "young": NoModelYet("no churn model at 2024-03-01 yet: needs two snapshots"),
    "missing": MissingPartition("no features for 2024-03-01"),
    "bug": ZeroDivisionError("a bug"),
    "fine": None,
}


@pytest.fixture
def fake_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """``jobs.fake_job.run`` ends as ``OUTCOMES[ds]`` says, with no lake or connections behind it."""

    def run(rt: Any, ds: str) -> dict[str, str]:
        if (err := OUTCOMES[ds]) is not None:
            raise err
        return {"dt": ds}

    monkeypatch.setitem(sys.modules, "jobs.fake_job", types.SimpleNamespace(run=run))
    monkeypatch.setattr(tasks, "connected_runtime", lambda: None)


@pytest.mark.usefixtures("fake_job")
def test_run_job_maps_each_outcome_for_airflow() -> None:
    assert tasks.run_job("fake_job", "fine") == {"dt": "fine"}
    with pytest.raises(AirflowSkipException, match="needs two snapshots\n  remedy: campaigns start by themselves"):
        tasks.run_job("fake_job", "young")
    with pytest.raises(AirflowFailException, match="no features for 2024-03-01"):
        tasks.run_job("fake_job", "missing")
    with pytest.raises(ZeroDivisionError):  # a bug: Airflow retries it
        tasks.run_job("fake_job", "bug")


@pytest.mark.parametrize(("ds", "code", "said"), [("young", 0, "skipped: no churn model"), ("missing", 2, "error: ")])
def test_a_job_command_exits_0_for_a_skip_and_2_for_a_permanent_error(ds: str, code: int, said: str, capsys) -> None:  # type: ignore[no-untyped-def]
    def run(args: Any) -> None:
        raise OUTCOMES[ds]  # type: ignore[misc]

    assert job_main("a job", lambda parser: None, run, []) == code
    assert capsys.readouterr().err.startswith(said)
