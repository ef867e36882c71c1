"""Drift: how far today's features and scores have moved from what the model was trained on (PSI).

At training, each model column's distribution on the training window is summarised as decile bin
edges and the share of rows per bin (nulls are a bin of their own); the score's distribution on
the test window likewise. At scoring, the population stability index

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


def profile(frame: pd.DataFrame, columns: list[str], scores: np.ndarray) -> dict[str, Any]:
    """The reference distributions saved with a model."""
    out: dict[str, Any] = {"columns": {}, "score": {}}
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


def report(reference: dict[str, Any], frame: pd.DataFrame, scores: np.ndarray) -> pd.DataFrame:
    """PSI per model column and for the score (``__score__``), with a flag above the alert level."""
    rows = []
    for c, ref in reference["columns"].items():
        if c in CONTEXT_COLUMNS:
            continue
        v = frame[c].astype("float64").to_numpy() if c in frame else np.full(len(frame), np.nan)
        rows.append((c, psi(ref["shares"], _shares(v, ref["edges"]))))
    s = reference["score"]
    rows.append(("__score__", psi(s["shares"], _shares(np.asarray(scores, float), s["edges"]))))
    out = pd.DataFrame(rows, columns=["column", "psi"])
    out["psi"] = out["psi"].round(5)
    out["flagged"] = out["psi"] > PSI_ALERT
    return out


def population_report(reference: dict[str, Any], features: pd.DataFrame, scores: pd.Series) -> pd.DataFrame | None:
    """:func:`report` over the model's population (customers with an order), each row with its
    score from ``scores`` (indexed by customer_id); None when no customer is in it."""
    rows = features[in_population(features)]
    if not len(rows):
        return None
    return report(reference, rows, scores.loc[rows["customer_id"]].to_numpy())


def to_json(reference: dict[str, Any]) -> bytes:
    return json.dumps(reference).encode()
