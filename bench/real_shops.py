"""Onboard the real public shop logs in ../shared/data/ end to end, as a new user would (``make bench-real``).

Per shop: its orders with their real dates (``import-orders``), a customers file of synthetic contacts
and consent for its real ids (the logs carry none; said wherever results are reported), its catalogue
(``import products``), then ``run --date`` on the log's last day through Airflow and the date's
summary: what was published, which churn model and recommender serve, against which baselines. Then,
per cut-off date D, the churn model trained at D is judged on what happened in (D, D + H] against
recency, frequency, the RFM logistic regression and BG/NBD on the same customers (AUC, PR-AUC, log
loss, ECE, the share of scores at the calibration ceiling; the churn rate known at D and the ECE
once the outcome's base rate is given, which separate a moving base rate from a wrong shape), and the
recommender's judgement at D. Last, the drift report a week after the last cut-off, against the
serving model's own reference.
Nothing is copied into the repository; everything is written under ``--out``.

    python bench/real_shops.py --data ../shared/data --out var/bench-real [--shops ta-feng complete-journey]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import lzma
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CLI = [str(Path(sys.executable).parent / "campaignflow")]


@dataclass(frozen=True)
class Shop:
    """How one public log is onboarded: its files prepared, the import flags, its horizon and last day."""

    name: str
    prepare: Callable[[Path, Path], dict[str, Path]]  # (data folder, work folder) -> orders/customers/products
    orders_flags: list[str]
    horizon_days: int
    last_day: str
    country: str  # for the synthetic phones without a country code
    cutoffs: tuple[str, ...]  # dates D judged on the outcome in (D, D + H] (D + H within the log)


def synthetic_customers(ids: pd.Series, first_order: pd.Series, seed: int) -> pd.DataFrame:
    """Contacts and consent for a log's real ids: 70 % consent, 5 % unsubscribed, messy emails and phones."""
    rng = np.random.default_rng(seed)
    ids = pd.Series(sorted(ids.astype(str).unique()))
    n = len(ids)
    email = np.where(np.arange(n) % 10 == 0, " Cust." + ids + "+shop@Example.COM ", "cust" + ids + "@example.com")
    return pd.DataFrame(
        {
            "id": ids,
            "Email": email,
            "Phone": np.where(np.arange(n) % 3 == 0, "06" + ids.str[-8:].str.zfill(8), ""),
            "Consent": np.where(rng.random(n) < 0.7, "yes", "no"),
            "Unsub": np.where(rng.random(n) < 0.05, "yes", "no"),
            "Signup": first_order.reindex(ids).dt.strftime("%Y-%m-%d").to_numpy(),
        }
    )


def _ta_feng(data: Path, work: Path) -> dict[str, Path]:
    orders = work / "ta_feng.csv"
    if not orders.exists():
        orders.write_bytes(lzma.decompress((data / "ta-feng" / "ta_feng_all_months_merged.csv.xz").read_bytes()))
    lines = pd.read_csv(orders, dtype=str, encoding="utf-8-sig")
    first = pd.to_datetime(lines["TRANSACTION_DT"], format="%m/%d/%Y").groupby(lines["CUSTOMER_ID"]).min()
    unit = lines["SALES_PRICE"].astype(float) / lines["AMOUNT"].astype(float)
    products = (
        lines.assign(unit=unit)
        .groupby("PRODUCT_ID")
        .agg(category=("PRODUCT_SUBCLASS", "first"), price=("unit", "median"))
        .rename_axis("product_id")
        .reset_index()
    )
    return _write(work, orders, synthetic_customers(lines["CUSTOMER_ID"], first, 7), products)


def _complete_journey(data: Path, work: Path) -> dict[str, Path]:
    folder = data / "complete-journey"
    orders = folder / "transactions.parquet"
    lines = pd.read_parquet(orders, columns=["household_id", "transaction_timestamp"])
    first = lines.groupby(lines["household_id"].astype(str))["transaction_timestamp"].min()
    catalogue = pd.read_parquet(folder / "products.parquet", columns=["product_id", "product_category"])
    sold = pd.read_parquet(orders, columns=["product_id", "quantity", "sales_value"])
    sold = sold[sold["quantity"] > 0]
    price = (sold["sales_value"] / sold["quantity"]).groupby(sold["product_id"]).median().rename("price")
    products = catalogue.merge(price, left_on="product_id", right_index=True)  # priced: sold at least once
    products["category"] = products["product_category"].fillna("unknown")
    products = products[["product_id", "category", "price"]]
    return _write(work, orders, synthetic_customers(lines["household_id"].astype(str), first, 11), products)


