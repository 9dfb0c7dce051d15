"""An error goes when the input it was about changes (issue 12): the New job form's refusal, and the Compare
tab's refused Start (a 413), are not left on screen describing input that is no longer there. A newer
notice about something else stays. And a refused file's table says what to do (the server's hint) and
counts the problems the server did not list. Every wait is for a condition of the page."""

from __future__ import annotations

from .conftest import Dashboard

MAX_SIM_JOBS = 500
SERVER_ENV = {"TASKPILOT_MAX_SIM_JOBS": str(MAX_SIM_JOBS)}
NOTICE_GONE = "() => document.getElementById('notice').dataset.kind === '' && !document.querySelector('#job-form [aria-invalid]')"
REFUSED = "() => document.getElementById('notice-title').textContent === 'The server found invalid input'"


def refuse_cpu(dashboard: Dashboard) -> None:
    """Send the form with cpu 150 (its max lifted, so the server is the one to refuse it) and wait for the refusal."""
    page = dashboard.page
    page.evaluate("() => document.getElementById('job-cpu').removeAttribute('max')")
    page.fill("#job-cpu", "150")
    page.click("#job-form button[type=submit]")
    page.wait_for_function(REFUSED)
    assert page.get_attribute("#job-cpu", "aria-invalid") == "true"
    assert "cpu" in dashboard.text("#notice-lines")


def test_the_new_job_form_s_error_goes_when_the_form_changes(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(422)
    dashboard.open()
    page = dashboard.page
    refuse_cpu(dashboard)
    page.fill("#job-cpu", "15")  # the field it named, corrected
    page.wait_for_function(NOTICE_GONE)

    refuse_cpu(dashboard)
    page.select_option("#job-latency", "high")  # another field: the job the error described is gone all the same
    page.wait_for_function(NOTICE_GONE)
    page.fill("#job-cpu", "15")
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('queue-count').textContent === '1'")
    assert dashboard.summary()["queued_jobs"] == 1


def test_a_newer_notice_about_something_else_stays(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(422)
    dashboard.open()
    page = dashboard.page
    refuse_cpu(dashboard)
    dashboard.tab("compare")
    for box in page.query_selector_all("#sim-policies input"):
        box.set_checked(False)
    page.click("#sim-start")  # refused by the page itself: a notice about the Compare form
    page.wait_for_function("() => document.getElementById('notice-title').textContent === 'Choose at least one policy to compare.'")
    page.dispatch_event("#job-cpu", "input")  # the job form changes (its panel is out of sight now)
    page.wait_for_function("() => !document.querySelector('#job-form [aria-invalid]')")
    assert dashboard.text("#notice-title") == "Choose at least one policy to compare."


def test_compare_s_refused_start_goes_when_the_options_change(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(413)
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    page.fill("#sim-jobs", str(2 * MAX_SIM_JOBS))
    page.click("#sim-start")
    page.wait_for_function("() => document.body.dataset.simState === 'error'")
    assert dashboard.text("#notice-title") == "Too large for the server"
    assert dashboard.text("#sim-status").startswith("Not started: Too large for the server")

    page.fill("#sim-jobs", "200")
    page.wait_for_function("() => document.getElementById('notice').dataset.kind === '' && !('simState' in document.body.dataset)")
    assert dashboard.text("#sim-status") == "Options changed: press Start to run with them."
    assert page.is_enabled("#sim-start")


def test_compare_s_own_refusal_goes_when_a_policy_is_ticked(dashboard: Dashboard) -> None:
    """The page's own refusal (no policy ticked) is about the options as they were, as a server's is."""
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    boxes = page.query_selector_all("#sim-policies input")
    for box in boxes:
        box.set_checked(False)
    page.click("#sim-start")
    page.wait_for_function("() => document.getElementById('notice-title').textContent === 'Choose at least one policy to compare.'")
    assert dashboard.text("#sim-status") == "Not started: choose at least one policy."

    boxes[0].set_checked(True)
    page.wait_for_function("() => document.getElementById('notice').dataset.kind === '' && !('simState' in document.body.dataset)")
    assert dashboard.text("#sim-status") == "Options changed: press Start to run with them."
    assert page.is_enabled("#sim-start")


def test_a_refused_file_says_what_to_do_and_how_many_problems_there_are(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(422)
    dashboard.open()
    page = dashboard.page
    cells = "(trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent))"
    dashboard.upload("book.csv", b"PK\x03\x04" + b"\x00" * 64)  # an Excel workbook, renamed
    ((row, field, message),) = page.eval_on_selector_all("#csv-error-rows tr", cells)
    assert (row, field) == ("–", "–") and "Excel workbook" in message and "What to do: open it in the spreadsheet" in message
    assert dashboard.text("#csv-errors-caption") == "book.csv: 1 problem; nothing from this file was queued"

    dashboard.upload("bad.csv", b"priority,cpu,memory\n" + b"green,1,101\n" * 150)
    rows = page.eval_on_selector_all("#csv-error-rows tr", cells)
    assert [r[0] for r in rows] == [str(r) for r in range(2, 102)]  # the first 100, in file order
    assert dashboard.text("#csv-errors-caption") == "bad.csv: 150 problems (the first 100 listed); nothing from this file was queued"
