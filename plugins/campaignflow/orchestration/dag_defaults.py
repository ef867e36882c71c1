"""What every campaignflow DAG shares: its first date and its retry policy (no I/O, cheap to import).

Transient failures retry with exponential backoff; data-quality and other permanent failures fail
at once (the task wrapper raises ``AirflowFailException`` for them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from campaignflow.settings import EARLIEST_DATE

START_DATE = datetime(EARLIEST_DATE.year, EARLIEST_DATE.month, EARLIEST_DATE.day)
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "campaignflow",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
}
