"""Benchmark: the suite through a real Airflow (scheduler, DAG processor, API server, LocalExecutor,
PostgreSQL) on a generated shop: one daily run, its orchestration overhead, and a backfill of N days.

python bench/bench_orchestration.py --customers 20000 --history-days 365 --backfill-days 30
python bench/bench_orchestration.py ... --dags ingest_features  # a backfill of historical segments alone
python bench/bench_orchestration.py --customers 1000000 --history-days 365 --backfill-days 0 \
    --driver-memory 10g --shuffle-partitions 16 \
    --set CAMPAIGNFLOW_SNAPSHOT_COUNT=2 --set CAMPAIGNFLOW_CHURN_CANDIDATES=churn_lgbm \
    --set AIRFLOW__CORE__PARALLELISM=2 --set AIRFLOW__EXECUTION_API__JWT_EXPIRATION_TIME=3600
    # the million-customer daily run; the warm-up trains on two snapshots with one candidate (the
    # measured date trains nothing, so its work is the same)

Measured per phase (wall time from creating the backfills to every run finished):
- warm-up: the first date (trains the first models);
- one daily run: the next date (no training due), from its first run queued to its last run ended
  (and as a backfill, until Airflow marked the backfills completed), with the share of that time
  during which no task of the three DAGs other than a wait was running (scheduling, queueing,
  the time between a commit and the poll that sees it: the orchestration overhead) and the
  per-task fixed cost (median duration of the near-empty tasks);
- backfill: the following N dates of the three DAGs at once, and its ratio to one daily run
  (skipped with ``--backfill-days 0``).
The generated shop and its loaded history are kept in ``--out`` and reused by a rerun with the
same size (the Airflow database is always fresh).
Needs the local PostgreSQL server (127.0.0.1:5432, trust auth), like the scheduler tests.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.airflow_stack import AirflowStack, airflow_stack, spark_server, task_spark_env
from campaignflow.io.spark_engine import SERVER_CLASS
from campaignflow.io.storage import LocalStore
from campaignflow.orchestration.dag_defaults import CAMPAIGN_DAILY, DAILY, INGEST_FEATURES, TRAIN_MODELS
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings
from campaignflow.synthetic.generate import ShopSpec, generate_shop

CHEAP_TASKS = ("validate_campaigns", "wait_for_landing", "wait_for_orders", "wait_for_features", "wait_for_models")


def backfill(
    stack: AirflowStack,
    first: date,
    last: date,
    max_active_runs: int,
    per_dag: dict[str, int] | None = None,
    dags: tuple[str, ...] = DAILY,
) -> tuple[float, float]:
    """Backfill the DAGs (the three daily ones) over [first, last] at once, each with ``max_active_runs``
    runs in flight (``per_dag`` overrides it for some); seconds from creating the backfills until their
    last run ended, and until Airflow marked every backfill completed (it looks every 30 s)."""
    per_dag = per_dag or {}
    started = time.time()
    # REST, as the UI's form sends it (the CLI's own start-up would be counted otherwise)
    created = {
        dag_id: stack.create_backfill(dag_id, str(first), str(last), "failed", per_dag.get(dag_id, max_active_runs))
        for dag_id in dags
    }
    for backfill_id in created.values():
        stack.wait_for_backfill(backfill_id, timeout=6 * 3600)
    marked = time.time() - started
    runs = [r for dag_id in dags for r in stack.runs(dag_id) if r["run_type"] == "backfill"]
    ours = [r for r in runs if str(first) <= r["logical_date"][:10] <= str(last)]
    failed = [r for r in ours if r["state"] != "success"]
    if failed:
        raise RuntimeError(stack.failures(failed[0]["dag_id"], failed[0]["dag_run_id"]))
    return max(_stamp(r["end_date"]) for r in ours) - started, marked


def per_dag_runs(items: list[str]) -> dict[str, int]:
    """``--dag-max-active-runs DAG=N`` options as {DAG: N}."""
    return {dag: int(n) for dag, n in (item.split("=", 1) for item in items)}


# the DAGs whose partitions each daily DAG waits for
WAITS_ON = {TRAIN_MODELS: (INGEST_FEATURES,), CAMPAIGN_DAILY: (INGEST_FEATURES, TRAIN_MODELS)}


def daily_dags(text: str) -> tuple[str, ...]:
    """``--dags``: comma-separated ids, each one of the daily DAGs, with every DAG it waits for."""
    dags = tuple(d.strip() for d in text.split(",") if d.strip())
    unknown = sorted(set(dags) - set(DAILY))
    if not dags or unknown:
        named = ", ".join(unknown) if unknown else repr(text)
        raise argparse.ArgumentTypeError(f"not a daily DAG: {named} (those: {', '.join(DAILY)})")
    for dag in dags:
        if absent := [up for up in WAITS_ON.get(dag, ()) if up not in dags]:
            them = "them" if len(absent) > 1 else "it"
            raise argparse.ArgumentTypeError(f"{dag} waits for the partitions of {', '.join(absent)}: name {them} too")
    return dags


def add_runs_in_flight_arguments(parser: argparse.ArgumentParser, default: int) -> None:
    """``--max-active-runs`` and ``--dag-max-active-runs``, as both orchestration benchmarks take them."""
    parser.add_argument("--max-active-runs", type=int, default=default, help="each backfill's runs in flight")
    parser.add_argument(
        "--dag-max-active-runs",
        action="append",
        default=[],
        metavar="DAG=N",
        help="runs in flight of one DAG's backfill (e.g. ingest_features=30: ingestion runs ahead)",
    )


def machine_label() -> str:
    """The architecture and the cores this process may use, of the machine's (``taskset`` pins fewer)."""
    return f"{platform.machine()}, {len(os.sched_getaffinity(0))} of {os.cpu_count()} cores"


