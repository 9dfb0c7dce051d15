"""What the page does when things overlap: a late answer from a session it has left, double presses, the
page used while a run is on its way, a session that expires mid-visit, two tabs on one session, a server
that never answers."""

from __future__ import annotations

import re
from typing import Any

import httpx

from .conftest import Dashboard, PlaywrightTimeout, hold, jobs_csv, mixed_jobs, requests_started, settle, wait_until

RUN = re.compile(r".*/run\?detail=compact$")
REFINE = re.compile(r".*/explanation\?llm=true$")
EXPIRED = "session x had expired after 3600 s idle or was evicted; this is a new, empty session"


def summary_of(board: Dashboard, session_id: str) -> dict[str, Any]:
    return httpx.get(board.base + "/summary", headers={"X-Session-ID": session_id}, trust_env=False, timeout=30).json()


def queue_jobs(board: Dashboard, n: int) -> None:
    """Queue n jobs in the page's session through the API, then reload the page."""
    response = board.api("POST", "/upload", files={"file": ("queued.csv", jobs_csv(mixed_jobs(n)), "text/csv")})
    assert response.status_code == 200, response.text
    board.reload()


def test_a_late_answer_from_the_previous_session_is_dropped(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(3))
    page = dashboard.page
    old = dashboard.session_id
    dashboard.tab("xai")
    page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 3:')")
    held = hold(page, REFINE)
    page.click("#xai-refine")
    wait_until(page, lambda: held)
    # Meanwhile the user starts a new session; then the old session's answer arrives.
    page.select_option("#scenario-select", "grid")
    page.click("#scenario-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-title').textContent.startsWith('Started a new grid session')")
    new = dashboard.session_id
    assert new != old
    # The answer's arrival, not its body: the page drops the late answer unread, so its body may never be fetched.
    with page.expect_response(lambda r: bool(REFINE.match(r.url))):
        held[0].continue_()
    settle(page)
    assert dashboard.session_id == new and dashboard.text("#session-id") == new
    assert dashboard.text("#session-scenario") == "Scenario: grid"
    assert page.get_attribute("#xai-refine", "aria-disabled") == "true"  # the empty session has no job to refine
    assert "LLM" not in dashboard.text("#xai-source")
    # The next request goes to the new session.
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('queue-count').textContent === '1'")
    assert summary_of(dashboard, new)["queued_jobs"] == 1 and summary_of(dashboard, old)["queued_jobs"] == 0


def test_a_double_press_or_upload_then_run_queues_the_file_once(dashboard: Dashboard) -> None:
    dashboard.open()
    page = dashboard.page
    held = hold(page, "**/upload")
    dashboard.choose_file("twenty.csv", jobs_csv(mixed_jobs(20)))
    page.dblclick("#csv-upload")
    wait_until(page, lambda: held)
    settle(page, held=1)
    assert len(held) == 1 and [r for r in requests_started(page) if r.startswith("POST /upload")] == ["POST /upload"]
    assert page.get_attribute("#csv-upload", "aria-disabled") == "true"
    held[0].continue_()
    page.unroute("**/upload")
    page.wait_for_function("() => document.getElementById('queue-count').textContent === '20'")
    assert page.get_attribute("#csv-upload", "aria-disabled") == "false"
    assert dashboard.summary()["queued_jobs"] == 20
    dashboard.run()
    # Upload pressed, then Run before the upload has its answer: the run waits for it and schedules it once.
    held = hold(page, "**/upload")
    page.click("#btn-new-job")
    dashboard.choose_file("twenty-more.csv", jobs_csv(mixed_jobs(20)))
    page.click("#csv-upload")
    wait_until(page, lambda: held)
    before = len(requests_started(page))
    page.click("#btn-run")
    settle(page, held=1)
    assert len(held) == 1 and requests_started(page)[before:] == []  # the run waits for the upload's answer
    held[0].continue_()
    page.unroute("**/upload")
    page.wait_for_function("() => Number(document.body.dataset.runs) === 2")
    page.wait_for_selector("#overlay", state="hidden")
    assert page.evaluate("() => window.taskpilotTiming.jobs") == 20
    summary = dashboard.summary()
    assert (summary["total_jobs"], summary["queued_jobs"]) == (40, 0)
    assert dashboard.text("#kpi-jobs") == "40"


