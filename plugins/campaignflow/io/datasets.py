"""The catalogue: every dataset the pipeline reads or writes, in one place.

A dataset is ``zone/table`` and its partitions are ``zone/table/dt=D`` (see :mod:`campaignflow.io.lake`).
Jobs, the DAG, the importer and the report name datasets through this module, never by literal
paths. Exports live in their own store (``CAMPAIGNFLOW_EXPORTS``) with the destination as the zone.
"""

from __future__ import annotations

from campaignflow.io.lake import Dataset

RAW_TABLES = ("orders", "order_lines", "events", "customers", "products", "returns")
REQUIRED_RAW_TABLES = ("orders",)  # a day's export without these is not a day's export


def staging(table: str) -> Dataset:
    """A landing file typed into Parquet, waiting for validation."""
    return Dataset("staging", table, f"typed, not yet validated {table}")


def raw(table: str) -> Dataset:
    """Validated rows of one landing table, one partition per export day."""
    return Dataset("raw", table, f"validated {table} as exported by the shop")


def raw_quarantine(table: str) -> Dataset:
    """A staged table that failed validation, with ``_report.json`` saying why."""
    return Dataset("quarantine", f"raw/{table}", f"{table} batches that failed validation")


LANDING_QUARANTINE = Dataset("quarantine", "landing/export", "landing files that could not be parsed")
CUSTOMER_DAY = Dataset("daily", "customer_day", "per customer and activity day, the aggregates of raw day D")
FEATURE_STATE = Dataset("state", "customer_features", "windowed counters per customer as of D (incremental)")
CUSTOMER_FEATURES = Dataset("features", "customer", "point-in-time features per customer as of D")
FEATURES_QUARANTINE = Dataset("quarantine", "features/customer", "feature partitions that failed validation")
CUSTOMER_SEGMENTS = Dataset("segments", "customer", "RFM tier and k-means cluster per customer as of D")
SEGMENT_MODELS = Dataset("models", "segments_kmeans", "k-means segment models; dt = start of the model's period")
CONTACTS = Dataset("dims", "contacts", "each customer's newest contact and consent record as of D")
CHURN_DRIFT = Dataset("monitoring", "churn_drift", "PSI of each model column and the score vs the training window")
CHURN_BACKTEST = Dataset("monitoring", "churn_backtest", "the scores made H days before D, judged by what happened")
CUSTOMER_SCORES = Dataset("scores", "customer", "churn probability, band and reasons per customer as of D")


def champion(task: str) -> Dataset:
    """Which model of a task (``churn``, ``recommender``) serves from D on, and why."""
    return Dataset("registry", f"{task}_champion", f"which {task} model serves from D on, and why")


def training_run(task: str) -> Dataset:
    """What the training of ``task`` decided at D (trained, not due, refused, skipped), every date."""
    return Dataset("monitoring", f"training_{task}", f"the {task} training decision at D")


RECOMMENDATIONS = Dataset("recommendations", "customer", "top-k products per customer as of D, with ranks and scores")
RECOMMENDER_EVALUATION = Dataset(
    "monitoring", "recommender_evaluation", "the recommender and its baselines on the time split at D"
)


def model(name: str) -> Dataset:
    """Versions of one model (``churn_lgbm``, ``churn_torch``); partition dt = the training date."""
    return Dataset("models", name, f"{name} models; partition dt = the training date")


def churn_labels(horizon_days: int) -> Dataset:
    """Labels at T: churn (no order in (T, T + horizon]) and future value (spend in that window)."""
    return Dataset("labels", f"churn_h{horizon_days}", f"churn and spend within {horizon_days} days")


def audience(campaign: str) -> Dataset:
    """A campaign's selected customers (treatment and control) for D."""
    return Dataset("audiences", campaign, f"audience of campaign {campaign}")


def export(destination: str, campaign: str) -> Dataset:
    """A campaign's published file for one destination (in the exports store)."""
    return Dataset(destination, campaign, f"{campaign} published to {destination}")


def suppression(name: str) -> Dataset:
    """A suppression list (SHA-256 of normalised emails and phones); dt = the day it was imported."""
    return Dataset("suppression", name, f"suppression list {name}")


CAMPAIGN_LIFT = Dataset(
    "measurement", "campaign_lift", "treatment vs control per campaign whose response window closed on D"
)
