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

from airflow.sdk import PokeReturnValue, dag, task

from campaignflow.orchestration.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    dag_id="campaign_measurement",
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["campaignflow", "daily", "measurement"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def campaign_measurement() -> None:
    @task.sensor(poke_interval=600, timeout=24 * 3600, mode="reschedule")
    def wait_for_orders(ds: str | None = None) -> PokeReturnValue:
        from campaignflow.io import datasets
        from campaignflow.runtime import Runtime

        lake = Runtime.from_settings().lake
        return PokeReturnValue(is_done=lake.is_committed(datasets.raw("orders").at(str(ds))))

    @task
    def measure_campaigns(ds: str | None = None) -> dict[str, Any]:
        from campaignflow.orchestration.tasks import run_job

        return dict(run_job("measure_campaigns", str(ds)))

    wait_for_orders() >> measure_campaigns()


campaign_measurement()