def test_the_run_dialog_is_modal_and_nothing_else_changes_the_session_meanwhile(dashboard: Dashboard) -> None:
    dashboard.open()
    queue_jobs(dashboard, 20)
    page = dashboard.page
    sid = dashboard.session_id
    held = hold(page, RUN)
    page.focus("#btn-run")
    page.keyboard.press("Enter")
    page.wait_for_selector("#overlay", state="visible")
    wait_until(page, lambda: held)
    sent = len(requests_started(page))
    assert page.evaluate("() => document.getElementById('overlay').matches(':modal')")
    outside = (
        "() => "
        "{ const a = document.activeElement; "
        "return a !== document.body && !document.getElementById('overlay').contains(a) ? (a.id || a.tagName) : null; }"
    )
    assert page.evaluate(outside) is None
    for key in ("Tab",) * 6 + ("Shift+Tab",) * 3:
        page.keyboard.press(key)
        assert page.evaluate(outside) is None, f"{key} moved the focus behind the Run dialog"
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    # Chromium may close a dialog on a second Escape whatever the page says; the page then opens it again
    # (in its close event, a task later), so the check waits for the dialog to be open and modal while the
    # run is still held, rather than sampling the moment in between.
    try:
        page.wait_for_function("() => document.getElementById('overlay').matches(':modal')")
    except PlaywrightTimeout:
        raise AssertionError("Escape closed the Run dialog while the run was still on its way") from None
    assert page.get_attribute("body", "data-run-state") == "running" and len(held) == 1
    # Reset by keyboard cannot reach the button; pressed from script, each action refuses while the run lasts.
    page.focus("#btn-reset")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.evaluate("""() => {
        for (let i = 0; i < 2; i++) document.getElementById('btn-reset').click();
        document.getElementById('job-form').requestSubmit();
        document.getElementById('scenario-form').requestSubmit();
    }""")
    settle(page, held=1)
    assert requests_started(page)[sent:] == []  # no reset, submit or new session was asked for
    assert dashboard.text("#btn-reset") == "Reset"
    assert page.get_attribute("body", "data-busy") == "run"
    held[0].continue_()
    page.unroute(RUN)
    page.wait_for_function("() => document.body.dataset.runState === 'done'")
    page.wait_for_selector("#overlay", state="hidden")
    assert page.evaluate("() => document.activeElement.id") == "btn-run"
    summary = dashboard.summary()
    assert dashboard.session_id == sid and (summary["total_jobs"], summary["queued_jobs"]) == (20, 0)
    assert dashboard.text("#side-jobs") == "20" and dashboard.text("#queue-count") == "0"
    assert "reset" not in dashboard.text("#notice-title")
    dashboard.tab("history")
    assert dashboard.text("#history-count").startswith("20 jobs")


def test_a_session_that_expires_mid_visit_empties_the_page(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(404)  # the held explanation's job is gone by the time it is asked for
    dashboard.open()
    dashboard.seed(mixed_jobs(8))
    page = dashboard.page
    sid = dashboard.session_id
    dashboard.tab("xai")
    page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 8:')")
    assert dashboard.text("#kpi-jobs") == "8"
    # An explanation is on its way when the session turns out to have expired.
    held = hold(page, re.compile(r".*/jobs/7$"))
    page.click("#xai-prev")
    wait_until(page, lambda: held)

    def expired(route: Any) -> None:
        # What the server holds now: a new, empty session (an expired session comes back empty, same id).
        httpx.post(dashboard.base + "/reset", headers={"X-Session-ID": sid}, trust_env=False, timeout=30)
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "x-session-notice": EXPIRED})

    page.route("**/submit", expired)
    page.click("#btn-new-job")
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-title').textContent.startsWith('Your previous session has expired')")
    page.wait_for_function("() => document.getElementById('kpi-jobs').textContent === '0'")
    held[0].continue_()
    settle(page)
    assert dashboard.text("#queue-count") == "1" and dashboard.text("#side-jobs") == "0"
    assert dashboard.chart("chart-reward")["datasets"][0]["data"] == []
    assert sum(dashboard.chart("chart-servers")["datasets"][0]["data"]) == 0
    assert dashboard.chart("chart-breakdown")["labels"] == [] and dashboard.chart("chart-qvalues")["labels"] == []
    assert dashboard.text("#xai-title") == "Explanation" and page.eval_on_selector_all("#xai-facts div", "(ds) => ds.length") == 0
    dashboard.tab("history")
    assert page.eval_on_selector_all("#history-body tr", "(trs) => trs.length") == 0
    assert dashboard.text("#history-count").startswith("No jobs yet")
    assert page.get_attribute("#notice-status", "role") == "status" and EXPIRED in dashboard.text(
        "#notice-status"
    )  # information, said politely


