"""
### ingest_features

The shop's nightly export for logical date **D** (`{{ ds }}`) into validated raw tables and the
per-customer features as of D. Time-scheduled, so any past date can be backfilled.

1. **wait_for_landing** — the export for D has arrived (`landing/dt=D/_SUCCESS`).
2. **ingest** — each landing CSV typed into `staging/<table>/dt=D` (unreadable values reject the batch).
3. **validate_raw** — Great Expectations suites; pass → `raw/<table>/dt=D`, fail → `quarantine/`
   with a report naming file, column, rule and lines. Nothing downstream runs on a failed batch,
   and nothing committed before is touched.
4. **build_features** — Spark, point in time and incremental: day D's raw rows into
   `daily/customer_day/dt=D`, D-1's state moved to D, then `features/customer/dt=D`, validated
   before commit. **snapshot_contacts** rolls each customer's contact/consent record forward to
   `dims/contacts/dt=D`.
5. **build_segments** — RFM tiers and k-means clusters as of D (`segments/customer/dt=D`).

Produces the assets `campaignflow.raw.*`, `campaignflow.features.customer`,
`campaignflow.segments.customer` and `campaignflow.dims.contacts`; each asset event names the
partition (`extra.dt`). `train_models` and `campaign_daily` wait for these partitions.
**build_features** and **snapshot_contacts** depend on their previous run (D's feature state and
contact snapshot grow from D-1's), and so does **build_segments** (the first date of a k-means
period that runs fits the period's model: in date order, that is the same date in a backfill as in
the daily runs), so runs of several dates ingest and validate in parallel while features and
contacts are built in date order; a date whose batch is rejected holds the later dates there until
its export is fixed and its failed tasks cleared (README, *Backfill runbook*). In a backfill,
**build_features** also builds the following dates whose raw days are validated already (up to
`CAMPAIGNFLOW_BACKFILL_AHEAD_DAYS`, 10) in one pass from D's state; their own runs find them built
from the same inputs and claim them.
**build_segments** likewise segments the following dates whose features are committed, in one
Spark job, up to a k-means period whose model is not stored yet. This DAG's tasks have a higher
priority weight (every date's critical path starts here). Backfill runs use the
`campaignflow_backfill` pool.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from campaignflow.orchestration import assets
from campaignflow.orchestration.dag_defaults import INGEST_ARGS, INGEST_FEATURES, START_DATE, WAIT_ARGS
from campaignflow.orchestration.partition_sensor import PartitionSensor


@dag(
    dag_id=INGEST_FEATURES,
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=3,
    tags=["campaignflow", "daily", "ingest", "features"],
    default_args=INGEST_ARGS,
    doc_md=__doc__,
)
def ingest_features() -> None:
    @task
    def ingest(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("ingest", str(ds))

    @task(outlets=assets.RAW)
    def validate_raw(ds: str | None = None, outlet_events: Any = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("validate_raw", str(ds), outlet_events=outlet_events, outlets=assets.RAW)

    @task(outlets=[assets.CONTACTS], depends_on_past=True)  # D's snapshot rolls D-1's forward
    def snapshot_contacts(ds: str | None = None, outlet_events: Any = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("snapshot_contacts", str(ds), outlet_events=outlet_events, outlets=[assets.CONTACTS])

    @task(outlets=[assets.CUSTOMER_DAY, assets.FEATURES], depends_on_past=True)  # D's state grows from D-1's
    def build_features(ds: str | None = None, dag_run: Any = None, outlet_events: Any = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import ahead_days, run_job

        outlets = [assets.CUSTOMER_DAY, assets.FEATURES]
        ahead = ahead_days(dag_run)  # a backfill's feature build also builds the validated dates after D
        return run_job("build_features", str(ds), outlet_events=outlet_events, outlets=outlets, ahead=ahead)

    @task(outlets=[assets.SEGMENTS], depends_on_past=True)  # in date order: a period's first date fits its k-means
    def build_segments(ds: str | None = None, dag_run: Any = None, outlet_events: Any = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import ahead_days, run_job

        ahead = ahead_days(dag_run)  # a backfill's segments also cover the dates whose features are built
        return run_job("build_segments", str(ds), outlet_events=outlet_events, outlets=[assets.SEGMENTS], ahead=ahead)

    wait_for_landing = PartitionSensor(task_id="wait_for_landing", condition="landing_complete", **WAIT_ARGS)
    validated = wait_for_landing >> ingest() >> validate_raw()
    validated >> build_features() >> build_segments()
    validated >> snapshot_contacts()


ingest_features()
