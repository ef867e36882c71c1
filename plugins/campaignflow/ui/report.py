"""One DAG run's report, gathered from the metadata DB's task instances and the lake's manifests.

:func:`gather` reads (the lake through :func:`campaignflow.reporting.summarise` plus drift, lift,
training decisions and quarantine reports); :func:`render` is a pure function of what was gathered
and returns one HTML page. Pictures are served by the app from the lake by key; nothing here holds
PII (counts, metrics and model names only).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from campaignflow.io import datasets
from campaignflow.io.lake import REPORT
from campaignflow.models.registry import training_decision
from campaignflow.runtime import Runtime


@dataclass(frozen=True)
class TaskRow:
    """One task instance of the run, as the metadata DB has it."""

    task_id: str
    map_index: int
    state: str | None
    try_number: int
    duration: float | None
    label: str | None = None  # a mapped instance's name (the campaign)


@dataclass(frozen=True)
class RunInfo:
    """The DAG run the report is for."""

    dag_id: str
    run_id: str
    ds: str
    state: str
    run_type: str
    start: datetime | None
    end: datetime | None
    tasks: list[TaskRow] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        return (self.end - self.start).total_seconds() if self.start and self.end else None


def gather(rt: Runtime, ds: str) -> dict[str, Any]:
    """Everything the lake holds about ``ds`` that the report shows."""
    from campaignflow.reporting import summarise

    lake = rt.lake
    out: dict[str, Any] = {"summary": summarise(rt, ds), "quality": [], "training": {}, "drift": None, "lift": None}
    for table in datasets.RAW_TABLES:
        raw, quarantine = datasets.raw(table).at(ds), datasets.raw_quarantine(table).at(ds)
        rows = lake.manifest(raw)["rows"] if lake.is_committed(raw) else None
        quarantined = lake.is_committed(quarantine)
        report = json.loads(lake.store.read_bytes(f"{quarantine.key}/{REPORT}")) if quarantined else None
        if rows is not None or report is not None:
            out["quality"].append({"table": table, "rows": rows, "report": report})
    for task in ("churn", "recommender"):
        out["training"][task] = training_decision(lake, ds, task)
    drift = datasets.CHURN_DRIFT.at(ds)
    if lake.is_committed(drift):
        out["drift"] = lake.read_frame(drift).to_dict("records")
    lift = datasets.CAMPAIGN_LIFT.at(ds)
    if lake.is_committed(lift):
        out["lift"] = lake.read_frame(lift).to_dict("records")
    return out


def lake_key(lake_uri: str, uri: str) -> str:
    """The lake key of a full URI the summary holds (for the picture endpoint)."""
    return uri.removeprefix(lake_uri.rstrip("/") + "/")


# ---------------------------------------------------------------- rendering (pure)

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.2rem;color:#1a202c;max-width:1200px}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #e2e8f0}
table{border-collapse:collapse;margin:.4rem 0}
td,th{padding:.2rem .6rem;border-bottom:1px solid #edf2f7;text-align:left}
th{background:#f7fafc} .ok{color:#276749} .bad{color:#c53030;font-weight:600} .muted{color:#718096}
img{max-width:100%;border:1px solid #e2e8f0;margin:.3rem 0} .grid{display:flex;flex-wrap:wrap;gap:1rem}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: list[str], rows: list[list[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _state(state: str | None) -> str:
    cls = "ok" if state in ("success", "skipped") else "bad" if state in ("failed", "upstream_failed") else "muted"
    return f'<span class="{cls}">{_e(state or "none")}</span>'


def _num(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return _e(round(value, digits))
    return _e(value)


def psi_chart(rows: list[dict[str, Any]], alert: float = 0.25, width: int = 520) -> str:
    """PSI per column as an inline SVG bar chart, the alert level marked (pure)."""
    rows = sorted(rows, key=lambda r: -float(r["psi"]))[:20]
    if not rows:
        return ""
    top = max([float(r["psi"]) for r in rows] + [alert * 1.2])
    bar_h, label_w = 16, 190
    scale = (width - label_w - 50) / top
    parts = []
    for i, r in enumerate(rows):
        y, w = i * (bar_h + 4), max(1.0, float(r["psi"]) * scale)
        colour = "#c53030" if r.get("flagged") else "#3182ce"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" font-size="11">{_e(r["column"])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 12}" font-size="11">{float(r["psi"]):.3f}</text>'
        )
    height = len(rows) * (bar_h + 4)
    x = label_w + alert * scale
    parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#c53030" stroke-dasharray="4"/>')
    return (
        f'<svg role="img" aria-label="PSI per column" width="{width}" height="{height + 4}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


def render(run: RunInfo, gathered: dict[str, Any] | None, picture_url: str = "files/") -> str:
    """The report page for ``run`` (``gathered`` None: the lake has nothing for its date yet)."""
    seconds = f"{run.seconds:.1f} s" if run.seconds is not None else "running"
    parts = [
        f"<h1>campaignflow · {_e(run.dag_id)} · {_e(run.ds)}</h1>",
        f"<p>run <code>{_e(run.run_id)}</code> ({_e(run.run_type)}) {_state(run.state)} · wall time {seconds}</p>",
        "<h2>Stages</h2>",
        _stages(run),
    ]
    if gathered is None:
        parts.append('<p class="muted">Nothing is committed in the lake for this date yet.</p>')
    else:
        s = gathered["summary"]
        parts += [_quality(gathered, rejected_by(run)), _features(s), _models(s, gathered, picture_url), _segments(s)]
        parts += [_audiences(s, picture_url), _drift(gathered), _lift(gathered)]
    body = "\n".join(p for p in parts if p)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>campaignflow {_e(run.dag_id)} {_e(run.ds)}</title>'
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )


def _stages(run: RunInfo) -> str:
    rows = []
    for t in sorted(run.tasks, key=lambda t: (t.task_id, t.map_index)):
        name = t.task_id + (f"[{t.label or t.map_index}]" if t.map_index >= 0 else "")
        took = f"{t.duration:.1f}" if t.duration is not None else ""
        rows.append([_e(name), _state(t.state), _e(t.try_number), took])
    return _table(["task", "state", "tries", "seconds"], rows, "stages")


def rejected_by(run: RunInfo) -> bool:
    """Whether ``run`` itself rejected a batch (its validation failed): its report shows the quarantine
    even where an earlier batch of the date stays committed."""
    return any(t.task_id == "validate_raw" and t.state == "failed" for t in run.tasks)


def latest_rejection(quality: list[dict[str, Any]]) -> str | None:
    """When the newest rejection of the date's raw batches happened (its reports' ``rejected_at``;
    None where no report has one: a lake from before the stamp)."""
    return max((q["report"]["rejected_at"] for q in quality if (q["report"] or {}).get("rejected_at")), default=None)


def _quality(g: dict[str, Any], rejected: bool) -> str:
    """Per raw table: committed (rows), or quarantined with its report where nothing is committed or
    this run rejected the batch (the earlier committed one is kept, and said so). A run that rejected
    a batch shows the quarantines of that rejection, the newest: a table its batch did not re-land
    keeps an older quarantine, which is not this run's."""
    rows = []
    newest = latest_rejection(g["quality"])
    for q in g["quality"]:
        report = q["report"]
        ours = rejected and report is not None and report.get("rejected_at") == newest  # unstamped: all ours
        if report is None or (q["rows"] is not None and not ours):
            rows.append([_e(q["table"]), '<span class="ok">passed</span>', _e(q["rows"]), ""])
        else:
            failures = report.get("failures") or report.get("errors") or report
            kept = f" (the committed batch of {_e(q['rows'])} rows is kept)" if q["rows"] is not None else ""
            rows.append(
                [
                    _e(q["table"]),
                    f'<span class="bad">quarantined</span>{kept}',
                    _e(report.get("rows", "")),
                    f"<code>{_e(json.dumps(failures, default=str)[:1500])}</code>",
                ]
            )
    if not rows:
        return "<h2>Data quality</h2><p class='muted'>no raw table committed or quarantined for this date</p>"
    return "<h2>Data quality</h2>" + _table(["table", "result", "rows", "report"], rows, "quality")


