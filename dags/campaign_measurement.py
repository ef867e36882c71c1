"""
### campaign_measurement

Daily, for logical date **D** (`{{ ds }}`): every campaign audience whose response window closes
on D (built on D − `response_window_days`) is measured against its control group (and the global
control, when there is one): conversion and revenue per customer, absolute and relative lift with
95 % intervals, P(lift > 0), incremental revenue and return on cost →
`measurement/campaign_lift/dt=D`.

1. **wait_for_orders** — D's raw orders are committed (the daily pipeline validated them).
2. **measure_campaigns** — the lift of every audience whose window closed on D.

Backfilling this DAG re-measures past windows; each date replaces one partition.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from campaignflow.orchestration import assets
from campaignflow.orchestration.dag_defaults import CAMPAIGN_MEASUREMENT, DEFAULT_ARGS, START_DATE, WAIT_ARGS
from campaignflow.orchestration.partition_sensor import PartitionSensor


@dag(
    dag_id=CAMPAIGN_MEASUREMENT,
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["campaignflow", "daily", "measurement"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def campaign_measurement() -> None:
    @task(outlets=[assets.LIFT])
    def measure_campaigns(ds: str | None = None, outlet_events: Any = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return dict(run_job("measure_campaigns", str(ds), outlet_events=outlet_events, outlets=[assets.LIFT]))

    wait_for_orders = PartitionSensor(task_id="wait_for_orders", condition="orders_validated", **WAIT_ARGS)
    wait_for_orders >> measure_campaigns()


campaign_measurement()
