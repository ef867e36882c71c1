"""``campaignflow``: every job runnable by hand with the same code the DAGs call."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from campaignflow.errors import CampaignflowError, ConfigError, DateOutOfRange, MissingOutputs, StepSkipped
from campaignflow.jobcli import exit_code, iso_date, setup_logging
from campaignflow.settings import CHURN_CANDIDATES, RECOMMENDER_CANDIDATES

QUIET_COMMANDS = ("run", "demo")  # long commands: framework logs go to a file, progress to the terminal

JOB_COMMANDS = {  # command → module in jobs/
    "ingest": "ingest",
    "validate-raw": "validate_raw",
    "load-history": "load_history",
    "snapshot-contacts": "snapshot_contacts",
    "build-features": "build_features",
    "build-segments": "build_segments",
    "build-labels": "build_labels",
    "train-churn": "train_churn",
    "score-customers": "score_customers",
    "train-recommender": "train_recommender",
    "recommend-products": "recommend_products",
    "build-audiences": "build_audiences",
    "export-audience": "export_audience",
    "measure-campaigns": "measure_campaigns",
}


def _date_range(start: str, end: str | None) -> list[date]:
    first, last = date.fromisoformat(start), date.fromisoformat(end or start)
    if last < first:
        raise ConfigError(f"--to {last} is before --date {first}")
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
        progress=lambda it: tqdm(it, desc="generate", unit="day", file=_console(args)),
    )
    return {
        "landing": out,
        "truth": truth,
        "days": result.days,
        "rows": result.rows,
        "seconds": round(result.seconds, 1),
    }


def cmd_import_orders(args: argparse.Namespace) -> dict[str, Any]:
    from campaignflow.ingest.importer import ColumnMapping, ImportOptions
    from campaignflow.ingest.onboard import import_orders
    from campaignflow.ingest.reader import CsvOptions

    amount = args.amount_col if args.amount_col != "amount" or not args.unit_price_col else None
    mapping = ColumnMapping(
        customer_id=args.customer_col,
        order_ts=args.timestamp_col,
        amount=amount,
        order_id=args.order_id_col,
        currency=args.currency_col,
        product_id=args.product_col,
        quantity=args.quantity_col,
        unit_price=args.unit_price_col,
    )
    options = ImportOptions(
        csv=CsvOptions(encoding=args.encoding, delimiter=args.delimiter),
        decimal_comma=args.decimal_comma,
        timezone=args.timezone,
        timestamp_format=args.timestamp_format,
        return_prefix=args.return_prefix,
        non_merchandise=frozenset(c.strip() for c in (args.non_merchandise or "").split(",") if c.strip()),
    )
    rt, load_days = _importing()
    return import_orders(rt, Path(args.file), mapping, options, args.mode, load_days)


def cmd_import_table(args: argparse.Namespace) -> dict[str, Any]:
    from campaignflow.ingest.importer import ImportOptions
    from campaignflow.ingest.mapping import load_mapping
    from campaignflow.ingest.onboard import import_shop, import_table
    from campaignflow.ingest.reader import CsvOptions

    rt, load_days = _importing()
    if args.shop:
        if args.table or args.col:
            raise ConfigError("with --shop, the mapping names the tables and columns (use --file TABLE=PATH)")
        files = dict(_field_mapping(f, "--file", "orders=exports/2024-06-30/orders.csv") for f in args.file or ())
        return import_shop(rt, Path(args.shop), load_mapping(Path(args.shop)), files, args.mode, load_days)
    if not args.table or not args.path:
        raise ConfigError("name a table and its file (campaignflow import customers FILE), or --shop shop.yaml")
    columns = dict(_field_mapping(c, "--col", "email=EmailAddress") for c in args.col or ())
    options = ImportOptions(
        csv=CsvOptions(encoding=args.encoding, delimiter=args.delimiter),
        timezone=args.timezone,
        timestamp_format=args.timestamp_format,
    )
    return import_table(rt, args.table, Path(args.path), columns, options, args.country, args.mode, load_days)


def _importing() -> tuple[Any, Any]:
    """The runtime and the load-history job's loader of landed days, for the import commands."""
    from campaignflow.runtime import Runtime
    from jobs import load_history

    rt = Runtime.from_settings()
    return rt, lambda first, last: load_history.run(rt, first, last)


