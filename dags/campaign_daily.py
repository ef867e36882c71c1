"""
### campaign_daily

Every customer scored as of logical date **D** (`{{ ds }}`), one audience per active campaign
planned, and each published to its destinations.

0. **validate_campaigns** — every campaign spec checked against the columns rules can use, before
   anything else runs (a bad spec fails the run at once).
1. Side by side: **wait_for_features** — D's features, segments and contact snapshot are committed
   (`ingest_features`); **wait_for_models** — both trainings have decided for D (`train_models`),
   so D is scored with the champion of its own time, in a daily run or a backfill alike.
2. **score_customers** — `scores/customer/dt=D`: calibrated churn probability, band, top-3 reasons
   (for buyers at medium or high risk), predicted orders and spend over H, days to the next order,
   RFM tier and cluster; drift (PSI) against the training window in `monitoring/churn_drift/`;
   skipped with the reason, and the audiences and exports with it, while a young shop has no churn
   model yet. **recommend_products** —
   `recommendations/customer/dt=D`, the top 10 products per customer (skipped, saying why, for a
   shop without order lines).
3. **build_audiences** — every active campaign whose schedule includes D, planned in priority
   order (one campaign per customer per day): rule, exclusions, consent and suppression,
   contactability, frequency cap, global control, budget, control split →
   `audiences/<campaign>/dt=D` with its funnel and `_report.png`. Waits for the previous date's
   audiences *and exports* (`wait_for_downstream`): frequency caps count the published contacts of
   the days before, so a backfill running dates side by side plans each day as the daily run did.
4. **export_audience** — one mapped task per planned campaign: each destination's files (email
   tool, Google Customer Match, Meta Custom Audience, Parquet; hashed identifiers only) published
   under `exports/<destination>/<campaign>/dt=D` by a conditional manifest write, `_SUCCESS` last.

Every task replaces exactly one partition per date, so re-runs and backfills are the same thing.
The DAG starts in 1980 with `catchup=False`, so a shop's history from any year since can be
backfilled. Data-quality and other permanent failures fail a task without retries; transient ones
retry with exponential backoff. The run's report (stage counts, data quality, models, segments,
funnels, drift, lift) is the **Campaign report** tab of the run in this UI.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import cross_downstream, dag, task

from campaignflow.orchestration import assets
from campaignflow.orchestration.dag_defaults import CAMPAIGN_DAILY, DEFAULT_ARGS, START_DATE, WAIT_ARGS
from campaignflow.orchestration.partition_sensor import PartitionSensor


@dag(
    dag_id=CAMPAIGN_DAILY,
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["campaignflow", "daily", "campaigns"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def campaign_daily() -> None:
    @task
    def validate_campaigns() -> list[str]:
        from campaignflow.orchestration.tasks import check_campaigns

        return check_campaigns()

    @task(outlets=[assets.SCORES])
    def score_customers(ds: str | None = None, outlet_events: Any = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("score_customers", str(ds), outlet_events=outlet_events, outlets=[assets.SCORES])

    @task(outlets=[assets.RECOMMENDATIONS])
    def recommend_products(ds: str | None = None, outlet_events: Any = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        outlets = [assets.RECOMMENDATIONS]
        return run_job("recommend_products", str(ds), outlet_events=outlet_events, outlets=outlets)

    # waits for D-1's build_audiences and its exports: frequency caps count the published contacts
    @task(outlets=[assets.AUDIENCES], depends_on_past=True, wait_for_downstream=True)
    def build_audiences(ds: str | None = None, outlet_events: Any = None) -> list[str]:
        from campaignflow.orchestration.tasks import run_job

        result = run_job("build_audiences", str(ds), outlet_events=outlet_events, outlets=[assets.AUDIENCES])
        return list(result["campaigns"])

    @task(outlets=[assets.EXPORTS], map_index_template="{{ campaign }}")
    def export_audience(campaign: str, ds: str | None = None, outlet_events: Any = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("export_audience", str(ds), campaign, outlet_events=outlet_events, outlets=[assets.EXPORTS])

    waits = [  # side by side: each poll latency counts once
        PartitionSensor(task_id="wait_for_features", condition="features_built", **WAIT_ARGS),
        PartitionSensor(task_id="wait_for_models", condition="models_settled", **WAIT_ARGS),
    ]
    validate_campaigns() >> waits
    models = [score_customers(), recommend_products()]
    cross_downstream(waits, models)
    audiences = build_audiences()
    models >> audiences
    export_audience.expand(campaign=audiences)


campaign_daily()
