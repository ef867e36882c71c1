"""Model pictures for people: ROC, calibration and cumulative lift, as PNG bytes."""

from __future__ import annotations

import io

import numpy as np


def churn_model_plots(y_true: np.ndarray, y_prob: np.ndarray, baseline_score: np.ndarray) -> dict[str, bytes]:
    """ROC (model vs recency alone), calibration (10 bins) and lift by decile of predicted risk."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    y_true = np.asarray(y_true)
    y_prob = np.asarray(y_prob)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))

    ax = axes[0]
    for name, score in (("LightGBM", y_prob), ("recency only", baseline_score)):
        fpr, tpr, _ = roc_curve(y_true, score)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax.set(title="ROC (validation customers)", xlabel="false positive rate", ylabel="true positive rate")
    ax.legend(loc="lower right")

    ax = axes[1]
    bins = np.clip((y_prob * 10).astype(int), 0, 9)
    centres = [y_prob[bins == b].mean() for b in range(10) if (bins == b).any()]
    observed = [y_true[bins == b].mean() for b in range(10) if (bins == b).any()]
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax.plot(centres, observed, marker="o")
    ax.set(
        title="Calibration",
        xlabel="predicted churn probability",
        ylabel="observed churn rate",
        xlim=(0, 1),
        ylim=(0, 1),
    )

    ax = axes[2]
    order = np.argsort(-y_prob, kind="stable")
    deciles = np.array_split(y_true[order], 10)
    base = y_true.mean() or 1.0
    ax.bar(range(1, len(deciles) + 1), [d.mean() / base if len(d) else 0 for d in deciles])
    ax.axhline(1.0, ls="--", c="grey", lw=0.8)
    ax.set(title="Lift by decile of predicted risk", xlabel="decile (1 = highest risk)", ylabel="churn rate / average")

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    plt.close(fig)
    return {"churn_model.png": buf.getvalue()}