def _write(work: Path, orders: Path, customers: pd.DataFrame, products: pd.DataFrame) -> dict[str, Path]:
    customers.to_csv(work / "customers.csv", index=False)
    products.astype({"product_id": str}).to_csv(work / "products.csv", index=False)
    return {"orders": orders, "customers": work / "customers.csv", "products": work / "products.csv"}


SHOPS = {
    "ta-feng": Shop(
        "ta-feng",
        _ta_feng,
        "--customer-col CUSTOMER_ID --timestamp-col TRANSACTION_DT --amount-col SALES_PRICE "
        "--product-col PRODUCT_ID --quantity-col AMOUNT".split(),
        30,
        "2001-02-28",
        "TW",
        # two 28-day snapshots with 28 days of orders before each, and 30 days after D: 26 to 29 January only
        ("2001-01-26", "2001-01-27", "2001-01-29"),
    ),
    "complete-journey": Shop(
        "complete-journey",
        _complete_journey,
        "--customer-col household_id --timestamp-col transaction_timestamp --amount-col sales_value "
        "--order-id-col basket_id --product-col product_id --quantity-col quantity".split(),
        60,
        "2017-12-31",
        "US",
        ("2017-08-31", "2017-09-30", "2017-10-31"),
    ),
}
CUSTOMER_FLAGS = ["--col", "customer_id=id", "--col", "email=Email", "--col", "phone=Phone"]
CUSTOMER_FLAGS += ["--col", "marketing_consent=Consent", "--col", "unsubscribed=Unsub", "--col", "signup_ts=Signup"]


def shop_env(shop: Shop, out: Path) -> dict[str, str]:
    home = out / shop.name / "home"
    return {
        **os.environ,
        "CAMPAIGNFLOW_HOME": str(home),
        "CAMPAIGNFLOW_LAKE": str(home / "lake"),
        "CAMPAIGNFLOW_CHURN_HORIZON_DAYS": str(shop.horizon_days),
        "CAMPAIGNFLOW_RECOMMEND_HORIZON_DAYS": "28",
        "PYTHONPATH": str(ROOT),
    }


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-3000:], sep="\n")
    return done