def machine_cpu_seconds() -> float:
    """CPU-seconds used since boot on the cores this process may run on (Linux ``/proc/stat``; all of
    them unless pinned with ``taskset``), by every process."""
    cores, busy = {f"cpu{c}" for c in os.sched_getaffinity(0)}, 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if name in cores:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
            busy += user + nice + system + irq + softirq + steal
    return busy / os.sysconf("SC_CLK_TCK")


class CpuTrace:
    """Machine CPU-seconds (:func:`machine_cpu_seconds`, or ``read``) sampled every ``interval``
    seconds in a thread while in the ``with`` block, to tell what the machine used between two wall
    times (epoch seconds) that are known only afterwards, such as a run's start and end."""

    def __init__(self, interval: float = 0.5, read: Callable[[], float] = machine_cpu_seconds) -> None:
        self.interval, self.read = interval, read
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.samples.append((time.time(), self.read()))
            if self._stop.wait(self.interval):
                self.samples.append((time.time(), self.read()))
                return

    def __enter__(self) -> CpuTrace:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def between(self, start: float, end: float) -> float:
        """CPU-seconds used from ``start`` to ``end``, interpolated between the samples around them."""
        times, cpu = zip(*self.samples, strict=True)
        return float(np.interp(end, times, cpu) - np.interp(start, times, cpu))


# process kinds by command line, first match wins; a task process's CPU is its executor worker's
# (the worker waits for it), so "executor workers" holds the tasks' own Python
PROCESS_KINDS = (
    ("spark connect server (JVM)", SERVER_CLASS),
    ("postgres", "postgres"),
    ("executor workers and their tasks", "airflow worker"),
    ("scheduler", "airflow scheduler"),
    ("api server", "api_server"),
    ("dag processor", "dag-processor"),
    ("triggerer", "triggerer"),
)


def process_cpu() -> dict[str, tuple[str, float]]:
    """Per live process (``pid:start``): its kind and CPU-seconds, its waited-for children's included."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        out[f"{proc.name}:{fields[19]}"] = (process_kind(cmd), sum(int(v) for v in fields[11:15]) / tick)
    return out


def process_kind(cmd: str) -> str:
    """The kind of a process with command line ``cmd`` (:data:`PROCESS_KINDS`; ``other`` when none)."""
    return next((kind for kind, needle in PROCESS_KINDS if needle in cmd), "other")


def cpu_by_kind(before: dict[str, tuple[str, float]], after: dict[str, tuple[str, float]]) -> dict[str, float]:
    """CPU-seconds per process kind between two :func:`process_cpu` snapshots (largest first)."""
    totals: dict[str, float] = {}
    for key, (kind, cpu) in after.items():
        totals[kind] = totals.get(kind, 0.0) + cpu - (before[key][1] if key in before else 0.0)
    return {k: round(v, 1) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def built_ahead_batches(stack: AirflowStack, days: list[date]) -> list[int]:
    """How many dates each backfill run's ``build_features`` built ahead (runs that built some)."""
    sizes = []
    for run in (next(r for r in stack.runs(INGEST_FEATURES) if r["logical_date"].startswith(str(d))) for d in days):
        task = f"dags/{INGEST_FEATURES}/dagRuns/{run['dag_run_id']}/taskInstances/build_features"
        value = stack.api("GET", f"{task}/xcomEntries/return_value?deserialize=true&stringify=false")["value"]
        ahead = (json.loads(value) if isinstance(value, str) else value).get("built_ahead") or []
        if ahead:
            sizes.append(len(ahead))
    return sizes


