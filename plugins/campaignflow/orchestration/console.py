"""A quiet terminal for long commands: framework output goes to a log file, people see progress.

Airflow's task runner, Spark's JVM and GX write hundreds of lines per run, some straight to the
process's file descriptors. :func:`quiet_output` points descriptors 1 and 2 at a log file for the
duration and hands back a stream to the real terminal for progress and summaries.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO


@dataclass
class Console:
    """Where a person reads: ``out`` for progress and results, ``err`` for errors."""

    out: TextIO
    err: TextIO


@contextlib.contextmanager
def quiet_output(log_path: Path | None, enabled: bool = True) -> Iterator[Console]:
    """Redirect stdout/stderr (Python and native) to ``log_path``; yield the terminal's streams."""
    if not enabled or log_path is None:
        yield Console(sys.stdout, sys.stderr)
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = Console(os.fdopen(os.dup(saved_out), "w", buffering=1), os.fdopen(os.dup(saved_err), "w", buffering=1))
    with open(log_path, "ab", buffering=0) as log_file:
        os.dup2(log_file.fileno(), 1)
        os.dup2(log_file.fileno(), 2)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
        try:
            yield terminal
        finally:
            logging.getLogger().removeHandler(handler)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.out.close()
            terminal.err.close()