def judge_cutoffs(shop: Shop, env: dict[str, str]) -> list[dict[str, object]]:
    """Per cut-off D: train at D, score D with the serving model, judge on what happened in (D, D + H];
    the baselines on the same customers; the recommender's judgement at D (on (D - 28 d, D])."""
    from campaignflow.io import datasets
    from campaignflow.io.lake import Lake
    from campaignflow.models import churn, metrics, registry, value
    from campaignflow.models.training_set import with_context

    lake = Lake.from_uri(env["CAMPAIGNFLOW_LAKE"])
    rows = []
    for d in shop.cutoffs:
        outcome_day = (pd.Timestamp(d) + pd.Timedelta(days=shop.horizon_days)).strftime("%Y-%m-%d")
        known_day = (pd.Timestamp(d) - pd.Timedelta(days=shop.horizon_days)).strftime("%Y-%m-%d")
        trained = {
            task: (c := registry.champion(lake, d, task)) is not None and c.version == d
            for task in ("churn", "recommender")
        }
        steps = [
            ("build-features", "--date", d),
            *([] if trained["churn"] else [("train-churn", "--date", d, "--force")]),  # --reuse: trained at D already
            ("score-customers", "--date", d),
            ("build-labels", "--date", outcome_day),
            ("build-labels", "--date", d),  # the newest outcome known at D: customers of D - H
            *([] if trained["recommender"] else [("train-recommender", "--date", d, "--force")]),
        ]
        started = time.monotonic()
        if any(cli(env, *step).returncode != 0 for step in steps):
            rows.append({"cutoff": d, "failed": True})
            continue
        if not lake.is_committed(datasets.CUSTOMER_SCORES.at(d)):  # too young at D: the training refused
            refused = (registry.training_decision(lake, d, "churn") or {}).get("refused")
            rows.append({"cutoff": d, "failed": True, "why": refused})
            print(f"{shop.name} @ {d}: no model: {refused}", flush=True)
            continue
        labels = lake.read_frame(datasets.churn_labels(shop.horizon_days).at(d))[["customer_id", "churned"]]
        scores = lake.read_frame(datasets.CUSTOMER_SCORES.at(d))
        features = with_context(lake.read_frame(datasets.CUSTOMER_FEATURES.at(d)), d)
        judged = labels.merge(scores, on="customer_id").merge(features, on="customer_id")
        y, p = judged["churned"].to_numpy(int), judged["churn_prob"].to_numpy(float)
        served = metrics.evaluate(y, p)
        rfm = churn.load(lake, "churn_rfm", d)
        baselines = {
            "recency": metrics.ranking_auc(y, judged["recency_days"].astype(float).fillna(1e4)),
            "frequency": metrics.ranking_auc(y, -judged["orders_total"].astype(float).fillna(0)),
            "RFM logit": metrics.ranking_auc(y, rfm.predict(judged)),
            "BG/NBD": metrics.ranking_auc(y, value.churn_score_from_bgnbd(value.load(lake, d), judged)),  # type: ignore[arg-type]
        }
        best = max(v for v in baselines.values() if v is not None)
        ceiling, floor = p >= 0.999, p <= 0.001
        known = lake.read_frame(datasets.churn_labels(shop.horizon_days).at(known_day), columns=["churned"])
        recommender = registry.training_decision(lake, d, "recommender") or {}
        rows.append(
            {
                "cutoff": d,
                "customers": len(judged),
                "churn_rate": served["churn_rate"],
                "model": str(judged["model_name"].iloc[0]),
                "auc": served["auc"],
                "pr_auc": served["pr_auc"],
                "log_loss": served["log_loss"],
                "ece": served["ece"],
                "mean_prob": served["mean_prob"],
                # the base rate moved between the newest outcome known at D and the one that followed:
                # what no model calibrated on the past sees; the ECE once the outcome's rate is given
                "churn_rate_known_at_d": round(float(known["churned"].mean()), 4),
                "ece_given_outcome_rate": round(metrics.expected_calibration_error(y, at_base_rate(p, y.mean())), 4),
                "at_ceiling": round(float(ceiling.mean()), 4),
                "churned_at_ceiling": round(float(y[ceiling].mean()), 4) if ceiling.any() else None,
                "at_floor": round(float(floor.mean()), 4),
                "churned_at_floor": round(float(y[floor].mean()), 4) if floor.any() else None,
                "baselines_auc": baselines,
                "auc_vs_best_baseline": round(float(served["auc"] or 0) - best, 4),
                "recommender": {
                    "decision": recommender.get("decision"),
                    "model": (recommender.get("test") or {}).get("ndcg@10"),
                    "baselines": recommender.get("baselines_ndcg@10"),
                    "recall@10": (recommender.get("test") or {}).get("recall@10"),
                },
                "seconds": round(time.monotonic() - started, 1),
            }
        )
        print(f"{shop.name} @ {d}: {json.dumps(rows[-1], default=str)}", flush=True)
    return rows


DRIFT_AFTER_DAYS = 7


def drift_after(shop: Shop, env: dict[str, str]) -> dict[str, object]:
    """Scores a week after the last cut-off, by the model serving then: how many of its columns the
    drift report flags against the model's own reference (the population as of its training date)."""
    from campaignflow.io import datasets
    from campaignflow.io.lake import Lake

    lake = Lake.from_uri(env["CAMPAIGNFLOW_LAKE"])
    day = (pd.Timestamp(shop.cutoffs[-1]) + pd.Timedelta(days=DRIFT_AFTER_DAYS)).strftime("%Y-%m-%d")
    if any(cli(env, step, "--date", day).returncode != 0 for step in ("build-features", "score-customers")):
        return {"date": day, "failed": True}
    ref = datasets.CHURN_DRIFT.at(day)
    if not lake.is_committed(ref):
        return {"date": day, "failed": True, "why": "no drift table (the model has no reference)"}
    table, meta = lake.read_frame(ref), lake.manifest(ref)["meta"]
    columns = table[table["column"] != "__score__"]
    score = table.loc[table["column"] == "__score__", "psi"]
    out = {
        "date": day,
        "model": meta.get("model"),
        "columns": len(columns),
        "flagged": list(meta.get("flagged", [])),
        "max_psi": round(float(columns["psi"].max()), 3),
        "median_psi": round(float(columns["psi"].median()), 3),
        "score_psi": round(float(score.iloc[0]), 3) if len(score) else None,
    }
    print(f"{shop.name}: drift at {day}: {json.dumps(out)}", flush=True)
    return out


