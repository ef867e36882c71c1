"""Every error campaignflow raises on purpose, split by what a retry can do about it.

``PermanentError``: the same inputs will fail the same way (a bad batch, missing history, a missing
input partition, a bad campaign spec or setting). Airflow fails the task without retrying; the CLI
prints the cause and the remedy in one line each.

``TransientError``: the world may be different in a minute (object storage unreachable, a lock
held by another run). Airflow retries with backoff; the CLI prints the cause and the remedy.

Anything else is a bug: the task retries like any unexpected failure and the CLI shows the
traceback. Messages never carry the values of PII columns.
"""

from __future__ import annotations

from typing import Any


class CampaignflowError(Exception):
    """Base class: ``str(err)`` is the cause, ``remedy`` what to do about it."""

    default_remedy = ""

    def __init__(self, message: str, remedy: str | None = None) -> None:
        super().__init__(message)
        self.remedy = remedy if remedy is not None else self.default_remedy

    def explain(self) -> str:
        """Cause and remedy, for a person."""
        return f"{self}\n  remedy: {self.remedy}" if self.remedy else str(self)


class StepSkipped(CampaignflowError):
    """Nothing a step can do for a date yet, and nothing is wrong: a shop too young for a churn model.
    Airflow marks the task skipped (the tasks after it too, and the next date's runs are not held);
    the CLI prints the reason and exits 0."""


class NoModelYet(StepSkipped):
    """No churn model serves yet and the orders do not reach back far enough to train one."""

    default_remedy = (
        "campaigns start by themselves once the orders reach back far enough for a model; sooner: load "
        "more history (campaignflow load-history) or shorten CAMPAIGNFLOW_CHURN_HORIZON_DAYS"
    )


class PermanentError(CampaignflowError):
    """Retrying with the same inputs cannot succeed."""


class TransientError(CampaignflowError):
    """May succeed when retried later."""


class BadInput(PermanentError):
    """A file or value given by a person cannot be used (names the file, line, column and rule)."""

    default_remedy = "fix the file as the message says and run the command again"


class BatchRejected(BadInput):
    """A batch failed parsing or validation; ``report`` says where and why (and it was quarantined)."""

    default_remedy = "fix the export, land it again (landing/dt=D/ with _SUCCESS) and re-run the date"

    def __init__(self, message: str, report: dict[str, Any], remedy: str | None = None) -> None:
        super().__init__(message, remedy)
        self.report = report


class ImportRejected(BatchRejected):
    """A file given to ``campaignflow import-*`` failed parsing or validation; nothing was written."""

    default_remedy = "fix the rows named above in the file and run the same import command again"


class NotEnoughHistory(PermanentError):
    """Training needs labelled customers from at least one horizon back."""

    default_remedy = "load more history (campaignflow load-history) or shorten CAMPAIGNFLOW_CHURN_HORIZON_DAYS"


class ModelMismatch(PermanentError):
    """Features to score do not match what the model was trained on (missing columns, wrong schema)."""

    default_remedy = "rebuild the features for the date, or retrain (campaignflow train-churn --date D --force)"


class CorruptModel(PermanentError):
    """A registered model's files are missing, truncated or changed since they were written."""

    default_remedy = "roll back to the previous champion (campaignflow models rollback) or retrain at the date"


class MissingPartition(PermanentError, FileNotFoundError):
    """An input partition a step reads is not committed."""

    default_remedy = "run the upstream step for that date first (campaignflow run --date D runs them all)"


class MissingOutputs(PermanentError):
    """A run reported success but did not commit the partitions it should have."""

    default_remedy = "look at the task logs of that run (the path is printed above) and re-run the date"


class CampaignSpecError(PermanentError, ValueError):
    """A campaign file is not valid; the message names the file and each bad field."""

    default_remedy = "fix the campaign file (campaignflow campaigns validate lists every problem)"


class ConfigError(PermanentError, ValueError):
    """A setting or command-line option cannot be used."""

    default_remedy = "fix the setting named in the message"


class DateOutOfRange(PermanentError):
    """A logical date the pipeline cannot process (before the earliest supported date, or no data)."""

    default_remedy = "choose a date for which the shop's export has landed"


class SparkCannotReadLake(PermanentError):
    """Spark was asked to read a lake location it has no filesystem for (s3:// without the s3a jars)."""

    default_remedy = (
        "run Spark where the hadoop-aws (s3a) jars are installed (the docker image has them), "
        "or point CAMPAIGNFLOW_LAKE at a local or mounted directory"
    )


class StorageUnavailable(TransientError):
    """Object storage did not answer (network, endpoint down, throttling)."""

    default_remedy = "check that the object store is reachable (CAMPAIGNFLOW_S3_ENDPOINT_URL) and run again"


class RunInProgress(TransientError):
    """Another campaignflow run holds the lock on this Airflow home."""

    default_remedy = "wait for the other run to finish (or stop it), then run again"


class WriteConflict(PermanentError):
    """A conditional write lost: the object changed (or appeared) since it was read."""
