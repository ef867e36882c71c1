from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from campaignflow.cli import build_parser, main
from campaignflow.runtime import Runtime


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)  # type: ignore[arg-type]


def test_every_job_has_a_command() -> None:
    assert {
        "generate",
        "import-orders",
        "load-history",
        "ingest",
        "validate-raw",
        "build-features",
        "train-churn",
        "score-customers",
        "build-audience",
        "export-audience",
        "run",
        "summary",
        "demo",
        "doctor",
    } <= set(subcommands())


@pytest.mark.parametrize("command", subcommands())
def test_help_on_every_subcommand(command: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: campaignflow {command}") and "--help" in out


def test_console_script_installed() -> None:
    script = Path(sys.executable).with_name("campaignflow")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "import-orders" in out.stdout


def test_run_without_landing_says_what_to_do(runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--date", "2024-01-01"])
    assert "no landing export" in str(exit_.value.code) and "campaignflow generate" in str(exit_.value.code)


def test_bad_date_is_rejected(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        main(["build-features", "--date", "2024-13-01"])
    assert "not a date (YYYY-MM-DD): '2024-13-01'" in capsys.readouterr().err