def _features(s: dict[str, Any]) -> str:
    raw = ", ".join(f"{t}={n}" for t, n in s["raw"].items() if n is not None)
    rows = [
        ["raw rows", _e(raw)],
        ["features", _e(s["features"])],
        ["feature build", _e(s["features_mode"])],
        ["scores", _e(s["scores"])],
        ["absent tables", _e(", ".join(s["absent_tables"]) or "none")],
    ]
    return "<h2>Row counts</h2>" + _table(["stage", "value"], rows, "counts")


def _models(s: dict[str, Any], g: dict[str, Any], picture_url: str) -> str:
    out = ["<h2>Models</h2>"]
    for task, decision in g["training"].items():
        if decision:
            what = decision.get("decision") or decision.get("why") or decision.get("skipped") or decision.get("refused")
            out.append(f"<p>{_e(task)} training: trained={_e(decision.get('trained'))} · {_e(what)}</p>")
    model = s.get("model")
    if not model:
        out.append("<p class='muted'>no churn champion serves this date</p>")
        return "".join(out)
    test = model["metrics"].get("test", {})
    out.append(
        f"<p>churn champion <b>{_e(model['champion'])}</b> since {_e(model['since'])}: {_e(model['reason'])}</p>"
    )
    keys = [k for k in ("auc", "pr_auc", "ece", "log_loss", "lift@10%", "churn_rate") if k in test]
    out.append(_table(keys, [[_num(test[k]) for k in keys]], "metrics"))
    baselines = model["metrics"].get("baselines", {})
    if baselines:
        out.append(_table(["baseline", "test AUC"], [[_e(k), _num(v)] for k, v in baselines.items()], "baselines"))
    lake_uri = s["lake"]
    out.append('<div class="grid">')
    for uri in model["pictures"]:
        out.append(f'<img alt="model picture" src="{_e(picture_url + lake_key(lake_uri, uri))}">')
    rec = s.get("recommendations") or {}
    for uri in rec.get("pictures", []) if isinstance(rec, dict) else []:
        out.append(f'<img alt="recommender picture" src="{_e(picture_url + lake_key(lake_uri, uri))}">')
    out.append("</div>")
    return "".join(out)


