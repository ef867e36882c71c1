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
        "build-segments",
        "build-labels",
        "train-churn",
        "score-customers",
        "build-audiences",
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
    assert main(["--verbose", "run", "--date", "2024-01-01"]) == 2
    err = capsys.readouterr().err
    assert "error: no complete landing export" in err and "remedy:" in err and "campaignflow generate" in err
    assert "Traceback" not in err


def test_date_before_the_earliest_is_a_clear_error(runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--verbose", "run", "--date", "1969-12-31"]) == 2
    assert "before 1980-01-01, the earliest date campaignflow processes" in capsys.readouterr().err


def test_summary_of_a_date_that_was_never_run_fails_naming_what_is_missing(runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["summary", "--date", "1998-03-31"]) == 2
    captured = capsys.readouterr()
    assert "1998-03-31 is incomplete" in captured.err
    for stage in ("validate_raw", "build_features", "score_customers", "build_audiences[winback]"):
        assert f"MISSING:       {stage}: " in captured.out
    assert "None" not in captured.out


def test_a_bug_shows_its_traceback(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import campaignflow.cli as cli

    def broken(args: object) -> None:
        raise ZeroDivisionError("a bug")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["doctor"].set_defaults(func=broken)  # type: ignore[union-attr]
    assert cli.main(["doctor"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError: a bug" in err


def test_bad_date_is_rejected(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        main(["build-features", "--date", "2024-13-01"])
    assert "not a date (YYYY-MM-DD): '2024-13-01'" in capsys.readouterr().err


def test_models_promote_list_and_rollback(runtime_env: Runtime, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from campaignflow.io import datasets
    from campaignflow.models import registry

    for name, version in (("churn_lgbm", "2024-03-01"), ("churn_torch", "2024-03-08")):
        runtime_env.lake.write_files(datasets.model(name).at(version), {"model.txt": b"m"}, rows=1)
    registry.set_champion(runtime_env.lake, "2024-03-01", "churn_lgbm", "2024-03-01", "first")
    assert (
        main(
            ["--json", "models", "promote", "--model", "churn_torch", "--version", "2024-03-08", "--date", "2024-03-09"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["name"] == "churn_torch"
    assert main(["--json", "models", "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in listed["champions"]] == ["churn_lgbm", "churn_torch"]
    assert main(["--json", "models", "rollback", "--date", "2024-03-10"]) == 0
    assert registry.champion(runtime_env.lake, "2024-03-10").name == "churn_lgbm"  # type: ignore[union-attr]
    assert main(["models", "promote", "--model", "churn_torch", "--version", "2024-03-08", "--date", "2024-03-05"]) == 2
    assert "trained after 2024-03-05" in capsys.readouterr().err


def test_every_command_a_message_names_exists() -> None:
    """Remedies and help name commands people will type: each must be a real subcommand."""
    import re

    root = Path(__file__).resolve().parents[2]
    named = set()
    for path in [*(root / "plugins" / "campaignflow").rglob("*.py"), *(root / "jobs").glob("*.py")]:
        text = path.read_text()
        named |= {(path.name, m) for m in re.findall(r"[`(\"'=]campaignflow ([a-z][a-z-]*[a-z])", text)}
    known = set(subcommands())
    prose = {"backfills"}  # "campaignflow backfills: bounded so …" (the backfill pool's description)
    missing = sorted((f, c) for f, c in named if c not in known | prose)
    assert missing == [], missing


@pytest.mark.parametrize(
    ("content", "want"),
    [
        (b"", "empty"),
        (b"email\n" + "m\xfcller@example.com\n".encode("latin-1"), "--encoding"),
        (b"name\nann\n", "a suppression list needs a column"),
    ],
)
def test_bad_suppression_files_fail_clearly(
    tmp_path: Path, runtime_env: Runtime, capsys, content: bytes, want: str
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    assert main(["suppression", "import", "do_not_contact", str(path)]) == 2
    err = capsys.readouterr().err
    assert want in err and "Traceback" not in err, err
