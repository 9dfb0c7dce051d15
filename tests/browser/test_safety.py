"""What the page does with what it does not control: hostile text, server errors, lost sessions, a
phone-sized screen."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import TIMEOUT_MS, Dashboard, jobs_csv, mixed_jobs

SERVER_ENV = {"TASKPILOT_MAX_BODY_BYTES": "8192"}  # a small body cap, so a 413 is easy to provoke
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">"><svg onload=window.__pwned=2>.csv'
HOSTILE_FIELD = '<img src=x onerror="window.__pwned=3">'
INJECTED = "() => ({pwned: window.__pwned ?? null, imgs: document.querySelectorAll('main img, #overlay img').length, scripts: document.querySelectorAll('body script').length})"


@pytest.fixture
def unguarded(browser: Any, server: str) -> Any:
    """A page with the Content-Security-Policy switched off, so only the page's own care (textContent,
    never innerHTML) stands between hostile text and script execution."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.route(lambda url: not url.startswith(server + "/"), lambda route: route.abort())
    board = Dashboard(context.new_page(), server)
    try:
        yield board
        board.assert_clean()
    finally:
        context.close()


def test_hostile_file_name_and_fields_are_shown_as_text(unguarded: Dashboard) -> None:
    board = unguarded
    board.allow_http_errors(422)
    board.open()
    page = board.page
    bad = f"priority,latency,cpu,memory\n{HOSTILE_FIELD},low,1,2\ngreen,\"<script>window.__pwned=4</script>\",3,4\n".encode()
    board.upload(HOSTILE_NAME, bad)
    cells = page.eval_on_selector_all("#csv-error-rows td", "(tds) => tds.map((td) => td.textContent).join(' | ')")
    assert HOSTILE_FIELD in cells and "<script>window.__pwned=4</script>" in cells
    assert HOSTILE_NAME in board.text("#csv-errors-caption") and HOSTILE_NAME in board.text("#notice-title")
    # A clean file with the hostile name: queued, run, and its name shown in the queue, status and overlay.
    board.upload(HOSTILE_NAME, jobs_csv(mixed_jobs(4)))
    assert HOSTILE_NAME in board.text("#csv-status") and HOSTILE_NAME in board.text("#queue-list")
    board.choose_file(HOSTILE_NAME, jobs_csv(mixed_jobs(3)))
    board.run()
    assert HOSTILE_NAME in board.text("#overlay-title")
    assert board.text("#side-jobs") == "7"
    page.wait_for_timeout(200)  # an injected <img onerror> would have fired by now
    assert page.evaluate(INJECTED) == {"pwned": None, "imgs": 0, "scripts": 0}


def test_server_errors_are_shown_in_plain_words(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(413)
    dashboard.open()
    page = dashboard.page
    big = jobs_csv(mixed_jobs(800))  # about 12 KB, over the 8 KB cap
    dashboard.upload("big.csv", big)
    page.wait_for_selector("#notice", state="visible")
    assert dashboard.text("#notice-title") == "Too large for the server"
    assert "8192 bytes" in dashboard.text("#notice-lines") and "TASKPILOT_MAX_BODY_BYTES" in dashboard.text("#notice-lines")
    assert dashboard.text("#queue-count") == "0"
    # A network failure: the request never reaches the server.
    page.route("**/submit", lambda route: route.abort("connectionrefused"))
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-title').textContent.startsWith('Cannot reach')")
    assert "Check your connection" in dashboard.text("#notice-lines")
    page.unroute("**/submit")
    dashboard.console_errors = [e for e in dashboard.console_errors if "ERR_CONNECTION_REFUSED" not in e]
    # Nothing queued and no file chosen: said plainly, no request made.
    page.set_input_files("#csv-file", [])
    page.click("#btn-run")
    assert dashboard.text("#notice-title") == "Nothing to run: the queue is empty"


def test_an_expired_session_is_announced(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(5))
    assert dashboard.text("#side-jobs") == "5"
    notice = "session abc had expired after 3600 s idle or was evicted; this is a new, empty session"

    def expired(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "x-session-notice": notice})

    dashboard.page.route("**/summary", expired)
    dashboard.reload()
    assert dashboard.text("#notice-title") == "Your previous session has expired, so this is a new, empty session."
    assert notice in dashboard.text("#notice-lines")


def test_a_session_lost_by_a_restart_is_announced(dashboard: Dashboard) -> None:
    dashboard.open()
    # This browser saw 12 jobs in a session the server no longer holds (as after a restart).
    dashboard.page.evaluate("() => { localStorage.setItem('taskpilot.session', 'gone-' + Date.now()); localStorage.setItem('taskpilot.jobsSeen', '12'); }")
    dashboard.reload()
    assert dashboard.text("#notice-title") == "This session has no jobs on the server any more."
    assert "12 scheduled jobs" in dashboard.text("#notice-lines")


def test_layout_at_390_px(dashboard: Dashboard) -> None:
    page = dashboard.page
    page.set_viewport_size({"width": 390, "height": 844})
    dashboard.open()
    dashboard.seed(mixed_jobs(40))
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    for tab in ("overview", "history", "analytics", "xai", "sustainability", "compare"):
        dashboard.tab(tab)
        assert page.evaluate(overflow) <= 0, f"the {tab} tab scrolls sideways at 390 px"
        # Visible canvases (the Compare tab's results stay hidden until a run; test_compare checks them at 390 px).
        widths = page.eval_on_selector_all(f"#tab-{tab} canvas", "(cs) => cs.filter((c) => c.offsetParent).map((c) => c.getBoundingClientRect().right)")
        assert all(0 < w <= 390 for w in widths), (tab, widths)
    # The top bar's actions stay reachable.
    for button in ("#btn-new-job", "#btn-run", "#btn-reset"):
        box = page.locator(button).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
