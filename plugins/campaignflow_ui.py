"""Airflow plugin: the campaignflow run report (a FastAPI app) and its links in the Airflow UI.

The only file Airflow's plugin manager loads from this folder; the app itself lives in the
installed library (:mod:`campaignflow.ui.app`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from campaignflow.ui.app import app


class CampaignflowPlugin(AirflowPlugin):
    name = "campaignflow"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": app, "url_prefix": "/campaignflow", "name": "campaignflow run report"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Campaign report",
            "href": "campaignflow/runs/{DAG_ID}/{RUN_ID}",
            "destination": "dag_run",
            "url_route": "campaign_report",
        },
        {"name": "Campaign runs", "href": "campaignflow/", "destination": "nav", "url_route": "campaign_runs"},
    ]
