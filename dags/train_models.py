"""
### train_models

The models serving from logical date **D** (`{{ ds }}`) on. Runs every day but retrains only when
the newest model is `CAMPAIGNFLOW_RETRAIN_DAYS` old (weekly by default), when none exists yet, or
**on demand**: trigger the DAG for a date with the param `force` set (UI: *Trigger* → *force*; CLI:
`airflow dags trigger train_models --logical-date D --conf '{"force": true}'`). Daily scheduling
keeps training point in time and backfillable: the model that serves D was trained on data up to
its own date, whatever day the backfill runs.

1. **wait_for_orders** — D's raw orders are committed (`ingest_features` validated the export).
2. **train_churn** — churn candidates (LightGBM, torch MLP on a GPU when present) and the value
   model on calendar snapshots (features as of T, labels in `labels/churn_h{H}/dt=T`), judged on the
   newest snapshot; the champion changes only when a challenger beats it by the promotion margin
   (`registry/churn_champion/`). A backtest of the scores published H days ago goes to
   `monitoring/churn_backtest/`.
3. **train_recommender** — the product recommender (torch, GPU when present) judged against
   popularity, buy-again and co-occurrence; promoted only if its NDCG@10 beats the champion's. A
   shop without order lines skips it, saying why.

Each task commits its decision (trained, not due, refused, skipped) to
`monitoring/training_<task>/dt=D` — the assets `campaignflow.monitoring.training_*` — and
`campaign_daily` scores D only once both have decided. A shop too young for its first churn model
gets `train_churn` skipped with the reason (the refusal committed); the next date tries again.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, dag, task

from campaignflow.orchestration import assets
from campaignflow.orchestration.dag_defaults import DEFAULT_ARGS, START_DATE, TRAIN_MODELS, WAIT_ARGS
from campaignflow.orchestration.partition_sensor import PartitionSensor


@dag(
    dag_id=TRAIN_MODELS,
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,  # each training date compares with the models of the dates before it
    tags=["campaignflow", "models", "weekly"],
    default_args=DEFAULT_ARGS,
    params={"force": Param(False, type="boolean", description="retrain now, even if the models are recent")},
    doc_md=__doc__,
)
def train_models() -> None:
    @task(outlets=[assets.CHURN_MODELS], depends_on_past=True)
    def train_churn(ds: str | None = None, params: Any = None, outlet_events: Any = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        force = bool((params or {}).get("force"))
        return run_job("train_churn", str(ds), force=force, outlet_events=outlet_events, outlets=[assets.CHURN_MODELS])

    @task(outlets=[assets.RECOMMENDER_MODELS], depends_on_past=True)
    def train_recommender(ds: str | None = None, params: Any = None, outlet_events: Any = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        force = bool((params or {}).get("force"))
        outlets = [assets.RECOMMENDER_MODELS]
        return run_job("train_recommender", str(ds), force=force, outlet_events=outlet_events, outlets=outlets)

    wait_for_orders = PartitionSensor(task_id="wait_for_orders", condition="orders_validated", **WAIT_ARGS)
    wait_for_orders >> [train_churn(), train_recommender()]


train_models()