def _stamp(value: str) -> float:
    """Epoch seconds of an ISO timestamp from the REST API."""
    return datetime.fromisoformat(value).timestamp()


def day_runs(stack: AirflowStack, day: date, dags: tuple[str, ...] = DAILY) -> list[dict[str, Any]]:
    return [next(r for r in stack.runs(dag_id) if r["logical_date"].startswith(str(day))) for dag_id in dags]


def task_rows(stack: AirflowStack, day: date, dags: tuple[str, ...] = DAILY) -> list[dict[str, Any]]:
    return [ti for run in day_runs(stack, day, dags) for ti in stack.task_instances(run["dag_id"], run["dag_run_id"])]


def runs_span(stack: AirflowStack, day: date, dags: tuple[str, ...] = DAILY) -> tuple[float, float]:
    """From the first of the date's runs being queued to the last one ending (epoch seconds): what a
    scheduled daily run takes, without the backfill's own bookkeeping."""
    runs = day_runs(stack, day, dags)
    return min(_stamp(r["queued_at"]) for r in runs), max(_stamp(r["end_date"]) for r in runs)


def task_seconds(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds per task (``dag.task``; a mapped task's instances summed), longest first."""
    out: dict[str, float] = {}
    for r in rows:
        key = f"{r['dag_id']}.{r['task_id']}"
        out[key] = out.get(key, 0.0) + (r.get("duration") or 0.0)
    return {k: round(v, 1) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


# what each wait's partition is committed by: (DAG, the tasks whose commits complete it)
COMMITTED_BY = {
    "wait_for_features": ("ingest_features", ("build_features", "build_segments", "snapshot_contacts")),
    "wait_for_models": ("train_models", ("train_churn", "train_recommender")),
    "wait_for_orders": ("ingest_features", ("validate_raw",)),
}


def handoffs(stack: AirflowStack, rows: list[dict[str, Any]]) -> list[float]:
    """Seconds from a task's last upstream ending to its start, for every task of the rows that has an
    upstream in its run (the scheduler's loop, queueing and a worker process starting)."""
    upstream: dict[tuple[str, str], set[str]] = {}
    for dag_id in {r["dag_id"] for r in rows}:
        for task in stack.api("GET", f"dags/{dag_id}/tasks")["tasks"]:
            for down in task["downstream_task_ids"]:
                upstream.setdefault((dag_id, down), set()).add(task["task_id"])
    ended: dict[tuple[str, str], float] = {}
    for r in rows:
        if r.get("end_date"):
            key = (r["dag_id"], r["task_id"])
            ended[key] = max(ended.get(key, 0.0), _stamp(r["end_date"]))
    gaps = []
    for r in rows:
        ups = [ended.get((r["dag_id"], u)) for u in upstream.get((r["dag_id"], r["task_id"]), ())]
        if ups and all(ups) and r.get("start_date"):
            gaps.append(_stamp(r["start_date"]) - max(u for u in ups if u))
    return gaps


def wait_latencies(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Per wait: seconds from the commit it waits for (its committing tasks' last end) to the wait ending."""
    ended = {(r["dag_id"], r["task_id"]): _stamp(r["end_date"]) for r in rows if r.get("end_date")}
    out = {}
    for r in rows:
        if r["task_id"] in COMMITTED_BY and r.get("end_date"):
            dag_id, tasks = COMMITTED_BY[r["task_id"]]
            commits = [ended[(dag_id, t)] for t in tasks if (dag_id, t) in ended]
            if commits:
                out[f"{r['dag_id']}.{r['task_id']}"] = round(max(0.0, _stamp(r["end_date"]) - max(commits)), 1)
    return out


def idle_share(rows: list[dict[str, Any]], wall_start: float, wall_end: float) -> float:
    """Share of [wall_start, wall_end] (epoch seconds) in which no task other than a wait was running.

    Waits are left out: a wait's span runs from its deferral to the poll that sees its partition, so
    it would hide the time between a partition's commit and that poll, which is overhead."""
    spans = sorted(
        (_stamp(r["start_date"]), _stamp(r["end_date"]))
        for r in rows
        if r.get("start_date") and r.get("end_date") and not r["task_id"].startswith("wait_for_")
    )
    covered, cursor = 0.0, wall_start
    for start, end in spans:
        start, end = max(start, cursor), min(end, wall_end)
        if end > start:
            covered += end - start
            cursor = end
    return 1 - covered / (wall_end - wall_start)


def timeline(rows: list[dict[str, Any]], began: float, dated: bool = False) -> list[str]:
    """Each task instance of the rows as ``start–end task`` (seconds after ``began``; ``dated``:
    ``task@date``), by start."""
    spans = sorted(
        (
            _stamp(r["start_date"]) - began,
            _stamp(r["end_date"]) - began,
            f"{r['dag_id']}.{r['task_id']}" + (f"@{str(r.get('logical_date'))[:10]}" if dated else ""),
        )
        for r in rows
        if r.get("start_date") and r.get("end_date")
    )
    return [f"{start:6.1f}–{end:6.1f} {name}" for start, end, name in spans]


def warmed_up(rt: Runtime, day: date) -> bool:
    """The date's features and training decisions are committed (a first run of the next date can follow)."""
    from campaignflow.orchestration.waits import features_built, models_settled

    return features_built(str(day), rt) and models_settled(str(day), rt)


def forget_after(roots: list[Path], day: date) -> int:
    """Remove every partition (``dt=...`` folder) dated after ``day`` under the roots, so the dates
    after a reused warm-up are built again, not found committed; how many were removed."""
    later = [p for r in roots for p in r.rglob("dt=*") if p.is_dir() and p.name[3:] > str(day)]
    for path in later:
        shutil.rmtree(path, ignore_errors=True)
    return len(later)


def prepare(root: Path, customers: int, start: date, days: int, warm: date) -> dict[str, float]:
    """Generate the shop into landing and load its history before ``warm`` into raw; the seconds of each."""
    from jobs import load_history

    rt = Runtime.from_settings(Settings.under(root))
    t = time.perf_counter()
    generate_shop(ShopSpec(customers=customers, days=days, start=start), rt.landing, LocalStore(root / "truth"))
    generated = time.perf_counter() - t
    t = time.perf_counter()
    load_history.run(rt, None, str(warm - timedelta(days=1)))
    return {"generate_s": round(generated, 1), "load_history_s": round(time.perf_counter() - t, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--backfill-days", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="working folder (default: a temp folder)")
    parser.add_argument("--driver-memory", default="2g", help="Spark driver memory of the Connect server")
    parser.add_argument("--shuffle-partitions", type=int, default=4)
    add_runs_in_flight_arguments(parser, 3)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for the tasks or the stack (e.g. CAMPAIGNFLOW_SNAPSHOT_COUNT=2, AIRFLOW__CORE__PARALLELISM=2)",
    )
    parser.add_argument(
        "--dags",
        type=daily_dags,
        default=DAILY,
        help="the DAGs warmed up, run and backfilled, comma-separated (ingest_features alone: a backfill of "
        "historical segments)",
    )
    parser.add_argument(
        "--reuse-warm-up",
        action="store_true",
        help="skip the warm-up date when an earlier run in --out left its outputs (to compare Airflow settings)",
    )
    args = parser.parse_args()
    per_dag = per_dag_runs(args.dag_max_active_runs)
    dags: tuple[str, ...] = args.dags
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped benchmark still stops its stack
    root = args.out or Path(tempfile.mkdtemp(prefix="cf-bench-orch-"))
    start = date(2023, 1, 1)
    warm = start + timedelta(days=args.history_days)
    daily, first, last = (
        warm + timedelta(days=1),
        warm + timedelta(days=2),
        warm + timedelta(days=1 + args.backfill_days),
    )
    total_days = (last - start).days + 1
    rt = Runtime.from_settings(Settings.under(root))
    result: dict[str, Any] = {
        "machine": machine_label(),
        "customers": args.customers,
        "history_days": args.history_days,
    }
    prepared = root / f"prepared-{args.customers}-{total_days}.json"
    if not prepared.exists():  # in a child process: what it held goes back before the stack starts
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            timings = pool.submit(prepare, root, args.customers, start, total_days, warm).result()
        prepared.write_text(json.dumps(timings))
    result.update(json.loads(prepared.read_text()))
    print(json.dumps(result), flush=True)
    env = {
        "CAMPAIGNFLOW_LAKE": rt.settings.lake_uri,
        "CAMPAIGNFLOW_LANDING": rt.settings.landing_uri,
        "CAMPAIGNFLOW_EXPORTS": rt.settings.exports_uri,
        "CAMPAIGNFLOW_CAMPAIGNS_DIR": str(Path(__file__).resolve().parents[1] / "campaigns"),
        **task_spark_env(root / "home"),  # the waits poll as deployed (the defaults)
        "CAMPAIGNFLOW_SPARK_DRIVER_MEMORY": args.driver_memory,
        "CAMPAIGNFLOW_SHUFFLE_PARTITIONS": str(args.shuffle_partitions),
        **dict(item.split("=", 1) for item in args.set),
    }
    if args.set:
        result["settings"] = args.set
    if per_dag:
        result["dag_max_active_runs"] = per_dag
    if dags != DAILY:
        result["dags"] = list(dags)
    try:
        with airflow_stack(root / "airflow", "LocalExecutor", env) as stack:
            stack.start_dags(dags)
            if args.reuse_warm_up and warmed_up(rt, warm):
                removed = forget_after([root / "lake", root / "exports"], warm)
                result["warm_up"] = f"reused {warm}'s outputs; {removed} later partitions removed first"
                spark_server("start", env)  # as a warm-up leaves it: the measured run does not start it
            else:
                warm_up_s = backfill(stack, warm, warm, args.max_active_runs, per_dag, dags)[0]
                result["warm_up_first_date_s"] = round(warm_up_s, 1)
                result["warm_up_task_s"] = task_seconds(task_rows(stack, warm, dags))
            print(json.dumps(result), flush=True)
            with CpuTrace() as cpu:
                one, one_marked = backfill(stack, daily, daily, args.max_active_runs, per_dag, dags)
            rows = task_rows(stack, daily, dags)
            began, ended = runs_span(stack, daily, dags)
            result["one_daily_run_machine_cpu_s"] = round(cpu.between(began, ended), 1)
            result["one_daily_run_s"] = round(ended - began, 1)
            result["one_daily_run_as_backfill_s"] = round(one, 1)  # created → its last run ended
            result["one_daily_run_as_backfill_marked_completed_s"] = round(one_marked, 1)
            result["one_daily_run_tasks"] = len(rows)
            result["orchestration_idle_share"] = round(idle_share(rows, began, ended), 3)
            cheap = [r["duration"] for r in rows if r["task_id"] in CHEAP_TASKS and r.get("duration")]
            result["cheap_task_median_s"] = round(statistics.median(cheap), 1) if cheap else None
            result["task_seconds_sum"] = round(sum(r.get("duration") or 0 for r in rows), 1)
            gaps = handoffs(stack, rows)
            result["handoff_median_s"] = round(statistics.median(gaps), 2) if gaps else None
            result["handoffs"] = len(gaps)
            result["wait_latency_s"] = wait_latencies(rows)
            result["one_daily_run_task_s"] = task_seconds(rows)
            result["one_daily_run_timeline"] = timeline(rows, began)
            print(json.dumps(result), flush=True)
            if args.backfill_days:
                processes_before = process_cpu()
                with CpuTrace() as cpu:
                    created = time.time()
                    many, many_marked = backfill(stack, first, last, args.max_active_runs, per_dag, dags)
                # the machine's over the backfill's own span, as the daily run's; by process until marked
                result["backfill_machine_cpu_s"] = round(cpu.between(created, created + many), 1)
                result["backfill_machine_cpu_s_until_marked"] = round(cpu.between(created, created + many_marked), 1)
                result["backfill_cpu_s_by_process"] = cpu_by_kind(processes_before, process_cpu())
                days = [first + timedelta(days=k) for k in range(args.backfill_days)]
                backfill_rows = [row for day in days for row in task_rows(stack, day, dags)]
                result["backfill_task_s"] = task_seconds(backfill_rows)
                first_start = min(_stamp(r["start_date"]) for r in backfill_rows if r.get("start_date"))
                lines = timeline(backfill_rows, first_start, dated=True)
                (root / "backfill_timeline.txt").write_text("\n".join(lines) + "\n")
                result["backfill_timeline"] = str(root / "backfill_timeline.txt")
                try:
                    if INGEST_FEATURES in dags:
                        result["built_ahead_batches"] = built_ahead_batches(stack, days)
                except (OSError, KeyError, ValueError) as err:  # an XCom the API would not give: keep the rest
                    result["built_ahead_batches"] = f"unavailable: {err!r}"
                result[f"backfill_{args.backfill_days}_days_s"] = round(many, 1)
                result[f"backfill_{args.backfill_days}_days_marked_completed_s"] = round(many_marked, 1)
                result["backfill_vs_one_daily_run"] = round(many / one, 2)  # both as backfills, to the last run's end
                result["backfill_vs_daily_run_itself"] = round(many / (ended - began), 2)  # first queued → last ended
    finally:
        spark_server("stop", env)
    print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
