"""Model pictures for people: ROC, reliability, gain and lift, feature importance, as PNG bytes."""

from __future__ import annotations

import numpy as np

from campaignflow.models.metrics import expected_calibration_error


def churn_model_plots(
    y_true: np.ndarray,
    y_prob: np.ndarray,
    baselines: dict[str, np.ndarray],
    importance: dict[str, float] | None = None,
    title: str = "churn model",
) -> dict[str, bytes]:
    """One PNG of four panels on the test window: ROC (model vs baselines), reliability curve,
    cumulative gain with lift by decile, and the top features by gain (LightGBM only)."""
    from campaignflow.figures import png, pyplot

    plt = pyplot()
    from sklearn.metrics import roc_curve

    y_true, y_prob = np.asarray(y_true), np.asarray(y_prob)
    if len(set(y_true.tolist())) < 2:
        return {}
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.8))
    fig.suptitle(f"{title} — test window ({len(y_true)} customers, churn rate {y_true.mean():.0%})")

    ax = axes[0]
    for name, score in (("model", y_prob), *baselines.items()):
        fpr, tpr, _ = roc_curve(y_true, score)
        ax.plot(fpr, tpr, label=name, lw=2 if name == "model" else 1)
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax.set(title="ROC", xlabel="false positive rate", ylabel="true positive rate")
    ax.legend(loc="lower right", fontsize=8)

    ax = axes[1]
    bins = np.clip((y_prob * 10).astype(int), 0, 9)
    filled = [b for b in range(10) if (bins == b).any()]
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax.plot([y_prob[bins == b].mean() for b in filled], [y_true[bins == b].mean() for b in filled], marker="o")
    ece = expected_calibration_error(y_true, y_prob)
    ax.set(
        title=f"Reliability (ECE {ece:.3f})",
        xlabel="predicted churn probability",
        ylabel="observed churn rate",
        xlim=(0, 1),
        ylim=(0, 1),
    )

    ax = axes[2]
    order = np.argsort(-y_prob, kind="stable")
    gain = np.concatenate([[0], np.cumsum(y_true[order]) / max(y_true.sum(), 1)])
    share = np.linspace(0, 1, len(gain))
    ax.plot(share, gain, label="cumulative gain")
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    deciles = np.array_split(y_true[order], 10)
    base = y_true.mean() or 1.0
    twin = ax.twinx()
    twin.bar(np.arange(10) / 10 + 0.05, [d.mean() / base if len(d) else 0 for d in deciles], width=0.08, alpha=0.3)
    twin.set_ylabel("lift by decile")
    ax.set(title="Gain and lift", xlabel="share of customers contacted (highest risk first)", ylabel="churners reached")

    ax = axes[3]
    if importance:
        top = sorted(importance.items(), key=lambda kv: kv[1])[-15:]
        ax.barh([k for k, _ in top], [v for _, v in top])
        ax.set(title="Feature importance (share of gain)")
        ax.tick_params(axis="y", labelsize=7)
    else:
        ax.axis("off")
        ax.text(0.5, 0.5, "no tree importance for this model", ha="center", va="center")

    fig.tight_layout()
    return {"churn_model.png": png(fig)}
