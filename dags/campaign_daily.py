"""
### campaign_daily

The nightly campaign pipeline for logical date **D** (`{{ ds }}`):

1. **wait_for_landing** — the shop's export for D has arrived (`landing/dt=D/_SUCCESS`).
2. **ingest** — each landing CSV typed into `staging/<table>/dt=D` (unreadable values reject the batch).
3. **validate_raw** — Great Expectations suites; pass → `raw/<table>/dt=D`, fail → `quarantine/`
   with a report naming file, column, rule and lines. Nothing downstream runs on a failed batch.
4. **build_features** — Spark, point in time: `features/customer/dt=D`; alongside it
   **snapshot_contacts** rolls each customer's current contact/consent record forward to `dims/contacts/dt=D`.
5. **train_churn** — the newest churn model trained on or before D, or a new LightGBM model.
6. **score_customers** — `scores/customer/dt=D` (churn probability and band per customer).
7. **build_audience** / **export_audience** — one mapped task per active campaign in `campaigns/`:
   `audiences/<campaign>/dt=D` (treatment and control), then hashed-identifier CSVs with a
   manifest under `exports/<destination>/<campaign>/dt=D`.

Every task replaces exactly one partition per date, so re-runs and backfills are the same thing.
Settings (lake location, churn horizon) come from `CAMPAIGNFLOW_*` environment variables.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import PokeReturnValue, dag, task


def _runtime() -> Any:
    from campaignflow.runtime import Runtime

    return Runtime.from_settings()


def _run_without_pointless_retries(job: Any, ds: str) -> dict[str, Any]:
    """Run a job; a rejected batch or missing history stays so on retry, so fail at once."""
    from airflow.sdk.exceptions import AirflowFailException

    from campaignflow.ingest.staging import BatchRejected
    from campaignflow.models.churn import NotEnoughHistory

    try:
        result: dict[str, Any] = job.run(_runtime(), ds)
    except (BatchRejected, NotEnoughHistory) as err:
        raise AirflowFailException(str(err)) from err
    return result


@dag(
    dag_id="campaign_daily",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["campaignflow", "daily", "campaigns"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=15),
    },
    doc_md=__doc__,
)
def campaign_daily() -> None:
    @task.sensor(poke_interval=300, timeout=6 * 3600, mode="reschedule")
    def wait_for_landing(ds: str | None = None) -> PokeReturnValue:
        rt = _runtime()
        return PokeReturnValue(is_done=rt.landing.exists(f"dt={ds}/_SUCCESS"))

    @task
    def ingest(ds: str | None = None) -> dict[str, Any]:
        from jobs import ingest as job

        return _run_without_pointless_retries(job, str(ds))

    @task
    def validate_raw(ds: str | None = None) -> dict[str, Any]:
        from jobs import validate_raw as job

        return _run_without_pointless_retries(job, str(ds))

    @task
    def snapshot_contacts(ds: str | None = None) -> dict[str, Any]:
        from jobs import snapshot_contacts as job

        return job.run(_runtime(), str(ds))

    @task
    def build_features(ds: str | None = None) -> dict[str, Any]:
        from jobs import build_features as job

        return job.run(_runtime(), str(ds))

    @task
    def train_churn(ds: str | None = None) -> dict[str, Any]:
        from jobs import train_churn as job

        return _run_without_pointless_retries(job, str(ds))

    @task
    def score_customers(ds: str | None = None) -> dict[str, Any]:
        from jobs import score_customers as job

        return job.run(_runtime(), str(ds))

    @task
    def list_campaigns() -> list[str]:
        from campaignflow.campaigns.spec import load_campaigns

        return [spec.name for spec in load_campaigns(_runtime().settings.campaigns_dir)]

    @task(map_index_template="{{ campaign }}")
    def build_audience(campaign: str, ds: str | None = None) -> str:
        from jobs import build_audience as job

        job.run(_runtime(), str(ds), campaign)
        return campaign

    @task(map_index_template="{{ campaign }}")
    def export_audience(campaign: str, ds: str | None = None) -> dict[str, Any]:
        from jobs import export_audience as job

        return job.run(_runtime(), str(ds), campaign)

    validated = wait_for_landing() >> ingest() >> validate_raw()
    scored = validated >> build_features() >> train_churn() >> score_customers()
    contacts = validated >> snapshot_contacts()
    campaigns = list_campaigns()
    [scored, contacts] >> campaigns
    export_audience.expand(campaign=build_audience.expand(campaign=campaigns))


campaign_daily()
