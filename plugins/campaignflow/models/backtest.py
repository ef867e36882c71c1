"""Backtests: the churn scores published H days ago, judged by what the customers then did.

Each training run at D looks up ``scores/customer/dt=T`` (T = D − H, the scores the pipeline really
published then, with the champion of that day) and the labels at T, and records how good they were:
``monitoring/churn_backtest/dt=D``, one row of metrics plus a chart of every backtest so far.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from campaignflow.models.metrics import evaluate


def judge(scores: pd.DataFrame, labels: pd.DataFrame) -> dict[str, Any] | None:
    """Metrics of published scores against the labels of the same date (None: nobody in common)."""
    joined = scores.merge(labels[["customer_id", "churned"]], on="customer_id")
    if joined.empty:
        return None
    first = joined.iloc[0]
    model = f"{first['model_name']}@{first['model_version']}" if "model_name" in joined else str(first["model_version"])
    return {"model": model, **evaluate(joined["churned"].to_numpy(), joined["churn_prob"].to_numpy())}


def history_chart(history: pd.DataFrame) -> bytes:
    """AUC and ECE of every backtest so far, by the date the scores were published."""
    from campaignflow.figures import png, pyplot

    plt = pyplot()

    fig, ax = plt.subplots(figsize=(9, 4))
    x = pd.to_datetime(history["scored_on"])
    ax.plot(x, history["auc"], marker="o", label="AUC")
    ax.set(ylim=(0.4, 1.0), ylabel="AUC", title="Backtests: published churn scores vs what happened")
    twin = ax.twinx()
    twin.plot(x, history["ece"], marker="s", c="tab:red", label="ECE")
    twin.set(ylim=(0, max(0.1, float(np.nanmax(history["ece"])) * 1.2)), ylabel="expected calibration error")
    fig.legend(loc="lower left")
    fig.autofmt_xdate()
    fig.tight_layout()
    return png(fig)
