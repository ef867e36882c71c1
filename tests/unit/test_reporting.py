"""The run summary says what is unusual but kept: flagged features, landing files whose columns changed."""

from __future__ import annotations

from campaignflow.reporting import format_summary


def test_the_summary_names_flags_and_column_changes() -> None:
    summary = {
        "dt": "2024-06-30",
        "lake": "/lake",
        "raw": {"orders": 12, "customers": None},
        "quarantined": [],
        "columns_changed": {"orders": {"ignored": ["loyalty_tier"], "absent": ["currency"]}},
        "features": 100,
        "absent_tables": [],
        "features_mode": None,
        "features_flagged": [{"column": "return_rate_365d", "rule": "be at most 1", "unexpected_count": 8}],
        "segments": None,
        "model": None,
        "no_model_yet": None,
        "scores": None,
        "recommendations": None,
        "campaigns": [],
        "missing": [],
    }
    text = format_summary(summary)
    assert "  columns:     orders.csv changed (ignored: loyalty_tier; absent: currency)" in text
    assert "  flagged:     8 customer(s): return_rate_365d be at most 1 (unusual, kept)" in text