def _field_mapping(text: str, option: str, example: str) -> tuple[str, str]:
    name, sep, source = text.partition("=")
    if not sep or not name or not source:
        raise ConfigError(f"{option} {text!r}: write it as name=value, e.g. {option} {example}")
    return name.strip(), source.strip()


def cmd_run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the daily DAG per date; a date counts as done only when all its outputs are committed."""
    from tqdm import tqdm

    from campaignflow.campaigns.spec import load_campaigns
    from campaignflow.io import landing
    from campaignflow.orchestration.airflow_runner import check_processable, run_dates
    from campaignflow.reporting import format_summary, missing_outputs, summarise
    from campaignflow.runtime import Runtime

    rt = Runtime.from_settings()
    console = _console(args)
    dates = _date_range(args.date, args.to)
    check_processable(dates)
    load_campaigns(rt.settings.campaigns_dir)  # a bad spec stops here, before any task runs
    absent = [str(d) for d in dates if not landing.is_complete(rt.landing, str(d))]
    if absent:
        landed = landing.complete_dates(rt.landing)
        span = f"landed days: {landed[0]} … {landed[-1]}" if landed else "nothing has landed"
        raise DateOutOfRange(
            f"no complete landing export in {rt.landing.uri} for {absent[0]}"
            + (f" … {absent[-1]} ({len(absent)} days)" if len(absent) > 1 else "")
            + f"; {span}",
            remedy="run `campaignflow generate` or `campaignflow import-orders`, or pick a landed date",
        )
    bar = tqdm(total=len(dates), desc="daily runs", unit="day", file=console)
    runs = []
    for day, state in run_dates(dates, on_done=lambda d, s: bar.update(1)):
        missing = missing_outputs(rt, str(day)) if state == "success" else []
        runs.append({"date": str(day), "state": state, "missing": [e.uri for e in missing]})
        summary = summarise(rt, str(day))
        console.write("\n" + format_summary(summary) + "\n")
        if state != "success":
            where = "".join(f"\n  quarantined: {q} (see _report.json)" for q in summary["quarantined"])
            raise MissingOutputs(f"the DAG run for {day} ended {state}{where}", remedy=_logs_remedy(args))
        if missing:
            names = "\n  ".join(f"{e.stage}: {e.uri}" for e in missing)
            raise MissingOutputs(f"the DAG run for {day} succeeded but did not commit:\n  {names}")
    bar.close()
    return {"runs": runs}


def cmd_summary(args: argparse.Namespace) -> dict[str, Any]:
    from campaignflow.reporting import format_summary, summarise
    from campaignflow.runtime import Runtime

    summary = summarise(Runtime.from_settings(), args.date)
    _console(args).write(format_summary(summary) + "\n")
    if summary["missing"]:
        raise MissingOutputs(
            f"{args.date} is incomplete: {len(summary['missing'])} expected partition(s) are not committed",
            remedy=f"run the date: campaignflow run --date {args.date}",
        )
    return summary


def cmd_features_catalogue(args: argparse.Namespace) -> dict[str, Any]:
    from campaignflow.features.catalogue import CATALOGUE, markdown

    _console(args).write(markdown())
    return {"features": len(CATALOGUE)}


def cmd_data_contract(args: argparse.Namespace) -> dict[str, Any]:
    from campaignflow.ingest.contract import markdown
    from campaignflow.ingest.schemas import TABLES

    _console(args).write(markdown())
    return {"tables": len(TABLES)}


def cmd_spark(args: argparse.Namespace) -> dict[str, Any]:
    from campaignflow.io.spark_engine import (
        CONNECT_PORT_ENV,
        DEFAULT_CONNECT_PORT,
        ensure_local_server,
        port_open,
        serve,
        server_home,
        stop_local_server,
    )

    port = int(os.environ.get(CONNECT_PORT_ENV, DEFAULT_CONNECT_PORT))
    home = server_home(dict(os.environ))
    if args.action == "serve":
        serve(port, args.host)
    if args.action == "start":
        url = ensure_local_server(home, port)
        return {"running": True, "url": url, "log": str(home / f"server-{port}.log")}
    if args.action == "stop":
        return {"stopped": stop_local_server(home, port)}
    return {"running": port_open(port), "url": f"sc://127.0.0.1:{port}"}


def cmd_models(args: argparse.Namespace) -> dict[str, Any]:
    from campaignflow.io.lake import Lake
    from campaignflow.models import registry
    from campaignflow.settings import Settings

    s = Settings.from_env()
    lake = Lake.from_uri(s.lake_uri, s.s3_endpoint_url)
    if args.action == "list":
        return registry.listing(lake, args.task)
    if not args.date:
        raise ConfigError(f"models {args.action} needs --date (the first date the change applies to)")
    if args.action == "rollback":
        pointer = registry.rollback(lake, args.date, args.task)
    else:
        if not (args.model and args.version):
            raise ConfigError("models promote needs --model and --version (campaignflow models list shows them)")
        pointer = registry.set_champion(lake, args.date, args.model, args.version, "promoted by hand")
    from dataclasses import asdict

    return asdict(pointer)


def cmd_campaigns(args: argparse.Namespace) -> dict[str, Any]:
    """``campaigns validate``: every problem of every spec; ``campaigns list``: the plan order."""
    from campaignflow.campaigns.spec import by_priority, load_campaigns
    from campaignflow.settings import Settings

    folder = args.folder or Settings.from_env().campaigns_dir
    specs = load_campaigns(folder, active_only=False)
    if args.action == "lift":
        return _lift_history(args.campaign)
    return {
        "folder": str(folder),
        "campaigns": {
            s.name: {"active": s.active, "priority": s.priority, "owner": s.owner, "cadence": s.schedule.cadence}
            for s in by_priority(specs)
        },
    }


def _lift_history(campaign: str | None) -> dict[str, Any]:
    """Every measured lift so far (``measurement/campaign_lift``), per campaign, oldest first."""
    from campaignflow.io import datasets
    from campaignflow.runtime import Runtime

    frame = Runtime.from_settings().lake.read_range(datasets.CAMPAIGN_LIFT)
    if frame is None or frame.empty:
        return {"lift": {}, "note": "nothing measured yet: measure-campaigns runs when a response window closes"}
    if campaign:
        frame = frame[frame["campaign"] == campaign]
    keep = ["audience_dt", "compared_with", "treatment", "control", "lift", "lift_low", "lift_high"]
    keep += ["p_lift_positive", "revenue_lift", "incremental_revenue", "return_on_cost"]
    by_campaign = {
        name: group.sort_values("audience_dt")[keep].to_dict("records") for name, group in frame.groupby("campaign")
    }
    return {"lift": by_campaign}


def cmd_suppression(args: argparse.Namespace) -> dict[str, Any]:
    """``suppression import NAME FILE``: hash a list of emails/phones into the lake as of --date."""
    from campaignflow.campaigns.suppression import import_list
    from campaignflow.ingest.importer import read_source
    from campaignflow.ingest.reader import CsvOptions
    from campaignflow.ingest.schemas import ROW_COLUMN
    from campaignflow.runtime import Runtime

    rt = Runtime.from_settings()
    frame = read_source(Path(args.file), CsvOptions(encoding=args.encoding)).drop(columns=ROW_COLUMN)
    kept = import_list(rt.lake, args.name, frame, args.date, str(args.file))
    return {"list": args.name, "as_of": args.date, "identifiers": kept, "read": len(frame)}


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
            console=_console(args),
        )
    )
    from tqdm import tqdm

    from campaignflow.runtime import Runtime
    from jobs import load_history

    history_end = (first_run - timedelta(days=1)).isoformat()
    loaded = load_history.run(
        Runtime.from_settings(),
        None,
        history_end,
        progress=lambda it: tqdm(it, desc="load history", unit="day", file=_console(args)),
    )
    run = cmd_run(
        argparse.Namespace(date=first_run.isoformat(), to=last.isoformat(), console=_console(args), log=args.log)
    )
    return {"generated": gen, "history": loaded, **run}


def cmd_airflow_init(args: argparse.Namespace) -> dict[str, Any]:
    """Migrate Airflow's metadata DB and create the backfill pool (the environment names the DB)."""
    from campaignflow.orchestration.airflow_runner import configure_airflow_env, migrate_db
    from campaignflow.orchestration.policy import BACKFILL_POOL

    configure_airflow_env()
    migrate_db()
    return {"airflow_home": os.environ["AIRFLOW_HOME"], "pool": BACKFILL_POOL}


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
    imp.add_argument(
        "--unit-price-col",
        help="column with the unit price: with --quantity-col and no amount, line total = qty × price",
    )
    imp.add_argument(
        "--mode",
        choices=["refuse", "merge", "replace"],
        default="refuse",
        help="days already landed: refuse (default), merge (add orders not landed yet) or replace them",
    )
    imp.add_argument("--encoding", help="text encoding (default: UTF-8, or UTF-16 with a BOM), e.g. latin-1, cp1252")
    imp.add_argument("--delimiter", help="field separator (default: detected from the header: , ; tab |)")
    imp.add_argument("--decimal-comma", action="store_true", help="amounts are written 1.234,56 (decimal comma)")
    imp.add_argument("--timezone", help="time zone of timestamps without an offset, e.g. Europe/Berlin (default UTC)")
    imp.add_argument(
        "--timestamp-format",
        default="auto",
        help="how timestamps are written: auto (ISO 8601, or local dates such as 11/1/2000 whose day/month "
        "order the values show), epoch_s, epoch_ms, excel, or a strftime pattern such as '%%d.%%m.%%Y %%H:%%M'",
    )
    imp.add_argument("--return-prefix", help="order ids starting with this are cancellations/returns (e.g. C)")
    imp.add_argument(
        "--non-merchandise",
        help="comma-separated product codes that are not products (postage, fees, discounts), e.g. POST,M,D",
    )
    imp.set_defaults(func=cmd_import_orders)

    table = sub.add_parser(
        "import",
        help="import a whole shop from its mapping file, or its customers (contacts, consent) or catalogue",
        description=(
            "campaignflow import --shop shop.yaml imports every table the shop mapping names, orders first "
            "(nightly: --file orders=new.csv --mode merge). campaignflow import customers|products FILE imports "
            "one file onto the landed history (records land on the days of the history). Fields: "
            "customers: customer_id, email, phone, country, signup_ts, "
            "marketing_consent, unsubscribed, updated_ts, consent_ts, unsubscribed_ts; products: product_id, "
            "category, price, updated_ts. A column named like its field needs no --col. Nothing is written "
            "if any row is bad. See docs/data-contract.md."
        ),
    )
    table.add_argument("table", nargs="?", choices=["customers", "products"], help="the table (without --shop)")
    table.add_argument("path", nargs="?", metavar="file", help="CSV or Parquet file (without --shop)")
    table.add_argument("--shop", help="a shop mapping file (shop.yaml): import every table it names, orders first")
    table.add_argument(
        "--file", action="append", metavar="TABLE=PATH", help="with --shop: import only this table, from this file"
    )
    table.add_argument("--col", action="append", metavar="FIELD=COLUMN", help="which column feeds a field (repeat)")
    table.add_argument("--country", help="customers: the shop's country (ISO code) for blank countries (phones)")
    table.add_argument(
        "--mode",
        choices=["refuse", "merge", "replace"],
        default="refuse",
        help="days that have the table already: refuse (default), merge (newer records win, unsubscribes kept), "
        "replace",
    )
    table.add_argument("--encoding", help="text encoding (default: UTF-8, or UTF-16 with a BOM)")
    table.add_argument("--delimiter", help="field separator (default: detected from the header)")
    table.add_argument("--timezone", help="time zone of timestamps without an offset (default UTC)")
    table.add_argument("--timestamp-format", default="auto", help="as for import-orders")
    table.set_defaults(func=cmd_import_table)

    camp = sub.add_parser(
        "campaigns",
        help="validate the campaign specs, list them by priority, or show their measured lift over time",
        description=(
            "validate: report every problem of every campaign file and exit 2 if any; list: the plan order; "
            "lift: every measured lift so far, per campaign."
        ),
    )
    camp.add_argument("action", choices=["validate", "list", "lift"])
    camp.add_argument("--campaign", help="lift: one campaign only")
    camp.add_argument("--folder", help="campaigns folder (default: $CAMPAIGNFLOW_CAMPAIGNS_DIR)")
    camp.set_defaults(func=cmd_campaigns)

    sup = sub.add_parser(
        "suppression",
        help="import a suppression list (emails/phones, hashed on import; do_not_contact applies to all)",
        description="Columns: email, phone (+ country), email_sha256 or phone_sha256. Raw values are never stored.",
    )
    sup.add_argument("action", choices=["import"])
    sup.add_argument("name", help="list name (do_not_contact: every campaign; others: exclude.suppression_lists)")
    sup.add_argument("file", type=Path, help="CSV file")
    sup.add_argument("--date", type=iso_date, default=date.today().isoformat(), help="the list applies from this date")
    sup.add_argument("--encoding", help="text encoding (default: UTF-8, or UTF-16 with a BOM), e.g. latin-1")
    sup.set_defaults(func=cmd_suppression)

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

    cat = sub.add_parser(
        "features-catalogue",
        help="print the feature catalogue (Markdown)",
        description="Every feature: name, type, window, source table, definition, what null means.",
    )
    cat.set_defaults(func=cmd_features_catalogue)

    contract = sub.add_parser(
        "data-contract",
        help="print the data contract (Markdown)",
        description="Every table a shop brings: columns, types, required or not, meaning, example.",
    )
    contract.set_defaults(func=cmd_data_contract)

    models = sub.add_parser(
        "models",
        help="list registered churn models, promote one, or roll back the champion",
        description="The model registry: versions with test metrics, the champion pointer and its history.",
    )
    models.add_argument("action", choices=["list", "promote", "rollback"])
    models.add_argument("--date", type=iso_date, help="promote/rollback: the first date the change applies to")
    models.add_argument("--task", choices=["churn", "recommender"], default="churn", help="which registry (churn)")
    models.add_argument(
        "--model", choices=[*CHURN_CANDIDATES, *RECOMMENDER_CANDIDATES], help="promote: which model (its task follows)"
    )
    models.add_argument("--version", help="promote: the version (its training date)")
    models.set_defaults(func=cmd_models)

    spark = sub.add_parser(
        "spark",
        help="start, stop or check the local Spark Connect server tasks share",
        description="The long-lived local Spark Connect server (CAMPAIGNFLOW_SPARK=connect-local).",
    )
    spark.add_argument(
        "action",
        choices=["start", "stop", "status", "serve"],
        help="start/stop/status: the detached server on this machine; serve: run one in the foreground (a service)",
    )
    spark.add_argument("--host", default="127.0.0.1", help="address `serve` listens on (0.0.0.0 in a container)")
    spark.set_defaults(func=cmd_spark)

    init = sub.add_parser(
        "airflow-init",
        help="create or upgrade Airflow's metadata DB and the backfill pool",
        description="airflow db migrate, then the campaignflow_backfill pool (idempotent; a deployment's init step).",
    )
    init.set_defaults(func=cmd_airflow_init)

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
    """Exit 0 on success or a skipped step (its reason printed), 2 for a permanent error, 75 for a
    transient one, 1 for a bug (with traceback)."""
    from campaignflow.orchestration.console import quiet_output

    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    quiet = args.command in QUIET_COMMANDS and not args.verbose
    args.log = _log_path() if quiet else None
    started = time.perf_counter()
    with quiet_output(args.log, enabled=quiet) as console:
        args.console = console.out
        if quiet:
            console.out.write(f"logs: {args.log}\n")
        try:
            result = args.func(args)
        except CampaignflowError as err:
            said = "skipped" if isinstance(err, StepSkipped) else "error"
            console.err.write(f"{said}: {err}\n" + (f"remedy: {err.remedy}\n" if err.remedy else ""))
            return exit_code(err)
        except Exception:
            console.err.write(traceback.format_exc())
            return 1
        logging.getLogger("campaignflow").info("%s finished in %.1fs", args.command, time.perf_counter() - started)
        if args.json or args.command not in ("run", "summary", "demo", "features-catalogue", "data-contract"):
            console.out.write(json.dumps(result, indent=2, default=str) + "\n")
    return 0


def _console(args: argparse.Namespace) -> TextIO:
    return getattr(args, "console", None) or sys.stdout


def _log_path() -> Path:
    from campaignflow.settings import ENV_PREFIX, default_home

    home = Path(os.environ.get(f"{ENV_PREFIX}HOME", str(default_home()))).resolve()
    return home / "logs" / f"campaignflow-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"


def _logs_remedy(args: argparse.Namespace) -> str:
    where = f"the log {args.log}" if getattr(args, "log", None) else "the task logs above"
    return f"read {where} (or the run in the Airflow UI: make airflow), fix the cause, re-run the date"


if __name__ == "__main__":
    raise SystemExit(main())
