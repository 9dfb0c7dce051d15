"""What the page does with what it does not control: hostile text, server errors, lost sessions, a
phone-sized screen."""

from __future__ import annotations

import json
import re
from typing import Any

from .conftest import (
    HOSTILE_FIELD,
    INJECTED,
    ROOT,
    Dashboard,
    assert_canvases_fit,
    assert_fits,
    hold,
    jobs_csv,
    mixed_jobs,
    wait_until,
)

SERVER_ENV = {"TASKPILOT_MAX_BODY_BYTES": "8192"}  # a small body cap, so a 413 is easy to provoke
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">"><svg onload=window.__pwned=2>.csv'


def test_hostile_file_name_and_fields_are_shown_as_text(unguarded: Dashboard) -> None:
    board = unguarded
    board.allow_http_errors(422)
    board.open()
    page = board.page
    bad = f'priority,latency,cpu,memory\n{HOSTILE_FIELD},low,1,2\ngreen,"<script>window.__pwned=4</script>",3,4\n'.encode()
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
    assert page.evaluate(INJECTED) == {"pwned": None, "markup": 0}


def test_hostile_server_and_llm_text_is_shown_as_text(unguarded: Dashboard) -> None:
    board = unguarded
    board.allow_http_errors(400, 422)
    board.open()
    page = board.page
    script = "<script>window.__pwned=5</script>"
    # A server `detail` as a list of field errors, then as a sentence.
    detail = [{"loc": ["body", HOSTILE_FIELD], "msg": script, "type": "value_error"}]
    page.route("**/submit", lambda route: route.fulfill(status=422, content_type="application/json", body=json.dumps({"detail": detail})))
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-title').textContent === 'The server found invalid input'")
    assert board.text("#notice-lines") == f"{HOSTILE_FIELD}: {script}"
    page.unroute("**/submit")
    page.route(
        "**/submit",
        lambda route: route.fulfill(status=400, content_type="application/json", body=json.dumps({"detail": HOSTILE_FIELD + script})),
    )
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-title').textContent === 'The server refused the request'")
    assert board.text("#notice-alert") == "The server refused the request" + HOSTILE_FIELD + script
    page.unroute("**/submit")
    # An LLM's explanation.
    board.seed(mixed_jobs(3))
    board.tab("xai")
    page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 3:')")
    llm = {"job_id": 3, "explanation": f"{HOSTILE_FIELD} <b>bold</b> {script}", "source": "llm", "note": None}
    page.route(
        re.compile(r".*/explanation\?llm=true$"),
        lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(llm)),
    )
    page.click("#xai-refine")
    page.wait_for_function("() => document.getElementById('xai-source').textContent === 'Refined by the LLM.'")
    assert board.text("#xai-text") == llm["explanation"]
    assert page.evaluate(INJECTED) == {"pwned": None, "markup": 0}


def test_page_modules_write_no_markup() -> None:
    """Text reaches the page through textContent and attribute setters only: nothing that parses HTML,
    sets an event handler from a string or points a link or frame somewhere, in any of the page's modules."""
    modules = sorted((ROOT / "frontend" / "static" / "js").rglob("*.js"))
    assert len(modules) > 10  # the page's modules: main.js and what it imports
    body = "\n".join(path.read_text(encoding="utf-8") for path in modules)
    sinks = [
        r"innerHTML",
        r"outerHTML",
        r"insertAdjacentHTML",
        r"document\.write",
        r"srcdoc",
        r"DOMParser",
        r"createContextualFragment",
        r"\.href\s*=",
        r"\.src\s*=",
        r"setAttribute\(\s*['\"`]on",
        r"\beval\(",
        r"new Function",
        r"[{,]\s*['\"]?on[a-z]+['\"]?\s*:",  # an on... key in an el() attribute object
    ]
    found = {sink: re.findall(sink, body) for sink in sinks}
    assert {sink: hits for sink, hits in found.items() if hits} == {}


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
    dashboard.page.evaluate(
        "() => { localStorage.setItem('taskpilot.session', 'gone-' + Date.now()); localStorage.setItem('taskpilot.jobsSeen', '12'); }"
    )
    dashboard.reload()
    assert dashboard.text("#notice-title") == "This session has no jobs on the server any more."
    assert "12 scheduled jobs" in dashboard.text("#notice-lines")


def test_layout_at_390_px(dashboard: Dashboard) -> None:
    page = dashboard.page
    page.set_viewport_size({"width": 390, "height": 844})
    dashboard.open()
    dashboard.seed(mixed_jobs(40))
    for tab in ("overview", "history", "analytics", "xai", "sustainability", "compare"):
        dashboard.tab(tab)
        assert_fits(page, f"the {tab} tab at 390 px")
        # Visible canvases (the Compare tab's results stay hidden until a run; test_compare checks them at 390 px).
        assert_canvases_fit(page, f"#tab-{tab} canvas", 390)
    # The top bar's actions stay reachable.
    for button in ("#btn-new-job", "#btn-run", "#btn-reset"):
        box = page.locator(button).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # The add panel, with a long file name and its rejected rows listed; Row and Field never split.
    dashboard.allow_http_errors(422)
    dashboard.tab("overview")
    long_name = "a-very-long-file-name-without-any-break-in-it-at-all-" + "x" * 40 + ".csv"
    dashboard.upload(long_name, b"priority,latency,cpu,memory\npurple,low,500,1\ngreen,low,1,2,3\n")
    page.wait_for_selector("#csv-errors", state="visible")
    assert_fits(page, "the add panel at 390 px")
    heights = page.eval_on_selector_all(
        "#csv-error-rows tr",
        "(trs) => trs.map((tr) => [tr.cells[0].getClientRects().length, tr.cells[0].offsetHeight <= tr.cells[1].offsetHeight + 1])",
    )
    assert heights and all(ok for _, ok in heights)
    nowrap = page.eval_on_selector_all(
        "#csv-error-rows tr",
        "(trs) => trs.flatMap((tr) => [getComputedStyle(tr.cells[0]).whiteSpace, getComputedStyle(tr.cells[1]).whiteSpace])",
    )
    assert set(nowrap) == {"nowrap"}
    # A notice and the Run dialog fit too.
    box = page.locator("#notice").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    held = hold(page, re.compile(r".*/run\?detail=compact$"))
    dashboard.api("POST", "/submit", json={"priority": "green", "cpu": 1, "memory": 2})
    dashboard.reload()
    page.click("#btn-run")
    page.wait_for_selector("#overlay", state="visible")
    wait_until(page, lambda: held)
    box = page.locator("#overlay").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] >= 0 and box["y"] + box["height"] <= 844
    assert_fits(page, "the page under the Run dialog at 390 px")
    held[0].continue_()
    page.wait_for_function("() => document.body.dataset.runState === 'done'")


def test_the_page_works_without_the_chart_library(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(404)
    page = dashboard.page
    page.route("**/vendor/chart.umd.min.js", lambda route: route.fulfill(status=404, body="not here"))
    dashboard.open()
    assert dashboard.text("#notice-title") == "The chart library did not load"
    url = page.url
    # The forms are the page's, not the browser's: no native submit, no reload.
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('queue-count').textContent === '1'")
    dashboard.run()
    assert page.url == url and dashboard.text("#kpi-jobs") == "1"
    dashboard.tab("history")
    assert page.eval_on_selector_all("#history-body tr", "(trs) => trs.length") == 1
