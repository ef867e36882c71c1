"""What every campaignflow DAG shares: ids, first date, retry policy, failure callback (cheap to import).

Transient failures retry with exponential backoff; data-quality and other permanent failures fail
at once (the task wrapper raises ``AirflowFailException`` for them). A failed task posts a short
summary to the ``campaignflow_webhook`` connection when there is one.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from campaignflow.orchestration.notify import post_failure
from campaignflow.settings import EARLIEST_DATE

INGEST_FEATURES = "ingest_features"
TRAIN_MODELS = "train_models"
CAMPAIGN_DAILY = "campaign_daily"
CAMPAIGN_MEASUREMENT = "campaign_measurement"
SUITE = (INGEST_FEATURES, TRAIN_MODELS, CAMPAIGN_DAILY, CAMPAIGN_MEASUREMENT)  # a date's run order
DAILY = (INGEST_FEATURES, TRAIN_MODELS, CAMPAIGN_DAILY)  # what `campaignflow run` runs per date

START_DATE = datetime(EARLIEST_DATE.year, EARLIEST_DATE.month, EARLIEST_DATE.day)
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "campaignflow",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    "on_failure_callback": post_failure,
}
# Every date's critical path starts with ingest → features: when slots are short, its tasks go first.
INGEST_ARGS: dict[str, Any] = {**DEFAULT_ARGS, "priority_weight": 10}
# Waits for a partition check once, then poll in the triggerer (PartitionSensor: no slot held),
# every 1 % of the time waited so far and at least every CAMPAIGNFLOW_POKE_SECONDS (30 s): a commit
# inside a run is seen within a fraction of a second; a wait of a day costs about 3.5 k reads.
WAIT_ARGS: dict[str, Any] = {
    "poll_seconds": float(os.environ.get("CAMPAIGNFLOW_POKE_SECONDS", "30")),
    "timeout_seconds": 24 * 3600,
}
