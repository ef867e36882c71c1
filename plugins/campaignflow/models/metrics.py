"""How good a churn score is: ranking, probability quality, and what it buys a campaign.

Pure functions of labels and scores (numpy in, floats out), shared by every candidate, the
champion comparison, backtests and the report.
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 10
AUDIENCE_SHARES = tuple(round(0.05 * k, 2) for k in range(1, 11))  # 5 % … 50 % of customers contacted


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |observed rate − mean prediction| over equal-width probability bins, weighted by count."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    idx = np.clip((p * bins).astype(int), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / len(y)) if len(y) else float("nan")


def lift_at(y: np.ndarray, score: np.ndarray, share: float) -> float:
    """Churn rate among the top ``share`` by score, over the overall churn rate."""
    y = np.asarray(y, float)
    base = y.mean()
    if not len(y) or base == 0:
        return float("nan")
    top = max(1, round(share * len(y)))
    order = np.argsort(-np.asarray(score, float), kind="stable")
    return float(y[order[:top]].mean() / base)


def average_lift(y: np.ndarray, score: np.ndarray, shares: tuple[float, ...] = AUDIENCE_SHARES) -> float:
    """Mean lift over audience sizes from 5 % to 50 % of customers."""
    return float(np.mean([lift_at(y, score, s) for s in shares]))


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, float | int | None]:
    """Every metric of a probability score on one labelled window (rounded for the registry)."""
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    y, p = np.asarray(y, int), np.clip(np.asarray(p, float), 1e-7, 1 - 1e-7)
    both = len(set(y.tolist())) > 1
    out: dict[str, float | int | None] = {
        "n": len(y),
        "churn_rate": round(float(y.mean()), 4) if len(y) else None,
        "auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "pr_auc": round(float(average_precision_score(y, p)), 4) if both else None,
        "log_loss": round(float(log_loss(y, p, labels=[0, 1])), 4),
        "brier": round(float(brier_score_loss(y, p)), 4),
        "ece": round(expected_calibration_error(y, p), 4),
        "lift_at_10": round(lift_at(y, p, 0.1), 3) if both else None,
        "average_lift": round(average_lift(y, p), 3) if both else None,
        "mean_prob": round(float(p.mean()), 4),
    }
    return out


def ranking_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """ROC-AUC of any score (a baseline's ranking), None with a single class."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, int)
    return round(float(roc_auc_score(y, np.asarray(score, float))), 4) if len(set(y.tolist())) > 1 else None


def paired_auc_difference(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """AUC(a) − AUC(b) on the same customers and the difference's standard error (DeLong, DeLong and
    Clarke-Pearson 1988, in Sun and Xu's midrank form): two scores of one window are correlated, so
    the error of their difference is far smaller than either AUC's own.

    Raises:
        ValueError: ``y`` holds fewer than two of either outcome (no spread to estimate).
    """
    from scipy.stats import rankdata

    y = np.asarray(y, int)
    pos, neg = y == 1, y == 0
    m, n = int(pos.sum()), int(neg.sum())
    if min(m, n) < 2:
        raise ValueError("a paired AUC difference needs two customers of each outcome")
    aucs, per_pos, per_neg = [], [], []
    for score in (np.asarray(a, float), np.asarray(b, float)):
        both = rankdata(np.concatenate([score[pos], score[neg]]))
        among_pos, among_neg = rankdata(score[pos]), rankdata(score[neg])
        aucs.append((both[:m].sum() - m * (m + 1) / 2) / (m * n))
        per_pos.append((both[:m] - among_pos) / n)  # each churner: the share of the others it outranks
        per_neg.append(1.0 - (both[m:] - among_neg) / m)  # each other: the share of churners above it
    cov = np.cov(np.vstack(per_pos)) / m + np.cov(np.vstack(per_neg)) / n
    variance = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    return float(aucs[0] - aucs[1]), float(np.sqrt(max(variance, 0.0)))
