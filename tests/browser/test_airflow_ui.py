"""Headless Chromium against the scheduler test's Airflow: log in, open the runs and the run report.

Debian's chromium driven by Playwright for Python (no browser download: the system binary is used).
Screenshots go to ``$CAMPAIGNFLOW_ARTIFACTS`` (default ``var/test-artifacts``) for people to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.airflow_stack import PASSWORD, USER
from campaignflow.io import datasets
from campaignflow.orchestration.dag_defaults import CAMPAIGN_MEASUREMENT
from tests.conftest import ROOT
from tests.daily_shop import D1, D2

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("CAMPAIGNFLOW_ARTIFACTS", ROOT / "var" / "test-artifacts"))
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def browser_page(backfilled_stack):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: scripts/install.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    stack, shop, finished = backfilled_stack
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(f"{stack.url}/")
        page.get_by_label("Username").fill(USER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/auth/login" not in url)
        yield stack, finished, page, shop
        browser.close()


def _run_of(finished: dict, dag_id: str, day: str) -> str:
    return next(r["dag_run_id"] for r in finished[dag_id] if r["logical_date"].startswith(day))


def test_dag_runs_page_lists_the_backfill(browser_page) -> None:  # type: ignore[no-untyped-def]
    stack, finished, page, _ = browser_page
    page.goto(f"{stack.url}/dags/campaign_daily/runs")
    run_id = _run_of(finished, "campaign_daily", str(D2))
    page.get_by_text(run_id).first.wait_for()
    body = page.inner_text("body")
    assert "campaign_daily" in body and "backfill" in body.lower()
    page.screenshot(path=str(ARTIFACTS / "campaign_daily-runs.png"), full_page=True)


def test_run_report_tab_shows_the_campaign_report(browser_page) -> None:  # type: ignore[no-untyped-def]
    stack, finished, page, _ = browser_page
    run_id = _run_of(finished, "campaign_daily", str(D2))
    page.goto(f"{stack.url}/dags/campaign_daily/runs/{run_id}/plugin/campaign_report")
    frame = page.frame_locator("iframe").first
    frame.get_by_text("Audiences").first.wait_for()
    text = frame.locator("body").inner_text()
    for expected in ("Stages", "Data quality", "Models", "Segments", "winback", "vip_care", str(D2)):
        assert expected in text, expected
    page.screenshot(path=str(ARTIFACTS / "campaign_daily-report-tab.png"), full_page=True)


def test_report_page_pictures_load(browser_page) -> None:  # type: ignore[no-untyped-def]
    stack, finished, page, _ = browser_page
    run_id = _run_of(finished, "campaign_daily", str(D2))
    page.goto(f"{stack.url}/campaignflow/runs/campaign_daily/{run_id}")
    page.wait_for_load_state("networkidle")
    sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.getAttribute('alt'), i.naturalWidth])")
    assert len(sizes) >= 3 and all(width > 0 for _, width in sizes), sizes  # model and audience pictures
    assert page.locator("table.funnel").count() == 2
    page.screenshot(path=str(ARTIFACTS / "campaign_daily-report.png"), full_page=True)


def test_backfill_form_backfills_the_measurement_dag(browser_page) -> None:  # type: ignore[no-untyped-def]
    """The runbook's UI path: Trigger → Backfill, a date range, "Missing and Errored Runs", 2 active runs."""
    stack, _, page, shop = browser_page
    stack.start_dags((CAMPAIGN_MEASUREMENT,))
    page.goto(f"{stack.url}/dags/{CAMPAIGN_MEASUREMENT}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Backfill", exact=True).first.click()
    for picker, day in zip(dialog.get_by_test_id("datetime-input").all(), (D1, D2), strict=True):
        picker.click()  # a popover with a date and a time field
        page.get_by_placeholder("YYYY/MM/DD").last.fill(day.strftime("%Y/%m/%d"))
        page.get_by_placeholder("HH:mm").last.fill("00:00")
        page.keyboard.press("Escape")
    dialog.get_by_text("Missing and Errored Runs").click()
    dialog.get_by_role("spinbutton").first.fill("2")
    dialog.get_by_text("2 runs will be triggered.").wait_for()  # the form's dry run
    page.screenshot(path=str(ARTIFACTS / "backfill-form.png"))
    dialog.get_by_role("button", name="Run Backfill").click()
    page.get_by_text("Backfill generated").first.wait_for()

    (created,) = stack.api("GET", f"backfills?dag_id={CAMPAIGN_MEASUREMENT}")["backfills"]
    assert created["from_date"].startswith(str(D1)) and created["to_date"].startswith(str(D2))
    assert (created["reprocess_behavior"], created["max_active_runs"]) == ("failed", 2)
    stack.wait_for_backfill(created["id"])
    runs = [r for r in stack.runs(CAMPAIGN_MEASUREMENT) if r["run_type"] == "backfill"]
    assert sorted(r["logical_date"][:10] for r in runs) == [str(D1), str(D2)]
    for run in runs:
        assert run["state"] == "success", stack.failures(CAMPAIGN_MEASUREMENT, run["dag_run_id"])
    lake = shop.runtime().lake
    assert all(lake.is_committed(datasets.CAMPAIGN_LIFT.at(str(d))) for d in (D1, D2))


def test_report_needs_a_login(backfilled_stack) -> None:  # type: ignore[no-untyped-def]
    stack, _, finished = backfilled_stack
    run_id = _run_of(finished, "campaign_daily", str(D2))
    status, _ = stack.get(f"/campaignflow/runs/campaign_daily/{run_id}")
    assert status in (401, 403)
    status, body = stack.get(f"/campaignflow/runs/campaign_daily/{run_id}", token=stack.token())
    assert status == 200 and b"Audiences" in body
    status, _ = stack.get("/campaignflow/runs/campaign_daily/files/../../etc/passwd.png", token=stack.token())
    assert status == 404