def test_a_run_in_a_second_tab_brings_the_first_tabs_jobs_too(dashboard: Dashboard) -> None:
    first = dashboard.open()
    second = Dashboard(dashboard.page.context.new_page(), dashboard.base).open()  # same context: same session
    assert second.session_id == first.session_id
    first.upload("ten.csv", jobs_csv(mixed_jobs(10)))
    first.run()
    second.upload("five.csv", jobs_csv(mixed_jobs(5)))
    second.run()
    assert second.text("#kpi-jobs") == "15"
    reward = second.chart("chart-reward")["datasets"][0]
    assert reward["x"] == list(range(1, 16))  # x is the job id
    history = second.api("GET", "/history").json()["jobs"]
    assert reward["data"] == [h["reward"] for h in history]
    assert sum(second.chart("chart-servers")["datasets"][0]["data"]) == 15
    second.tab("history")
    assert second.text("#history-count").startswith("15 jobs")
    second.assert_clean()


def test_a_server_that_never_answers_is_given_up_on(dashboard: Dashboard) -> None:
    dashboard.open()
    queue_jobs(dashboard, 3)
    page = dashboard.page
    held = hold(page, RUN)
    page.clock.install()  # AbortSignal.timeout follows the fake clock
    page.click("#btn-run")
    page.wait_for_selector("#overlay", state="visible")
    wait_until(page, lambda: held)
    page.clock.fast_forward(119_000)
    # The timers that fell due have run, and so has what they set off (an abort rejects the fetch at once):
    # the run is still waiting, with nothing to wait for in real time.
    assert page.get_attribute("body", "data-run-state") == "running" and page.is_visible("#overlay")
    assert page.evaluate("() => window.__net.open") == 1
    page.clock.fast_forward(2_000)
    page.wait_for_function("() => document.body.dataset.runState === 'error'")
    assert dashboard.text("#notice-title") == "The server took too long to answer"
    assert page.get_attribute("#notice-alert", "role") == "alert" and "120 s" in dashboard.text("#notice-alert")
    page.clock.fast_forward(1_000)
    page.wait_for_selector("#overlay", state="hidden")
    # Other requests give up after 30 s.
    submits = hold(page, "**/submit")
    page.click("#btn-new-job")
    page.click("#job-form button[type=submit]")
    wait_until(page, lambda: submits)
    page.clock.fast_forward(31_000)
    page.wait_for_function("() => document.getElementById('notice-lines').textContent.includes('30 s')")


def test_refine_leaves_a_reset_page_alone(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(404)  # the held refine asks for a job the reset removed
    dashboard.open()
    dashboard.seed(mixed_jobs(4))
    page = dashboard.page
    dashboard.tab("xai")
    page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 4:')")
    held = hold(page, REFINE)
    page.focus("#xai-refine")
    page.keyboard.press("Enter")
    wait_until(page, lambda: held)
    assert page.evaluate("() => document.activeElement.id") == "xai-refine"  # still focused while it asks
    assert page.get_attribute("#xai-refine", "aria-disabled") == "true"
    dashboard.reset()
    held[0].continue_()
    settle(page)
    assert page.get_attribute("#xai-refine", "aria-disabled") == "true"
    assert dashboard.text("#xai-title") == "Explanation" and "LLM" not in dashboard.text("#xai-source")


def test_a_run_fetches_the_first_explanation_once(dashboard: Dashboard) -> None:
    dashboard.open()
    queue_jobs(dashboard, 6)
    page = dashboard.page
    explained: list[str] = []
    page.on("request", lambda r: explained.append(r.url) if "/explanation" in r.url else None)
    dashboard.run()
    page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 1:')")
    settle(page)
    assert [url.split(dashboard.base, 1)[1] for url in explained] == ["/jobs/1/explanation"]
