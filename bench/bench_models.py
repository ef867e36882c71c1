"""Benchmark the model suite: quality against the latent truth, training throughput, scoring speed.

python bench/bench_models.py --customers 20000 --days 400 --out /data/cf-models \
    [--shop full|lines|orders] [--score-rows 1000000]

A generated shop is written straight to ``raw/`` (``generate_raw``), then the training windows at
its last day are built exactly as ``train_churn`` builds them (rolling snapshots). ``--shop`` picks
what the shop exports: ``full`` (customers, events, order lines, products, returns), ``lines``
(order lines with products, quantities and returns; no events, no customer file) or ``orders``
(an orders-only log). With the defaults the test window's outcome period (T, T+90 d] is
November to February: the peak season, with the model trained on snapshots from before it.
Reported:

* per candidate, the test-window metrics, and the AUC of ranking by the generator's true churn
  probability (the oracle, which knows each customer's latent drop-out day);
* LightGBM throughput in row-iterations per second per thread, torch samples per second (CPU here,
  CUDA where a GPU is visible), value model vs BG/NBD;
* scoring rows per second (calibrated churn, SHAP reasons, value) for ``--score-rows`` customers:
  the training windows' rows (real customer states at six dates), tiled with fresh ids.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import roc_auc_score

from campaignflow.io.storage import LocalStore
from campaignflow.runtime import Runtime
from campaignflow.settings import Settings
from campaignflow.synthetic.generate import ShopSpec, generate_raw
from campaignflow.synthetic.truth import true_churn_probability

START = date(2024, 1, 1)
SHOPS: dict[str, frozenset[str] | None] = {
    "full": None,
    "lines": frozenset({"orders", "order_lines", "products", "returns"}),
    "orders": frozenset({"orders"}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000, help="customer base size")
    parser.add_argument("--days", type=int, default=400, help="days of history")
    parser.add_argument("--horizon", type=int, default=90, help="churn horizon H in days")
    parser.add_argument("--out", required=True, help="working folder (kept: a re-run reuses the shop)")
    parser.add_argument("--shop", choices=sorted(SHOPS), default="full", help="what the generated shop exports")
    parser.add_argument("--return-rate", type=float, default=0.06, help="share of order lines returned")
    parser.add_argument(
        "--score-rows", type=int, default=1_000_000, help="customers to score for the speed part (0: skip)"
    )
    args = parser.parse_args()

    from campaignflow.models import churn, value
    from campaignflow.models.churn_lgbm import EARLY_STOPPING_ROUNDS, threads
    from jobs import train_churn

    root = Path(args.out).resolve()
    os.environ["CAMPAIGNFLOW_HOME"] = str(root / "home")
    settings = Settings.under(root, churn_horizon_days=args.horizon)
    rt = Runtime.from_settings(settings)
    ds = (START + timedelta(days=args.days - 1)).isoformat()
    report: dict[str, Any] = {
        "benchmark": "models",
        "shop": args.shop,
        "exports": sorted(SHOPS[args.shop] or ["everything"]),
        "customers": args.customers,
        "days": args.days,
        "horizon_days": args.horizon,
        "trained_at": ds,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}",
        "seconds": {},
    }
    t = time.perf_counter()
    if not (root / "_generated").exists():
        generate_raw(
            ShopSpec(args.customers, args.days, START, tables=SHOPS[args.shop], return_rate=args.return_rate),
            rt.lake,
            LocalStore(root / "truth"),
        )
        (root / "_generated").write_text("ok")
    report["seconds"]["generate_raw"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    splits, plan = train_churn.training_splits(rt, ds)
    report["seconds"]["training_windows (features + labels per snapshot)"] = round(time.perf_counter() - t, 1)
    outcome_end = (date.fromisoformat(plan.test) + timedelta(days=args.horizon)).isoformat()
    report["windows"] = {"plan": plan.describe(), "sizes": splits.sizes(), "test_outcome": [plan.test, outcome_end]}
    truth = pd.read_parquet(root / "truth" / "customers.parquet")
    oracle = true_churn_probability(truth, date.fromisoformat(plan.test), args.horizon)
    report["oracle_test_auc"] = round(
        float(roc_auc_score(splits.test["churned"], oracle.reindex(splits.test["customer_id"]).to_numpy())), 4
    )

    t = time.perf_counter()
    value_model = value.train(splits, args.horizon, settings.seed, ds)
    report["seconds"]["value model (BG/NBD + Gamma-Gamma + LightGBM)"] = round(time.perf_counter() - t, 1)
    report["value"] = value_model.metrics
    baselines = churn.baseline_scores(splits)
    baselines["BG/NBD expected orders"] = value.churn_score_from_bgnbd(value_model, splits.test)
    models = {}
    for name in settings.churn_candidates:
        t = time.perf_counter()
        model = churn.train_candidate(name, splits, settings.seed, ds, baselines, args.horizon)
        seconds = time.perf_counter() - t
        report["seconds"][f"train {name}"] = round(seconds, 1)
        info = model.metrics["training"]
        if name == "churn_lgbm":
            iterations = info["best_iteration"] + EARLY_STOPPING_ROUNDS  # rounds run past the best
            info["row_iterations_per_s_per_thread"] = round(len(splits.train) * iterations / seconds / threads())
        else:
            info["samples_per_s"] = round(info["samples_seen"] / seconds)
        auc = model.metrics["test"]["auc"]
        model.metrics["auc_vs_oracle"] = round(auc / report["oracle_test_auc"], 3) if auc else None
        best_baseline = max((v for v in model.metrics["baselines_test_auc"].values() if v is not None), default=0.0)
        model.metrics["auc_over_best_baseline"] = round(auc - best_baseline, 4) if auc else None
        keys = ("test", "baselines_test_auc", "auc_over_best_baseline", "training", "auc_vs_oracle")
        report[name] = {k: model.metrics[k] for k in keys}
        models[name] = model

    (root / "report.json").write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, indent=2, default=str), flush=True)
    if args.score_rows:
        score_speed(splits, args.score_rows, models, value_model, report)
        (root / "report.json").write_text(json.dumps(report, indent=2, default=str))
        print(json.dumps(report, indent=2, default=str))


def score_speed(splits: Any, rows: int, models: dict[str, Any], value_model: Any, report: dict[str, Any]) -> None:
    """Scoring rows/s for ``rows`` customers: training-window rows (customer states at six dates), tiled."""
    from campaignflow.models import churn

    frames = [splits.train, splits.valid, splits.test]
    states = pd.concat(frames, ignore_index=True)
    states["customer_id"] = states["customer_id"] + "@" + states["snapshot"].astype(str)
    copies = -(-rows // len(states))
    features = pd.concat(
        [states.assign(customer_id=states["customer_id"] + f"#{k}") for k in range(copies)], ignore_index=True
    ).head(rows)
    lgbm = models.get("churn_lgbm")
    for name, model in models.items():
        t = time.perf_counter()
        churn.score(model, features)
        seconds = time.perf_counter() - t
        report["seconds"][f"score {len(features)} customers with {name}"] = round(seconds, 1)
        report[name]["scoring_rows_per_s"] = round(len(features) / seconds)
    if lgbm is not None:
        t = time.perf_counter()
        churn.score(lgbm, features, lgbm)
        seconds = time.perf_counter() - t
        report["seconds"][f"score {len(features)} customers with churn_lgbm + SHAP reasons"] = round(seconds, 1)
        report["churn_lgbm"]["scoring_with_reasons_rows_per_s"] = round(len(features) / seconds)
    t = time.perf_counter()
    value_model.predict(features)
    report["seconds"][f"value predictions for {len(features)} customers"] = round(time.perf_counter() - t, 1)


if __name__ == "__main__":
    main()
