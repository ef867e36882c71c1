"""Drift: how far today's features and scores have moved from what the model was trained on (PSI).

Like is compared with like. At training, each model column's distribution is summarised as decile
bin edges and the share of rows per bin (nulls are a bin of their own), on the population as of the
training date itself (``as_of``), with the model's scores of that population; the snapshots the
model learned from are months older and made nearly every column of a growing shop drift (40-odd of
52 two days after training, PSI 2.3 on ``days_since_first_order``). At scoring, D days later, the
time-since columns (recency, tenure, days since …) are aged back by the days between the reference
and D, so a population that only grew older does not drift. Then the population stability index

    PSI = Σ (actual − expected) · ln(actual / expected)

compares today's shares with those. Above :data:`PSI_ALERT` (0.2, the usual "significant shift")
a column is flagged. Today's rows must be the model's population (customers with an order: see
:func:`~campaignflow.models.training_set.in_population`); the season columns are not compared, as
one date's season always differs from a window of snapshots across the year.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from campaignflow.models.training_set import CONTEXT_COLUMNS, in_population

PSI_ALERT = 0.2
# Columns that grow by one every day nothing happens: compared after ageing back to the reference date.
AGEING_PREFIXES = ("days_since_", "recency_days", "tenure_days")
BINS = 10
_FLOOR = 1e-4  # an empty bin counts as this share, so PSI stays finite


def _edges(values: np.ndarray) -> list[float]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return []
    return sorted(set(np.quantile(finite, np.linspace(0, 1, BINS + 1)[1:-1]).round(10).tolist()))


def _shares(values: np.ndarray, edges: list[float]) -> list[float]:
    finite = np.isfinite(values)
    counts = np.bincount(np.searchsorted(edges, values[finite], side="right"), minlength=len(edges) + 1)
    out = np.append(counts, (~finite).sum()).astype(float)
    return (out / max(len(values), 1)).tolist()


def ages(column: str) -> bool:
    """Whether a column counts days since something (it grows by one a day while nothing happens)."""
    return column.startswith(AGEING_PREFIXES)


def profile(frame: pd.DataFrame, columns: list[str], scores: np.ndarray, as_of: str | None = None) -> dict[str, Any]:
    """The reference distributions saved with a model, as of ``as_of`` (None: a window of snapshots)."""
    out: dict[str, Any] = {"columns": {}, "score": {}, "as_of": as_of}
    for c in columns:
        v = frame[c].astype("float64").to_numpy() if c in frame else np.full(len(frame), np.nan)
        edges = _edges(v)
        out["columns"][c] = {"edges": edges, "shares": _shares(v, edges)}
    s = np.asarray(scores, float)
    out["score"] = {"edges": _edges(s), "shares": _shares(s, _edges(s))}
    return out


def psi(expected: list[float], actual: list[float]) -> float:
    e = np.maximum(np.asarray(expected, float), _FLOOR)
    a = np.maximum(np.asarray(actual, float), _FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def report(
    reference: dict[str, Any], frame: pd.DataFrame, scores: np.ndarray, as_of: str | None = None
) -> pd.DataFrame:
    """PSI per model column and for the score (``__score__``), with a flag above the alert level.

    ``as_of``: the date of ``frame``; with a dated reference, time-since columns are aged back by
    the days between the two.
    """
    rows = []
    aged = 0
    if as_of and reference.get("as_of"):
        aged = (pd.Timestamp(as_of) - pd.Timestamp(reference["as_of"])).days
    for c, ref in reference["columns"].items():
        if c in CONTEXT_COLUMNS:
            continue
        v = frame[c].astype("float64").to_numpy() if c in frame else np.full(len(frame), np.nan)
        if aged and ages(c):
            v = v - aged
        rows.append((c, psi(ref["shares"], _shares(v, ref["edges"]))))
    s = reference["score"]
    rows.append(("__score__", psi(s["shares"], _shares(np.asarray(scores, float), s["edges"]))))
    out = pd.DataFrame(rows, columns=["column", "psi"])
    out["psi"] = out["psi"].round(5)
    out["flagged"] = out["psi"] > PSI_ALERT
    return out


def population_report(
    reference: dict[str, Any], features: pd.DataFrame, scores: pd.Series, as_of: str | None = None
) -> pd.DataFrame | None:
    """:func:`report` over the model's population (customers with an order), each row with its
    score from ``scores`` (indexed by customer_id); None when no customer is in it."""
    rows = features[in_population(features)]
    if not len(rows):
        return None
    return report(reference, rows, scores.loc[rows["customer_id"]].to_numpy(), as_of)


def dated_reference(
    model_predict: Any, features: pd.DataFrame, columns: list[str], as_of: str
) -> dict[str, Any] | None:
    """The reference as of the training date: its population's columns and the model's scores of it."""
    rows = features[in_population(features)]
    if not len(rows):
        return None
    return profile(rows, columns, np.asarray(model_predict(rows)), as_of)


def to_json(reference: dict[str, Any]) -> bytes:
    return json.dumps(reference).encode()