def at_base_rate(p: np.ndarray, rate: float) -> np.ndarray:
    """``p`` shifted on the logit scale until its mean is ``rate`` (a prior-shift correction)."""
    from scipy.optimize import brentq
    from scipy.special import expit, logit

    z = logit(np.clip(p, 1e-6, 1 - 1e-6))
    shift = brentq(lambda s: float(np.mean(expit(z + s))) - rate, -30.0, 30.0)
    return np.asarray(expit(z + shift))


def table(results: list[dict[str, object]]) -> str:
    """The churn and recommender judgement per shop and cut-off, as Markdown."""
    lines = [
        "| shop | cut-off D | customers | churned | churned, newest known at D | serving | AUC | best baseline AUC | "
        "PR-AUC | log loss | ECE | ECE given the rate | at ceiling | NDCG@10 model / buy again / co-occ. / popular |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for c in r.get("cutoffs", []):  # type: ignore[attr-defined]
            if c.get("failed"):
                lines.append(f"| {r['shop']} | {c['cutoff']} | failed |")
                continue
            base = c["baselines_auc"]
            name, best = max(((k, v) for k, v in base.items() if v is not None), key=lambda kv: kv[1])
            rec = c["recommender"]
            ndcg = " / ".join(str(x) for x in [rec["model"], *(rec["baselines"] or {}).values()])
            lines.append(
                f"| {r['shop']} | {c['cutoff']} | {c['customers']} | {c['churn_rate']} | "
                f"{c['churn_rate_known_at_d']} | {c['model']} | {c['auc']} | {best} ({name}) | {c['pr_auc']} | "
                f"{c['log_loss']} | {c['ece']} | {c['ece_given_outcome_rate']} | {c['at_ceiling']} | {ndcg} |"
            )
    return "\n".join(lines)


def onboard(shop: Shop, data: Path, out: Path) -> dict[str, object]:
    """Import, run the last day and summarise one shop; seconds per step."""
    work = out / shop.name
    work.mkdir(parents=True, exist_ok=True)
    env = shop_env(shop, out)
    subprocess.run(["rm", "-rf", env["CAMPAIGNFLOW_HOME"]], check=True)
    files = shop.prepare(data, work)
    steps = [
        ("import orders", ["import-orders", str(files["orders"]), *shop.orders_flags]),
        (
            "import customers",
            ["import", "customers", str(files["customers"]), *CUSTOMER_FLAGS, "--country", shop.country],
        ),
        ("import products", ["import", "products", str(files["products"])]),
        ("run", ["run", "--date", shop.last_day]),
    ]
    seconds = {}
    for label, args in steps:
        started = time.monotonic()
        done = cli(env, *args)
        seconds[label] = round(time.monotonic() - started, 1)
        print(f"{shop.name}: {label}: exit {done.returncode} in {seconds[label]} s", flush=True)
        if done.returncode != 0:
            return {"shop": shop.name, "failed": label, "seconds": seconds}
    return {"shop": shop.name, "seconds": seconds, **judge(shop, env)}


def judge(shop: Shop, env: dict[str, str]) -> dict[str, object]:
    """The last day's summary (printed, and as data) and the cut-offs' judgement."""
    summary = cli(env, "--json", "summary", "--date", shop.last_day).stdout  # the text, then the JSON
    text, _, data = summary.partition("\n{")
    print(text)
    return {"summary": json.loads("{" + data), "cutoffs": judge_cutoffs(shop, env), "drift": drift_after(shop, env)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="folder of the real logs")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench-real", help="work folder")
    parser.add_argument("--shops", nargs="*", default=list(SHOPS), choices=list(SHOPS), help="which logs")
    parser.add_argument("--reuse", action="store_true", help="judge the lakes already onboarded under --out again")
    parser.add_argument("--cutoffs", nargs="*", help="judge these cut-off dates instead of each shop's own")
    args = parser.parse_args()
    if args.cutoffs:
        for name in args.shops:
            SHOPS[name] = dataclasses.replace(SHOPS[name], cutoffs=tuple(args.cutoffs))
    results = [
        {"shop": name, **judge(SHOPS[name], shop_env(SHOPS[name], args.out))}
        if args.reuse
        else onboard(SHOPS[name], args.data, args.out)
        for name in args.shops
    ]
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    (args.out / "results.json").write_text(json.dumps({"machine": machine, "shops": results}, indent=2, default=str))
    print(table(results))
    for r in results:
        print(f"{r['shop']}: drift a week after the last cut-off: {r.get('drift')}")
    print(f"results: {args.out / 'results.json'} ({machine})")
    return 0 if all("failed" not in r for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
