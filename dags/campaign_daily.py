"""
### campaign_daily

The nightly campaign pipeline for logical date **D** (`{{ ds }}`):

0. **validate_campaigns** — every campaign spec checked against the columns rules can use, before
   anything else runs (a bad spec fails the run at once).
1. **wait_for_landing** — the shop's export for D has arrived (`landing/dt=D/_SUCCESS`).
2. **ingest** — each landing CSV typed into `staging/<table>/dt=D` (unreadable values reject the batch).
3. **validate_raw** — Great Expectations suites; pass → `raw/<table>/dt=D`, fail → `quarantine/`
   with a report naming file, column, rule and lines. Nothing downstream runs on a failed batch.
4. **build_features** — Spark, point in time and incremental: day D's raw data aggregated into
   `daily/customer_day/dt=D`, the feature state of D-1 moved to D (`state/customer_features/dt=D`;
   rebuilt from the daily aggregates after a gap or late data), then `features/customer/dt=D`,
   validated before commit. Alongside it **snapshot_contacts** rolls each customer's current
   contact/consent record forward to `dims/contacts/dt=D`.
5. **build_segments** — RFM tiers and k-means clusters as of D (`segments/customer/dt=D`);
   **train_churn** — weekly (`CAMPAIGNFLOW_RETRAIN_DAYS`): churn candidates (LightGBM, torch MLP on
   a GPU when present) and the value model on rolling snapshots (features as of T, labels in
   `labels/churn_h{H}/dt=T`), judged on the newest snapshot; the champion changes only when a
   challenger beats it by the promotion margin (`registry/churn_champion/`). A backtest of the
   scores published H days ago goes to `monitoring/churn_backtest/`.
   **train_recommender** — weekly: the product recommender (torch, on a GPU when present) trained
   on order lines and events before T = D − 28 d and judged against popularity, buy-again and
   co-occurrence on what was bought in (T, D]; promoted only if its NDCG@10 beats the champion's
   (`registry/recommender_champion/`). **recommend_products** — `recommendations/customer/dt=D`,
   the top 10 products per customer. A shop without order lines skips both, saying why.
6. **score_customers** — `scores/customer/dt=D`: calibrated churn probability, band, top-3 reasons,
   predicted orders and spend over H, days to the next order, RFM tier and cluster; drift (PSI)
   against the training window in `monitoring/churn_drift/`.
7. **build_audiences** — every active campaign whose schedule includes D, planned in priority
   order (one campaign per customer per day): rule, exclusions, consent and suppression,
   contactability, frequency cap, global control, budget, control split →
   `audiences/<campaign>/dt=D` with its funnel and `_report.png`.
   **export_audience** — one mapped task per planned campaign: each destination's files (email
   tool, Google Customer Match, Meta Custom Audience, Parquet; hashed identifiers only) published
   under `exports/<destination>/<campaign>/dt=D` by a conditional manifest write, `_SUCCESS` last.

Every task replaces exactly one partition per date, so re-runs and backfills are the same thing.
The DAG starts in 1980 with `catchup=False`, so a shop's history from any year since can be
backfilled and no earlier logical date exists to be silently skipped. Data-quality and other
permanent failures fail a task without retries; transient ones retry with exponential backoff.
Settings (lake location, churn horizon) come from `CAMPAIGNFLOW_*` environment variables.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import PokeReturnValue, dag, task

from campaignflow.orchestration.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    dag_id="campaign_daily",
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

    @task.sensor(poke_interval=300, timeout=6 * 3600, mode="reschedule")
    def wait_for_landing(ds: str | None = None) -> PokeReturnValue:
        from campaignflow.io import landing
        from campaignflow.runtime import Runtime

        return PokeReturnValue(is_done=landing.is_complete(Runtime.from_settings().landing, str(ds)))

    @task
    def ingest(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("ingest", str(ds))

    @task
    def validate_raw(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("validate_raw", str(ds))

    @task
    def snapshot_contacts(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("snapshot_contacts", str(ds))

    @task
    def build_features(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("build_features", str(ds))

    @task
    def build_segments(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("build_segments", str(ds))

    @task
    def train_churn(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("train_churn", str(ds))

    @task
    def train_recommender(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("train_recommender", str(ds))

    @task
    def recommend_products(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("recommend_products", str(ds))

    @task
    def score_customers(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("score_customers", str(ds))

    @task
    def build_audiences(ds: str | None = None) -> list[str]:
        from campaignflow.orchestration.tasks import run_job

        return list(run_job("build_audiences", str(ds))["campaigns"])

    @task(map_index_template="{{ campaign }}")
    def export_audience(campaign: str, ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return run_job("export_audience", str(ds), campaign)

    validated = validate_campaigns() >> wait_for_landing() >> ingest() >> validate_raw()
    features = validated >> build_features()
    scored = features >> [build_segments(), train_churn()] >> score_customers()
    recommended = features >> train_recommender() >> recommend_products()
    contacts = validated >> snapshot_contacts()
    audiences = build_audiences()
    [scored, recommended, contacts] >> audiences
    export_audience.expand(campaign=audiences)


campaign_daily()
