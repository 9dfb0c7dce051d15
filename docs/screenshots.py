"""`python docs/screenshots.py`: regenerate the dashboard screenshots in docs/ (headless Chromium).

Starts a server with default settings on 127.0.0.1 (bench.server.serve), opens the page in a session with
a fixed seed, uploads dataset_rl/sample_100_jobs.csv and runs it, then a second batch of 400 jobs from the
benchmark workload, and saves each tab at 1440 px wide plus the overview at 390 px (a phone). The Compare
tab is saved after a simulation with its default options (every policy, 2,000 task-trace jobs, grid) and
a fixed seed.
"""

import shutil
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import serve
from bench.workload import jobs_csv

DOCS = ROOT / "docs"
TABS = ("overview", "history", "analytics", "xai", "sustainability", "compare")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SESSION_SEED = 7
SIMULATION_SEED = 7


def upload_and_run(page, name: str, content: bytes) -> None:  # type: ignore[no-untyped-def]
    if page.is_hidden("#add-panel"):
        page.click("#btn-new-job")
    page.set_input_files("#csv-file", {"name": name, "mimeType": "text/csv", "buffer": content})
    runs = int(page.get_attribute("body", "data-runs") or 0)
    page.click("#btn-run")
    page.wait_for_function(f"() => Number(document.body.dataset.runs || 0) > {runs}")
    page.wait_for_selector("#overlay", state="hidden")


def main() -> int:
    from playwright.sync_api import sync_playwright

    with serve() as server, sync_playwright() as p:
        with httpx.Client(base_url=server.base_url, trust_env=False) as client:
            session_id = client.get("/session", params={"seed": SESSION_SEED}).json()["session_id"]
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(f"localStorage.setItem('taskpilot.session', {session_id!r})")
        page = context.new_page()
        page.goto(server.base_url + "/")
        page.wait_for_selector("body[data-ready='true']")
        upload_and_run(page, "sample_100_jobs.csv", (ROOT / "dataset_rl" / "sample_100_jobs.csv").read_bytes())
        upload_and_run(page, "workload_400.csv", jobs_csv(400))
        for tab in TABS:
            page.click(f"#tabbtn-{tab}")
            if tab == "xai":
                page.fill("#xai-job", "3")
                page.click("#xai-form button[type=submit]")
                page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 3:')")
            if tab == "compare":
                page.fill("#sim-seed", str(SIMULATION_SEED))
                page.click("#sim-start")
                page.wait_for_function("() => ['done', 'failed', 'cancelled', 'error'].includes(document.body.dataset.simState)", timeout=120_000)
                if page.get_attribute("body", "data-sim-state") != "done":
                    raise RuntimeError(f"the simulation did not finish: {page.text_content('#sim-status')}")
            page.wait_for_timeout(300)
            path = DOCS / f"dashboard-{tab}.png"
            page.screenshot(path=str(path), full_page=True)
            print(path.relative_to(ROOT))
        page.click("#tabbtn-overview")
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        path = DOCS / "dashboard-overview-390px.png"
        page.screenshot(path=str(path))
        print(path.relative_to(ROOT))
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
