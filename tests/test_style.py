"""House style is part of the build: ruff (incl. the Airflow rules) and mypy on the library."""

from __future__ import annotations

import subprocess

from tests.conftest import ROOT

BIN = ROOT / ".venv" / "bin"


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def test_ruff_clean() -> None:
    out = _run(str(BIN / "ruff"), "check", "plugins", "jobs", "dags", "tests", "bench")
    assert out.returncode == 0, out.stdout


def test_mypy_clean() -> None:
    out = _run(str(BIN / "mypy"))
    assert out.returncode == 0, out.stdout
