"""The run report page: every section from what was gathered, escaped, pictures by lake key."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from campaignflow.ui.report import RunInfo, TaskRow, lake_key, latest_rejection, psi_chart, render

RUN = RunInfo(
    "campaign_daily",
    "backfill__2024-04-08T00:00:00+00:00",
    "2024-04-08",
    "success",
    "backfill",
    datetime(2024, 4, 8, 1, 0, 0),
    datetime(2024, 4, 8, 1, 2, 30),
    [
        TaskRow("score_customers", -1, "success", 1, 12.5),
        TaskRow("export_audience", 0, "failed", 3, 1.0, "winback"),
    ],
)


def _gathered(campaign: str = "winback") -> dict:
    summary = {
        "dt": "2024-04-08",
        "lake": "s3://bucket/lake",
        "raw": {"orders": 61, "events": None},
        "features": 800,
        "features_mode": "incremental: state of D-1 + day D",
        "absent_tables": ["returns"],
        "scores": 800,
        "segments": {"champions": 20, "hibernating": 300},
        "model": {
            "champion": "churn_lgbm@2024-04-07",
            "since": "2024-04-07",
            "reason": "first champion",
            "metrics": {"test": {"auc": 0.91234567, "ece": 0.02}, "baselines": {"recency only": 0.82}},
            "pictures": ["s3://bucket/lake/models/churn_lgbm/dt=2024-04-07/churn_model.png"],
        },
        "recommendations": {"pictures": []},
        "campaigns": [
            {
                "campaign": campaign,
                "matched": 700,
                "treatment": 40,
                "control": 5,
                "excluded": {"no_consent": 185},
                "report": f"s3://bucket/lake/audiences/{campaign}/dt=2024-04-08/_report.png",
                "exports": [{"destination": "google_ads", "rows": 40}],
            }
        ],
    }
    return {
        "summary": summary,
        "quality": [
            {"table": "orders", "rows": 61, "report": None},
            {"table": "events", "rows": None, "report": {"rows": 566, "failures": [{"column": "event_type"}]}},
        ],
        "training": {"churn": {"trained": True, "decision": "first champion"}, "recommender": None},
        "drift": [{"column": "recency_days", "psi": 0.4, "flagged": True}, {"column": "orders_90d", "psi": 0.01}],
        "lift": [{"campaign": campaign, "audience_dt": "2024-03-25", "treatment": 40, "control": 5, "lift": 0.05}],
    }


def test_every_section_and_number_is_on_the_page() -> None:
    page = render(RUN, _gathered())
    for text in ("Stages", "Data quality", "Row counts", "Models", "Segments", "Audiences", "Drift", "Measured lift"):
        assert text in page
    assert "export_audience[winback]" in page and "150.0 s" in page
    assert "quarantined" in page and "event_type" in page
    assert "0.9123" in page and "recency only" in page and "hibernating" in page
    assert "excluded: no_consent" in page and "google_ads=40" in page
    assert 'src="files/models/churn_lgbm/dt=2024-04-07/churn_model.png"' in page
    assert 'src="files/audiences/winback/dt=2024-04-08/_report.png"' in page
    assert "drifted: recency_days" in page


def test_a_run_that_rejected_a_batch_shows_it_over_the_committed_one() -> None:
    """A date re-landed with a bad batch keeps its committed raw: the run that rejected it shows the
    quarantine (and that the committed batch is kept); the date's other runs show the committed rows."""
    gathered = _gathered()
    report = {"rows": 62, "failures": [{"column": "order_id"}]}
    gathered["quality"] = [{"table": "orders", "rows": 61, "report": report}]
    rejecting = replace(RUN, dag_id="ingest_features", tasks=[TaskRow("validate_raw", -1, "failed", 1, 2.0)])
    page = render(rejecting, gathered)
    assert "quarantined" in page and "order_id" in page and "batch of 61 rows is kept" in page
    for run in (RUN, replace(rejecting, tasks=[TaskRow("validate_raw", -1, "success", 2, 2.0)])):
        page = render(run, gathered)
        assert "quarantined" not in page and "order_id" not in page and ">61<" in page


def test_a_rejecting_run_shows_only_its_own_rejection() -> None:
    """Events were rejected once and a later batch re-landed only orders, which was rejected too:
    events keep the older quarantine, but the rejecting run shows the committed events as passed."""
    gathered = _gathered()
    older = {"rows": 566, "rejected_at": "2024-04-08T06:00:00+00:00", "failures": [{"column": "event_type"}]}
    newer = {"rows": 62, "rejected_at": "2024-04-08T09:30:00+00:00", "failures": [{"column": "order_id"}]}
    gathered["quality"] = [
        {"table": "orders", "rows": 61, "report": newer},
        {"table": "events", "rows": 566, "report": older},
    ]
    rejecting = replace(RUN, dag_id="ingest_features", tasks=[TaskRow("validate_raw", -1, "failed", 1, 2.0)])
    page = render(rejecting, gathered)
    assert "order_id" in page and "batch of 61 rows is kept" in page
    assert "event_type" not in page and "batch of 566 rows is kept" not in page and ">566<" in page
    assert latest_rejection(gathered["quality"]) == newer["rejected_at"]


def test_nothing_in_the_lake_yet() -> None:
    page = render(RUN, None)
    assert "Nothing is committed" in page and "score_customers" in page


@given(st.text(min_size=1, max_size=30))
def test_names_are_escaped(name: str) -> None:
    page = render(RUN, _gathered(campaign=f"<script>{name}</script>"))
    assert "<script>" not in page


def test_psi_chart_marks_flagged_columns_and_the_alert_level() -> None:
    svg = psi_chart([{"column": "a", "psi": 0.4, "flagged": True}, {"column": "b", "psi": 0.05, "flagged": False}])
    assert svg.count("<rect") == 2 and "#c53030" in svg and "<line" in svg
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert widths[0] > widths[1] * 7  # bars are proportional to PSI (0.4 vs 0.05)
    assert psi_chart([]) == ""


def test_lake_key() -> None:
    assert lake_key("s3://b/lake", "s3://b/lake/models/x/dt=1/a.png") == "models/x/dt=1/a.png"
    assert lake_key("/tmp/lake/", "/tmp/lake/audiences/w/_report.png") == "audiences/w/_report.png"
