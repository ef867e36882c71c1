"""``campaignflow``: every job runnable by hand with the same code the DAGs call."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from campaignflow.jobcli import iso_date, setup_logging

JOB_COMMANDS = {  # command → module in jobs/
    "ingest": "ingest",
    "validate-raw": "validate_raw",
    "load-history": "load_history",
    "snapshot-contacts": "snapshot_contacts",
    "build-features": "build_features",
    "train-churn": "train_churn",
    "score-customers": "score_customers",
    "build-audience": "build_audience",
    "export-audience": "export_audience",
}


def _date_range(start: str, end: str | None) -> list[date]:
    first, last = date.fromisoformat(start), date.fromisoformat(end or start)
    if last < first:
        raise SystemExit(f"--to {last} is before --date {first}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def cmd_generate(args: argparse.Namespace) -> dict[str, Any]:
    from tqdm import tqdm

    from campaignflow.io.storage import open_store
    from campaignflow.settings import Settings, join_uri
    from campaignflow.synthetic.generate import ShopSpec, generate_shop

    settings = Settings.from_env()
    out = args.out or settings.landing_uri
    truth = args.truth_out or join_uri(
        str(Path(settings.lake_uri).parent) if "://" not in settings.lake_uri else settings.lake_uri, "truth"
    )
    spec = ShopSpec(
        customers=args.customers,
        days=args.days,
        start=date.fromisoformat(args.start),
        seed=args.seed,
        faults=frozenset(args.faults or ()),
        fault_rate=args.fault_rate,
        fault_dates=frozenset(date.fromisoformat(d) for d in args.fault_dates) if args.fault_dates else None,
    )
    result = generate_shop(
        spec,
        open_store(out, settings.s3_endpoint_url),
        open_store(truth, settings.s3_endpoint_url),
        progress=lambda it: tqdm(it, desc="generate", unit="day"),
    )
    return {
        "landing": out,
        "truth": truth,
        "days": result.days,
        "rows": result.rows,
        "seconds": round(result.seconds, 1),
    }


def cmd_import_orders(args: argparse.Namespace) -> dict[str, Any]:
    from campaignflow.ingest.importer import ColumnMapping, prepare_orders, read_source, write_landing
    from campaignflow.runtime import Runtime
    from jobs import load_history

    rt = Runtime.from_settings()
    path = Path(args.file)
    mapping = ColumnMapping(
        customer_id=args.customer_col,
        order_ts=args.timestamp_col,
        amount=args.amount_col,
        order_id=args.order_id_col,
        currency=args.currency_col,
        product_id=args.product_col,
        quantity=args.quantity_col,
    )
    log = prepare_orders(read_source(path), mapping, str(path))
    landed = write_landing(log, rt.landing)
    loaded = load_history.run(rt, landed["from"], landed["to"])
    return {"file": str(path), **landed, "raw_rows": loaded["raw_rows"], "lake": rt.lake.uri}


def cmd_run(args: argparse.Namespace) -> dict[str, Any]:
    from campaignflow.orchestration.airflow_runner import run_dates
    from campaignflow.reporting import print_summary, summarise
    from campaignflow.runtime import Runtime

    rt = Runtime.from_settings()
    dates = _date_range(args.date, args.to)
    missing = [str(d) for d in dates if not rt.landing.exists(f"dt={d}/_SUCCESS")]
    if missing:
        raise SystemExit(
            f"no landing export in {rt.landing.uri} for {missing}: run `campaignflow generate` "
            "or `campaignflow import-orders` first"
        )
    states = run_dates(dates)
    for day, state in states:
        if state == "success":
            print_summary(summarise(rt, str(day)))
    failed = [(d, s) for d, s in states if s != "success"]
    if failed:
        quarantined = [q for d, _ in failed for q in summarise(rt, str(d))["quarantined"]]
        where = "".join(f"\n  quarantined: {q} (see report.json)" for q in quarantined)
        raise SystemExit(
            f"DAG run failed: {[f'{d}: {s}' for d, s in failed]} (task logs above, or `make airflow`){where}"
        )
    return {"runs": [{"date": str(d), "state": s} for d, s in states]}


def cmd_summary(args: argparse.Namespace) -> dict[str, Any]:
    from campaignflow.reporting import print_summary, summarise
    from campaignflow.runtime import Runtime

    summary = summarise(Runtime.from_settings(), args.date)
    print_summary(summary)
    return summary


def cmd_demo(args: argparse.Namespace) -> dict[str, Any]:
    """Generate a sample shop, load its history, run the last days through Airflow, summarise."""
    start = date.fromisoformat(args.start)
    last = start + timedelta(days=args.days - 1)
    first_run = last - timedelta(days=args.runs - 1)
    gen = cmd_generate(
        argparse.Namespace(
            customers=args.customers,
            days=args.days,
            start=args.start,
            seed=args.seed,
            out=None,
            truth_out=None,
            faults=None,
            fault_rate=0.0,
            fault_dates=None,
        )
    )
    from campaignflow.runtime import Runtime
    from jobs import load_history

    history_end = (first_run - timedelta(days=1)).isoformat()
    loaded = load_history.run(Runtime.from_settings(), None, history_end)
    run = cmd_run(argparse.Namespace(date=first_run.isoformat(), to=last.isoformat()))
    return {"generated": gen, "history": loaded, **run}


def cmd_doctor(args: argparse.Namespace) -> dict[str, Any]:
    """Versions of the moving parts, Java, and where torch would run."""
    from importlib.metadata import version

    from campaignflow.io.spark import java_major_version
    from campaignflow.models.device import torch_device
    from campaignflow.settings import Settings

    report: dict[str, Any] = {"python": sys.version.split()[0], "java_major": java_major_version()}
    for dist in ("apache-airflow", "pyspark", "great-expectations", "lightgbm", "torch", "pandas", "pyarrow", "boto3"):
        report[dist] = version(dist)
    report["torch_device"] = torch_device()
    report["settings"] = vars(Settings.from_env())
    if not report["java_major"] or report["java_major"] < 17:
        raise RuntimeError(f"Spark needs Java 17+, found {report['java_major']}: install openjdk-17-jre-headless")
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="campaignflow", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--json", action="store_true", help="print the command's result as JSON")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser(
        "generate",
        help="generate a sample shop into the landing zone",
        description="Generate a deterministic synthetic shop: one landing partition per day.",
    )
    gen.add_argument("--customers", type=int, default=2000, help="customer base size (default 2000)")
    gen.add_argument("--days", type=int, default=120, help="number of export days (default 120)")
    gen.add_argument("--start", type=iso_date, default="2024-01-01", help="first export day (default 2024-01-01)")
    gen.add_argument("--seed", type=int, default=7, help="random seed (same seed → same bytes)")
    gen.add_argument("--out", help="landing URI (default: $CAMPAIGNFLOW_LANDING or <lake>/landing)")
    gen.add_argument(
        "--truth-out", help="where the latent truth goes (default: <home>/truth); never read by the pipeline"
    )
    gen.add_argument(
        "--faults",
        nargs="*",
        choices=["duplicates", "late_events", "nulls", "malformed"],
        help="inject these data faults",
    )
    gen.add_argument("--fault-rate", type=float, default=0.01, help="share of rows hit by each fault (default 0.01)")
    gen.add_argument("--fault-dates", nargs="*", type=iso_date, help="only inject faults on these days")
    gen.set_defaults(func=cmd_generate)

    imp = sub.add_parser(
        "import-orders",
        help="import your own order log (CSV or Parquet)",
        description="Import a transaction log into landing and raw; nothing is written if any row is bad.",
    )
    imp.add_argument("file", help="CSV or Parquet file with one row per order")
    imp.add_argument("--customer-col", default="customer_id", help="column with the customer id")
    imp.add_argument("--timestamp-col", default="order_ts", help="column with the order timestamp (ISO 8601)")
    imp.add_argument("--amount-col", default="amount", help="column with the order amount")
    imp.add_argument("--order-id-col", help="column with the order id (derived from the row if absent)")
    imp.add_argument("--currency-col", help="column with the currency code")
    imp.add_argument(
        "--product-col", help="column with the product id: each row is then an order line (amount = line total)"
    )
    imp.add_argument("--quantity-col", help="column with the line quantity (with --product-col; default 1)")
    imp.set_defaults(func=cmd_import_orders)

    for command, module_name in JOB_COMMANDS.items():
        module = importlib.import_module(f"jobs.{module_name}")
        doc = (module.__doc__ or "").strip()
        job = sub.add_parser(command, help=doc.splitlines()[0], description=doc)
        module.add_arguments(job)
        job.set_defaults(func=module.run_args)

    run = sub.add_parser(
        "run",
        help="run the daily DAG through Airflow for a date or range",
        description="Run campaign_daily with dag.test() for each date, then print what it produced.",
    )
    run.add_argument("--date", required=True, type=iso_date, help="logical date (YYYY-MM-DD)")
    run.add_argument("--to", type=iso_date, help="last date of a range (inclusive)")
    run.set_defaults(func=cmd_run)

    summary = sub.add_parser(
        "summary",
        help="print what is committed for a date",
        description="Row counts per stage, model metrics, audiences and export files for a date.",
    )
    summary.add_argument("--date", required=True, type=iso_date, help="logical date (YYYY-MM-DD)")
    summary.set_defaults(func=cmd_summary)

    doctor = sub.add_parser(
        "doctor",
        help="check the installation (versions, Java, torch device)",
        description="Print versions of Airflow, Spark, GX, LightGBM, torch; check Java 17; show settings.",
    )
    doctor.set_defaults(func=cmd_doctor)

    demo = sub.add_parser(
        "demo",
        help="generate a shop and run the pipeline for its last days",
        description="Generate a sample shop, load its history, run the last days through Airflow.",
    )
    demo.add_argument("--customers", type=int, default=3000, help="customer base size (default 3000)")
    demo.add_argument("--days", type=int, default=240, help="days of history (default 240)")
    demo.add_argument("--runs", type=int, default=3, help="daily DAG runs at the end (default 3)")
    demo.add_argument("--start", type=iso_date, default="2024-03-01", help="first day (default 2024-03-01)")
    demo.add_argument("--seed", type=int, default=7, help="random seed")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    from campaignflow.ingest.staging import BatchRejected

    started = time.perf_counter()
    try:
        result = args.func(args)
    except BatchRejected as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    logging.getLogger("campaignflow").info("%s finished in %.1fs", args.command, time.perf_counter() - started)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    elif args.command not in ("run", "summary", "demo"):
        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
