"""Reasons in words, from SHAP contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from campaignflow.models.reasons import describe, top_reasons


@pytest.mark.parametrize(
    ("feature", "value", "text"),
    [
        ("recency_days", 74.0, "no order in 74 days"),
        ("recency_days", None, "never ordered"),
        ("days_since_last_email_click", 12.0, "no email click in 12 days"),
        ("email_clicks_trend_30d", 0.2, "email clicks down 80% (30 d vs the 30 d before)"),
        ("orders_trend_30d", 1.5, "orders up 50% (30 d vs the 30 d before)"),
        ("views_7d", 0.0, "0 product views in the last 7 days"),
        ("monetary_90d", 1234.5, "spent 1,234 in the last 90 days"),
        ("discount_share", 0.25, "25% of items bought on discount"),
        ("days_to_peak", 20.0, "time of year (20 days to the peak season)"),
    ],
)
def test_phrases(feature: str, value: float | None, text: str) -> None:
    assert describe(feature, value) == text


def test_top_reasons_are_the_largest_positive_contributions() -> None:
    columns = ["recency_days", "orders_30d", "email_clicks_30d", "tenure_days"]
    frame = pd.DataFrame(
        {
            "recency_days": [90.0, 3.0],
            "orders_30d": [0.0, 2.0],
            "email_clicks_30d": [0.0, 5.0],
            "tenure_days": [400.0, 20.0],
        }
    )
    contrib = np.array([[1.5, 0.4, 0.9, -0.2, 0.1], [-1.0, -0.5, -0.3, 0.2, 0.1]])  # last column: bias
    out = top_reasons(contrib, frame, columns)
    assert out.iloc[0].tolist() == [
        "no order in 90 days",
        "0 email clicks in the last 30 days",
        "0 orders in the last 30 days",
    ]
    assert out.iloc[1].tolist() == ["customer for 20 days", None, None]  # only one feature pushes risk up
