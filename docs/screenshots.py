"""`python docs/screenshots.py`: regenerate the dashboard screenshots in docs/ (headless Chromium).

Starts a server with default settings on 127.0.0.1 (bench.live.live_server), opens the page in a grid-scenario
session with a fixed seed, uploads the dashboard's sample CSV (frontend/static/sample_jobs.csv: urgencies,
deadlines, run times) and runs it, then a second batch of 400 jobs from the benchmark workload with the same
when-to-run columns added, and saves each tab at 1440 px wide plus the overview at 390 px (a phone). The
Compare tab is saved after a placement simulation with its default options (every policy, 2,000 task-trace
jobs, grid), and after a deferral study with its defaults, each with a fixed seed. The Workflows tab is saved last
(its tasks become jobs of the session, so the other tabs are saved without them): the diamond example run to its end,
then the failing saga, shown with its DAG, Gantt, compensations and dead task.

`python docs/screenshots.py workflows` (any tab names) saves only those tabs.
"""

import csv
import io
import json
import shutil
import sys
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live import live_server  # noqa: E402 -- after the sys.path line above
from bench.workload import SEED, make_jobs  # noqa: E402

DOCS = ROOT / "docs"
TABS = ("overview", "history", "analytics", "xai", "sustainability", "compare")
WORKFLOWS = ("diamond", "saga")  # examples under frontend/static/workflows/, run in this order; the last one is shown
FOLLOWED = "(id) => document.getElementById('wf-detail').dataset.id === id && document.body.dataset.workflowFollow === 'idle'"
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
SESSION_SEED = 7
SIMULATION_SEED = 7
SETTLED = "() => ['done', 'failed', 'cancelled', 'error'].includes(document.body.dataset.simState)"


def when_csv(n: int) -> bytes:
    """The benchmark's n jobs with when-to-run columns: every urgency in turn, a run time, a deadline in
    minutes for every fourth job and every second flexible one interruptible."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["priority", "latency", "cpu", "memory", "duration_min", "urgency", "deadline", "interruptible"])
    for i, job in enumerate(make_jobs(n, np.random.default_rng(SEED))):
        duration = 20 + 10 * (i % 7)
        urgency = ("critical", "normal", "flexible")[i % 3]
        deadline = duration + 60 * (2 + i % 11) if i % 4 == 0 else ""
        writer.writerow([job["priority"], job["latency"], job["cpu"], job["memory"], duration, urgency, deadline, "true" if i % 2 else ""])
    return buf.getvalue().encode()


def deferred_job(base_url: str, session_id: str) -> int:
    """The first job still waiting for its deferred start (job 3 when none is)."""
    with httpx.Client(base_url=base_url, trust_env=False, headers={"X-Session-ID": session_id}) as client:
        waiting = client.get("/queue").json()["deferred"]
    return waiting[0]["job_id"] if waiting else 3


def simulate(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("#sim-seed", str(SIMULATION_SEED))
    page.click("#sim-start")
    page.wait_for_function(SETTLED, timeout=120_000)
    if page.get_attribute("body", "data-sim-state") != "done":
        raise RuntimeError(f"the simulation did not finish: {page.text_content('#sim-status')}")


def upload_and_run(page, name: str, content: bytes) -> None:  # type: ignore[no-untyped-def]
    if page.is_hidden("#add-panel"):
        page.click("#btn-new-job")
    page.set_input_files("#csv-file", {"name": name, "mimeType": "text/csv", "buffer": content})
    runs = int(page.get_attribute("body", "data-runs") or 0)
    page.click("#btn-run")
    page.wait_for_function(f"() => Number(document.body.dataset.runs || 0) > {runs}")
    page.wait_for_selector("#overlay", state="hidden")


def run_workflows(page) -> None:  # type: ignore[no-untyped-def]
    """Each example through the editor, each followed by the page until none of its tasks moves."""
    for name in WORKFLOWS:
        page.select_option("#wf-example", name)
        page.click("#wf-load")
        title = json.loads((ROOT / "frontend" / "static" / "workflows" / f"{name}.json").read_text(encoding="utf-8"))["name"]
        page.wait_for_function("(title) => document.getElementById('wf-text').value.includes(JSON.stringify(title))", arg=title)
        with page.expect_response(lambda r: r.url.endswith("/workflows") and r.request.method == "POST") as answer:
            page.click("#wf-submit")
        workflow_id = answer.value.json()["workflow_id"]
        page.wait_for_function(FOLLOWED, arg=workflow_id, timeout=60_000)


def main(only: tuple[str, ...] = ()) -> int:
    from playwright.sync_api import sync_playwright

    with live_server() as server, sync_playwright() as p:
        with server.client() as client:
            session_id = client.get("/session", params={"seed": SESSION_SEED, "scenario": "grid"}).json()["session_id"]
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(f"localStorage.setItem('taskpilot.session', {session_id!r})")
        page = context.new_page()
        page.goto(server.base_url + "/")
        page.wait_for_selector("body[data-ready='true']")
        upload_and_run(page, "sample_jobs.csv", (ROOT / "frontend" / "static" / "sample_jobs.csv").read_bytes())
        upload_and_run(page, "workload_400.csv", when_csv(400))
        for tab in (t for t in TABS if not only or t in only):
            page.click(f"#tabbtn-{tab}")
            if tab == "xai":  # a deferred job: its When sentence, status, start and deadline
                job = deferred_job(server.base_url, session_id)
                page.fill("#xai-job", str(job))
                page.click("#xai-form button[type=submit]")
                page.wait_for_function(f"() => document.getElementById('xai-title').textContent.startsWith('Job {job}:')")
            if tab == "compare":
                simulate(page)
            page.wait_for_timeout(300)
            path = DOCS / f"dashboard-{tab}.png"
            page.screenshot(path=str(path), full_page=True)
            print(path.relative_to(ROOT))
        if not only or "compare" in only:
            page.select_option("#sim-study", "deferral")
            simulate(page)
            page.wait_for_timeout(300)
            path = DOCS / "dashboard-compare-deferral.png"
            page.screenshot(path=str(path), full_page=True)
            print(path.relative_to(ROOT))
        if not only or "overview" in only:
            page.click("#tabbtn-overview")
            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(300)
            path = DOCS / "dashboard-overview-390px.png"
            page.screenshot(path=str(path))
            print(path.relative_to(ROOT))
            page.set_viewport_size({"width": 1440, "height": 900})
        if not only or "workflows" in only:
            page.click("#tabbtn-workflows")
            run_workflows(page)
            page.wait_for_timeout(300)
            path = DOCS / "dashboard-workflows.png"
            page.screenshot(path=str(path), full_page=True)
            print(path.relative_to(ROOT))
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(tuple(sys.argv[1:])))
