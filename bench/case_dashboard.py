"""The dashboard in headless Chromium: a `plan.batch_jobs`-job run, from the Run click to the last chart drawn.

Each measured run gets a fresh browser context, so a fresh session: the page loads, the benchmark's job
CSV (bench.workload, the batch every benchmark sends) is uploaded through the page (untimed), then Run
scheduler is clicked. The page times itself (performance.now(), window.taskpilotTiming): from the click
event, through POST /run?detail=compact, GET /summary, /sustainability and one explanation, to the frame
after every chart was updated. Reloading the page (the history comes back from GET /history) and showing
each tab (its charts resize and redraw) are timed too. Playwright drives the system's Chromium; nothing is
downloaded.
"""

import shutil
import time
from typing import Any

from bench.report import Figure, Target
from bench.server import reset, serve
from bench.sizes import Plan
from bench.workload import jobs_csv

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABS = ("history", "analytics", "xai", "sustainability", "overview")
TIMEOUT_MS = 120_000
_DRAWN = "() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0)))"


def dashboard(plan: Plan) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    n = plan.batch_jobs
    body = jobs_csv(n)
    total = Figure("dashboard.run_to_drawn_s", "s", Target("<=", 2.0), f"{n} jobs, Run click to the last chart drawn, headless Chromium")
    request = Figure("dashboard.run_request_s", "s", note=f"{n} jobs, Run click to the /run?detail=compact answer parsed")
    render = Figure("dashboard.render_s", "s", note=f"{n} jobs: aggregate, update every chart and the table, next frame")
    reload = Figure("dashboard.reload_s", "s", note=f"{n}-job session: reload to ready, history from GET /history")
    tab = Figure("dashboard.tab_switch_s", "s", note=f"{n}-job session: slowest tab, click to its charts redrawn")
    with serve() as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for run in range(plan.repeats + 1):  # run 0 warms up
                timing, reload_s, tab_s, session_id = _one_run(browser, server.base_url, body)
                with server.client() as client:
                    reset(client, session_id)
                if timing["jobs"] != n:
                    raise RuntimeError(f"the page scheduled {timing['jobs']} jobs for {n} uploaded")
                if run > 0:
                    total.samples.append(timing["totalMs"] / 1000)
                    request.samples.append(timing["fetchMs"] / 1000)
                    render.samples.append(timing["renderMs"] / 1000)
                    reload.samples.append(reload_s)
                    tab.samples.append(tab_s)
        finally:
            browser.close()
    return [total, request, render, reload, tab]


def _one_run(browser: Any, base_url: str, body: bytes) -> tuple[dict[str, float], float, float, str]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(base_url + "/")
        page.wait_for_selector("body[data-ready='true']")
        page.set_input_files("#csv-file", {"name": "bench.csv", "mimeType": "text/csv", "buffer": body})
        page.click("#csv-form button[type=submit]")
        page.wait_for_function("() => /^Queued/.test(document.getElementById('csv-status').textContent)")
        page.click("#btn-run")
        page.wait_for_function("() => document.body.dataset.runState === 'done' || document.body.dataset.runState === 'error'")
        timing = page.evaluate("() => window.taskpilotTiming")
        if timing is None or errors:
            raise RuntimeError(f"the dashboard run failed: {errors or page.text_content('#notice')}")
        page.wait_for_selector("#overlay", state="hidden")
        slowest = 0.0
        for name in TABS:
            started = page.evaluate("() => performance.now()")
            page.click(f"#tabbtn-{name}")
            slowest = max(slowest, (page.evaluate(_DRAWN) - started) / 1000)
        started_s = time.perf_counter()
        page.reload()
        page.wait_for_selector("body[data-ready='true']")
        page.evaluate(_DRAWN)
        reload_s = time.perf_counter() - started_s
        session_id = page.evaluate("() => localStorage.getItem('taskpilot.session')")
        return timing, reload_s, slowest, session_id
    finally:
        context.close()
