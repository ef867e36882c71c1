"""The FastAPI app behind the run report, mounted by Airflow's API server at ``/campaignflow``.

Every route sits behind Airflow's own authentication and authorisation (the UI's session cookie or
a bearer token, checked by the configured auth manager for read access to the DAG's runs):

- ``GET /campaignflow/`` — recent runs of the suite, each linked to its report;
- ``GET /campaignflow/runs/{dag_id}/{run_id}`` — the report of one run (the run page's
  *Campaign report* tab shows it);
- ``GET /campaignflow/runs/{dag_id}/files/{key}`` — a picture from the lake (PNG under the model,
  audience and monitoring zones only).

Routes are plain ``def``: FastAPI runs them in its thread pool, so the blocking metadata-DB and
object-store reads never stall the API server's event loop.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response

from campaignflow.orchestration.dag_defaults import SUITE
from campaignflow.ui.report import RunInfo, TaskRow, gather, render

log = logging.getLogger(__name__)

PICTURE_ZONES = ("models/", "audiences/", "monitoring/")
RECENT_RUNS = 40

app = FastAPI(title="campaignflow run report", docs_url=None, redoc_url=None, openapi_url=None)
can_read_runs = Depends(requires_access_dag("GET", DagAccessEntity.RUN))


def load_run(dag_id: str, run_id: str) -> RunInfo | None:
    """The run and its task instances from Airflow's metadata DB (None: no such run)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if run is None:
            return None
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        ).all()
        tasks = [
            TaskRow(t.task_id, t.map_index, _value(t.state), t.try_number, t.duration, t.rendered_map_index)
            for t in tis
        ]
        when = run.logical_date or run.run_after
        return RunInfo(
            dag_id,
            run_id,
            when.date().isoformat(),
            _value(run.state),
            _value(run.run_type),
            run.start_date,
            run.end_date,
            tasks,
        )


def _value(enum_or_str: Any) -> str:
    return str(getattr(enum_or_str, "value", enum_or_str))


@app.get("/runs/{dag_id}/{run_id}", response_class=HTMLResponse, dependencies=[can_read_runs])
def run_report(dag_id: str, run_id: str) -> HTMLResponse:
    from campaignflow.orchestration.tasks import connected_runtime

    run = load_run(dag_id, run_id)
    if run is None:
        raise HTTPException(status_code=404, detail=f"no run {run_id} of {dag_id}")
    try:
        gathered = gather(connected_runtime(), run.ds)
    except Exception as err:  # a half-written date still gets its stage table, with the reason
        log.warning("report for %s %s: lake not readable: %s", dag_id, run.ds, err)
        gathered = None
    return HTMLResponse(render(run, gathered, picture_url="files/"))


@app.get("/runs/{dag_id}/files/{key:path}", dependencies=[can_read_runs])
def picture(dag_id: str, key: str) -> Response:
    from campaignflow.orchestration.tasks import connected_runtime

    if not key.endswith(".png") or ".." in key.split("/") or not key.startswith(PICTURE_ZONES):
        raise HTTPException(status_code=404, detail="only the lake's report pictures are served")
    store = connected_runtime().lake.store
    if not store.exists(key):
        raise HTTPException(status_code=404, detail=f"{key} is not in the lake")
    return Response(store.read_bytes(key), media_type="image/png")


@app.get("/", response_class=HTMLResponse, dependencies=[can_read_runs])
def recent_runs() -> HTMLResponse:
    import html

    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        runs = session.scalars(
            select(DagRun).where(DagRun.dag_id.in_(SUITE)).order_by(DagRun.run_after.desc()).limit(RECENT_RUNS)
        ).all()
        rows = "".join(
            f"<tr><td>{html.escape(r.dag_id)}</td><td>{(r.logical_date or r.run_after).date()}</td>"
            f"<td>{html.escape(_value(r.state))}</td>"
            f'<td><a href="runs/{html.escape(r.dag_id)}/{html.escape(r.run_id)}">report</a></td></tr>'
            for r in runs
        )
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'><title>campaignflow runs</title></head><body>"
        "<h1>campaignflow runs</h1><table><tr><th>DAG</th><th>date</th><th>state</th><th></th></tr>"
        f"{rows}</table></body></html>"
    )
