"""Shared command-line plumbing for jobs: every job runs the same way from the CLI and from a DAG."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaignflow.errors import CampaignflowError


def iso_date(text: str) -> str:
    """argparse type: an ISO date (YYYY-MM-DD), returned as the same string."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from err


def add_date_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", required=True, type=iso_date, help="logical date D (YYYY-MM-DD) of the partition")


def add_campaign_arguments(parser: argparse.ArgumentParser) -> None:
    add_date_argument(parser)
    parser.add_argument("--campaign", required=True, help="campaign name (file campaigns/<name>.yaml)")


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    add_date_argument(parser)
    parser.add_argument("--force", action="store_true", help="train a new version at D even if a recent one exists")


def for_date(run: Callable[..., Any]) -> Callable[[argparse.Namespace], Any]:
    """CLI adapter for ``run(runtime, ds)``."""
    from campaignflow.runtime import Runtime

    return lambda args: run(Runtime.from_settings(), args.date)


def for_campaign(run: Callable[..., Any]) -> Callable[[argparse.Namespace], Any]:
    """CLI adapter for ``run(runtime, ds, campaign)``."""
    from campaignflow.runtime import Runtime

    return lambda args: run(Runtime.from_settings(), args.date, args.campaign)


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("great_expectations", "py4j", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def exit_code(err: CampaignflowError) -> int:
    """The exit status for an error campaignflow raised on purpose: 0 for a skipped step (nothing is
    wrong), 75 for a transient error (try again later), 2 for a permanent one."""
    from campaignflow.errors import StepSkipped, TransientError

    return 0 if isinstance(err, StepSkipped) else 75 if isinstance(err, TransientError) else 2


def job_main(
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], Any],
    argv: Sequence[str] | None = None,
) -> int:
    """Standalone entry point of a job module (``python jobs/x.py`` or ``spark-submit jobs/x.py``)."""
    parser = argparse.ArgumentParser(description=description)
    add_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging()
    from campaignflow.errors import CampaignflowError, StepSkipped

    try:
        result = run(args)
    except CampaignflowError as err:
        sys.stderr.write(f"{'skipped' if isinstance(err, StepSkipped) else 'error'}: {err.explain()}\n")
        return exit_code(err)
    sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    return 0


JobEntry = tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], Any], Callable[..., int]]


def date_job(run: Callable[..., Any], doc: str | None) -> JobEntry:
    """``(add_arguments, run_args, main)`` for a job ``run(runtime, ds)``."""
    return _entry(add_date_argument, for_date(run), doc)


def training_job(run: Callable[..., Any], doc: str | None) -> JobEntry:
    """``(add_arguments, run_args, main)`` for a job ``run(runtime, ds, force=False)``."""
    from campaignflow.runtime import Runtime

    return _entry(add_training_arguments, lambda args: run(Runtime.from_settings(), args.date, force=args.force), doc)


def campaign_job(run: Callable[..., Any], doc: str | None) -> JobEntry:
    """``(add_arguments, run_args, main)`` for a job ``run(runtime, ds, campaign)``."""
    return _entry(add_campaign_arguments, for_campaign(run), doc)


def _entry(
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run_args: Callable[[argparse.Namespace], Any],
    doc: str | None,
) -> JobEntry:
    def main(argv: Sequence[str] | None = None) -> int:
        return job_main(doc or "", add_arguments, run_args, argv)

    return add_arguments, run_args, main