def _segments(s: dict[str, Any]) -> str:
    tiers = s.get("segments") or {}
    if not tiers:
        return ""
    rows = [[_e(k), _e(v)] for k, v in sorted(tiers.items(), key=lambda kv: -int(kv[1]))]
    return "<h2>Segments</h2>" + _table(["RFM tier", "customers"], rows, "segments")


_FUNNEL = ("matched", "treatment", "control")


def _audiences(s: dict[str, Any], picture_url: str) -> str:
    if not s["campaigns"]:
        return "<h2>Audiences</h2><p class='muted'>no audience committed for this date</p>"
    out = ["<h2>Audiences</h2>"]
    for c in s["campaigns"]:
        excluded = c.get("excluded") or {}
        funnel = [[_e(k), _e(c.get(k))] for k in _FUNNEL] + [[_e(f"excluded: {k}"), _e(v)] for k, v in excluded.items()]
        exports = ", ".join(f"{e['destination']}={e['rows']}" for e in c["exports"]) or "not published"
        out.append(f"<h3>{_e(c['campaign'])}</h3>" + _table(["funnel", "customers"], funnel, "funnel"))
        out.append(f"<p>published: {_e(exports)}</p>")
        out.append(
            f'<img alt="{_e(c["campaign"])} audience" src="{_e(picture_url + lake_key(s["lake"], c["report"]))}">'
        )
    return "".join(out)


def _drift(g: dict[str, Any]) -> str:
    if not g["drift"]:
        return ""
    flagged = [r["column"] for r in g["drift"] if r.get("flagged")]
    note = f"<p class='bad'>drifted: {_e(', '.join(flagged))}</p>" if flagged else "<p class='ok'>no column drifted</p>"
    return "<h2>Drift (PSI vs the training window)</h2>" + note + psi_chart(g["drift"])


def _lift(g: dict[str, Any]) -> str:
    if not g["lift"]:
        return ""
    keys = ["campaign", "audience_dt", "treatment", "control", "lift", "lift_low", "lift_high", "p_lift_positive"]
    rows = [[_num(r.get(k)) for k in keys] for r in g["lift"]]
    return "<h2>Measured lift</h2>" + _table(keys, rows, "lift")
