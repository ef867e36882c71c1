"""Benchmark: the orchestration floor of the suite — its DAGs' shape with tasks that do nothing.

python bench/bench_floor.py --backfill-days 30

The three daily DAGs (``ingest_features``, ``train_models``, ``campaign_daily``) are rebuilt in a
temporary DAGs folder with the same ids, task ids, dependencies, ``depends_on_past`` /
``wait_for_downstream``, retries, priorities, mapped export (one per campaign in ``campaigns/``)
and cluster policy (backfills in the backfill pool), but every task returns at once and every
wait is a task that finds its partition at its first check. The same stack as
``bench_orchestration.py`` (scheduler, DAG processor, API server, triggerer, LocalExecutor,
PostgreSQL) then runs one date (``--daily-runs K``: K dates one at a time, their median) and a
backfill of N dates, as that benchmark does. What the backfill takes here is a lower bound for the
real suite's on this machine: Airflow's own cost of that many task instances, whatever the tasks
do. ``backfill_machine_cpu_s`` is the CPU time every process of the machine used from creating the
backfills to Airflow marking them completed (run it on an otherwise idle machine). With
``--task-sleep-s S`` every task sleeps S seconds first (no CPU): the backfill then lasts about as
long as the real one, and what the machine uses is what Airflow's processes spend over that time
(the scheduler loops while runs wait), for comparing its settings.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.airflow_stack import airflow_stack
from bench.bench_orchestration import (
    add_runs_in_flight_arguments,
    backfill,
    cpu_by_kind,
    machine_cpu_seconds,
    machine_label,
    per_dag_runs,
    process_cpu,
    runs_span,
    task_rows,
    task_seconds,
)
from campaignflow.orchestration.dag_defaults import DAILY

ROOT = Path(__file__).resolve().parents[1]

FLOOR_DAGS = '''"""The suite's daily DAGs with tasks that do nothing (bench/bench_floor.py)."""
import time

from airflow.sdk import cross_downstream, dag, task

from campaignflow.orchestration.dag_defaults import DEFAULT_ARGS, INGEST_ARGS, START_DATE

CAMPAIGNS = {campaigns!r}


def nothing(name, **kw):
    @task(task_id=name, **kw)
    def run(ds=None):
        time.sleep({task_sleep_s})
        return {{"dt": ds}}

    return run


@dag(dag_id="ingest_features", schedule="@daily", start_date=START_DATE, catchup=False, max_active_runs=3,
     default_args=INGEST_ARGS)
def ingest_features():
    validated = nothing("wait_for_landing")() >> nothing("ingest")() >> nothing("validate_raw")()
    validated >> nothing("build_features", depends_on_past=True)() >> nothing("build_segments", depends_on_past=True)()
    validated >> nothing("snapshot_contacts", depends_on_past=True)()


@dag(dag_id="train_models", schedule="@daily", start_date=START_DATE, catchup=False, max_active_runs=1,
     default_args=DEFAULT_ARGS)
def train_models():
    wait = nothing("wait_for_orders")()
    wait >> [nothing("train_churn", depends_on_past=True)(), nothing("train_recommender", depends_on_past=True)()]


@dag(dag_id="campaign_daily", schedule="@daily", start_date=START_DATE, catchup=False, max_active_runs=1,
     default_args=DEFAULT_ARGS)
def campaign_daily():
    @task(depends_on_past=True, wait_for_downstream=True)
    def build_audiences(ds=None):
        time.sleep({task_sleep_s})
        return CAMPAIGNS

    @task(map_index_template="{{{{ campaign }}}}")
    def export_audience(campaign, ds=None):
        time.sleep({task_sleep_s})
        return {{"campaign": campaign}}

    waits = [nothing("wait_for_features")(), nothing("wait_for_models")()]
    nothing("validate_campaigns")() >> waits
    models = [nothing("score_customers")(), nothing("recommend_products")()]
    cross_downstream(waits, models)
    audiences = build_audiences()
    models >> audiences
    export_audience.expand(campaign=audiences)


ingest_features()
train_models()
campaign_daily()
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backfill-days", type=int, default=30)
    parser.add_argument(
        "--task-sleep-s",
        type=float,
        default=0.0,
        help="each task sleeps this long (no CPU): a backfill as long as the real one, for the scheduler's loops",
    )
    parser.add_argument(
        "--daily-runs", type=int, default=1, help="dates run one at a time before the backfill (median and spread)"
    )
    add_runs_in_flight_arguments(parser, 3)
    parser.add_argument("--out", type=Path, default=None, help="working folder (default: a temp folder)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting for the stack")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = args.out or Path(tempfile.mkdtemp(prefix="cf-bench-floor-"))
    dags = root / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    campaigns = sorted(p.stem for p in (ROOT / "campaigns").glob("*.yaml"))
    (dags / "floor_suite.py").write_text(FLOOR_DAGS.format(campaigns=campaigns, task_sleep_s=args.task_sleep_s))
    warm = date(2024, 1, 1)
    dailies = [warm + timedelta(days=1 + k) for k in range(args.daily_runs)]
    first = warm + timedelta(days=1 + args.daily_runs)
    last = first + timedelta(days=args.backfill_days - 1)
    result: dict[str, Any] = {"machine": machine_label(), "campaigns": campaigns}
    result["task_sleep_s"] = args.task_sleep_s
    env = {"AIRFLOW__CORE__DAGS_FOLDER": str(dags), **dict(item.split("=", 1) for item in args.set)}
    with airflow_stack(root / "airflow", "LocalExecutor", env) as stack:
        stack.start_dags(DAILY)
        per_dag = per_dag_runs(args.dag_max_active_runs)
        result["warm_up_first_date_s"] = round(backfill(stack, warm, warm, args.max_active_runs, per_dag)[0], 1)
        spans, as_backfill = [], []
        for daily in dailies:
            as_backfill.append(backfill(stack, daily, daily, args.max_active_runs, per_dag)[0])
            began, ended = runs_span(stack, daily)
            spans.append(ended - began)
        rows = task_rows(stack, dailies[-1])
        result["one_daily_run_s"] = round(statistics.median(spans), 2)
        result["one_daily_run_as_backfill_s"] = round(statistics.median(as_backfill), 2)
        if len(spans) > 1:
            result["daily_runs_s"] = [round(s, 2) for s in spans]
        result["one_daily_run_tasks"] = len(rows)
        result["one_daily_run_task_s"] = task_seconds(rows)
        print(json.dumps(result), flush=True)
        if args.backfill_days:
            cpu, processes = machine_cpu_seconds(), process_cpu()
            many, many_marked = backfill(stack, first, last, args.max_active_runs, per_dag)
            result["backfill_machine_cpu_s"] = round(machine_cpu_seconds() - cpu, 1)  # until marked completed
            result["backfill_cpu_s_by_process"] = cpu_by_kind(processes, process_cpu())
            result[f"backfill_{args.backfill_days}_days_s"] = round(many, 1)
            result[f"backfill_{args.backfill_days}_days_marked_completed_s"] = round(many_marked, 1)
            result["task_instances"] = sum(
                len(task_rows(stack, first + timedelta(days=k))) for k in range(args.backfill_days)
            )
    print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
