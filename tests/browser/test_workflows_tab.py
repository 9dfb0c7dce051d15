"""The Workflows tab in a real browser against a real server and executor: the editor and its examples, the
DAG reaching its final states, the Gantt of attempts, the dead-letter list and Retry, a saga's compensations,
the CO2 saved by carbon-aware timing, the clock scale, errors cleared by an edit, and hostile text.

Every task finishes by itself in a fixed way (built-in kinds; flaky draws from the workflow's seed; sleeps of
fractions of a second), except the one test that needs a task to stay running: its sleep of an hour is ended
by the test itself (Cancel), not by time. Every wait is for a condition on the page."""

from __future__ import annotations

import json
import re
from typing import Any

from scheduler.execution.kinds import task_rng

from .conftest import HOSTILE_FIELD, INJECTED, ROOT, Dashboard, assert_amount, assert_canvases_fit, assert_fits, hold, wait_until

MAX_TASKS = 12
SERVER_ENV = {"TASKPILOT_MAX_WORKFLOW_TASKS": str(MAX_TASKS)}  # a small cap, so a 413 is easy to provoke
EXAMPLES = ROOT / "frontend" / "static" / "workflows"
FOLLOWED = """([id, state]) => {
    const detail = document.getElementById('wf-detail');
    return detail.dataset.id === id && detail.dataset.state === state && document.body.dataset.workflowFollow === 'idle';
}"""
"""The page shows workflow `id` in `state` and has stopped following it: none of its tasks moves any more."""
LOADED = """(body) => {
    try { return JSON.stringify(JSON.parse(document.getElementById('wf-text').value)) === body; } catch (e) { return false; }
}"""
SAVED = re.compile(r"(\S+) kg(?: \(.+ %\))? less than the (\S+) kg of running every task as soon as it is ready")
BOX = "(bs) => bs.map((b) => [b.querySelector('.dag-name').textContent, [b.querySelector('.wf-state').textContent, b.dataset.layer]])"


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def open_tab(board: Dashboard) -> None:
    board.open()
    board.tab("workflows")
    board.page.wait_for_function("() => document.getElementById('wf-list-summary').textContent !== 'No workflows yet.'")


def submit(board: Dashboard, body: dict[str, Any] | None = None, *, load: str | None = None) -> str:
    """Submit `body` through the editor (or load the example `load` first); returns the new workflow's id."""
    page = board.page
    if load is not None:
        page.select_option("#wf-example", load)
        page.click("#wf-load")
        loaded = json.dumps(example(load), separators=(",", ":"))
        page.wait_for_function(LOADED, arg=loaded)
    else:
        page.fill("#wf-text", json.dumps(body))
    with page.expect_response(lambda r: r.url.endswith("/workflows") and r.request.method == "POST") as answer:
        page.click("#wf-submit")
    assert answer.value.status == 201, answer.value.text()
    return answer.value.json()["workflow_id"]


def settled(board: Dashboard, workflow_id: str, state: str) -> dict[str, Any]:
    """Wait until the page shows the workflow in `state`, not moving any more; its document from the API."""
    board.page.wait_for_function(FOLLOWED, arg=[workflow_id, state])
    view = board.api("GET", f"/workflows/{workflow_id}").json()
    assert view["state"] == state
    return view


def boxes(board: Dashboard) -> dict[str, tuple[str, str]]:
    """The DAG's boxes: task id -> (its state as the box says it, its layer)."""
    return {name: tuple(box) for name, box in board.page.eval_on_selector_all("#wf-dag .dag-box", BOX)}


def gantt_bars(board: Dashboard) -> list[tuple[str, str, float, float]]:
    """The Gantt's bars as (outcome label, worker, start, end), sorted."""
    chart = board.chart("chart-gantt")
    assert chart is not None
    return sorted((d["label"], y, x[0], x[1]) for d in chart["datasets"] for y, x in zip(d["data"], d["x"]))


def expected_bars(view: dict[str, Any]) -> list[tuple[str, str, float, float]]:
    t0 = view["created_at"]
    return sorted(
        ((a["outcome"] or "running now").replace("_", " "), a["worker"], a["started_at"] - t0, a["ended_at"] - t0)
        for t in view["tasks"]
        for a in t["attempts"]
    )


def tooltips(board: Dashboard) -> list[dict[str, Any]]:
    return board.page.evaluate(
        "() => Chart.getChart('chart-gantt').data.datasets.flatMap((d) => d.data.map((p) => ({title: p.title, lines: p.lines})))"
    )


def test_the_sample_download_is_the_first_example_and_the_server_takes_it(dashboard: Dashboard) -> None:
    open_tab(dashboard)
    with dashboard.page.expect_download() as download:
        dashboard.page.click("#wf-sample")
    assert download.value.suggested_filename == "taskpilot_sample_workflow.json"
    sample = json.loads(download.value.path().read_bytes())
    assert sample == example("etl")
    assert dashboard.page.eval_on_selector_all("#wf-example option", "(os) => os.map((o) => o.value)")[0] == "etl"
    created = dashboard.api("POST", "/workflows", json=sample)
    assert created.status_code == 201 and sorted(created.json()["tasks"]) == ["extract", "load", "transform"]


def test_an_example_runs_to_succeeded_in_the_dag_and_the_gantt(dashboard: Dashboard) -> None:
    """The diamond: its flaky task fails twice (seed 2) and succeeds on its third attempt; every box ends
    succeeded in its layer, and the Gantt holds every attempt, the two failures red, with their errors."""
    open_tab(dashboard)
    page = dashboard.page
    assert "scale 600" in dashboard.text("#wf-kinds")  # the executor's clock scale, from GET /tasks/kinds
    wid = submit(dashboard, load="diamond")
    view = settled(dashboard, wid, "succeeded")
    assert boxes(dashboard) == {
        "fetch": ("succeeded", "0"), "enrich": ("succeeded", "1"), "aggregate": ("succeeded", "1"), "score": ("succeeded", "2"),
    }  # fmt: skip
    enrich = next(t for t in view["tasks"] if t["task"] == "enrich")
    assert [a["outcome"] for a in enrich["attempts"]] == ["failed", "failed", "succeeded"]
    assert gantt_bars(dashboard) == expected_bars(view)  # the same doubles, subtracted the same way
    labels = {d["label"] for d in dashboard.chart("chart-gantt")["datasets"] if d["data"]}
    assert labels == {"succeeded", "failed"}
    names = dashboard.page.evaluate("() => Chart.getChart('chart-gantt').data.datasets.flatMap((d) => d.data.map((p) => p.name))")
    assert sorted(n for n in names if n.startswith("enrich")) == ["enrich #1", "enrich #2", "enrich #3"]  # drawn on the bars
    tips = [t for t in tooltips(dashboard) if t["title"] == "enrich"]
    assert sorted(t["lines"][0] for t in tips) == ["Attempt 1 of 4: failed", "Attempt 2 of 4: failed", "Attempt 3 of 4: succeeded"]
    failed = [t for t in tips if t["lines"][0].endswith("failed")]
    assert all(f"Error: {a['error']}" in t["lines"] for t, a in zip(sorted(failed, key=lambda t: t["lines"][0]), enrich["attempts"]))
    assert all(any(line.startswith("Energy ") for line in t["lines"]) for t in tips)
    assert "retried: enrich" in dashboard.text("#gantt-note")
    # The list shows it, selected; the facts name the critical path and the clock's scale; the session has its jobs.
    assert page.get_attribute(f".wf-pick[data-id='{wid}']", "aria-current") == "true"
    assert "fetch → enrich → score" in dashboard.text("#wf-facts") and "scale 600" in dashboard.text("#wf-facts")
    page.wait_for_function("() => document.getElementById('side-jobs').textContent === '4'")
    assert_canvases_fit(page, "#tab-workflows canvas", 1440)


def test_a_failing_saga_shows_its_compensations_and_its_dead_task(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(409)
    open_tab(dashboard)
    page = dashboard.page
    wid = submit(dashboard, load="saga")
    view = settled(dashboard, wid, "failed")
    assert boxes(dashboard) == {
        "reserve": ("rolled back", "0"), "charge": ("rolled back", "1"), "ship": ("dead", "2"), "notify": ("upstream failed", "3"),
    }  # fmt: skip
    assert view["rollback"] == "done"
    rows = page.eval_on_selector_all("#wf-rollback-body tr", "(trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent))")
    assert sorted(rows) == [["charge", "sleep", "succeeded", "1 of 3", "–"], ["reserve", "sleep", "succeeded", "1 of 3", "–"]]
    assert dashboard.text("#wf-rollback-summary").startswith("Rolled back: ")
    # The compensations' attempts are on the Gantt too, and the dead task's two failures.
    assert gantt_bars(dashboard) == expected_bars(view)  # the same doubles, subtracted the same way
    assert {t["title"] for t in tooltips(dashboard)} >= {"undo reserve (compensation)", "undo charge (compensation)"}
    # The dead-letter list has the dead task; a rolled-back workflow's task is not run again: Retry says why.
    row = page.locator("#dead-body tr", has_text="ship")
    row.wait_for()
    assert "TaskFailed: the carrier refused the parcel" in row.inner_text()
    row.get_by_role("button", name="Retry ship").click()
    page.wait_for_function("() => document.getElementById('dead-status').textContent.startsWith('Not retried')")
    assert "rolled back" in dashboard.text("#dead-status")


def failing_seed(p: float) -> int:
    """A workflow seed whose task 0 fails its first flaky attempt at probability p and passes its second (the
    draws the executor makes: scheduler.execution.kinds.task_rng)."""
    return next(s for s in range(1000) if task_rng(s, 0, 1, 0).random() < p <= task_rng(s, 0, 2, 0).random())


def test_retry_queues_a_dead_task_again_and_the_workflow_then_succeeds(dashboard: Dashboard) -> None:
    open_tab(dashboard)
    page = dashboard.page
    body = {
        "name": "one try",
        "seed": failing_seed(0.5),
        "tasks": [
            {"id": "upload", "kind": "flaky", "params": {"p": 0.5}, "retries": {"max_attempts": 1}},
            {"id": "announce", "kind": "sleep", "depends_on": ["upload"], "params": {"seconds": 0}},
        ],
    }
    wid = submit(dashboard, body)
    settled(dashboard, wid, "failed")
    assert boxes(dashboard) == {"upload": ("dead", "0"), "announce": ("upstream failed", "1")}
    row = page.locator("#dead-body tr", has_text="upload")
    row.wait_for()
    with page.expect_response(lambda r: r.url.endswith("/retry") and r.request.method == "POST") as answer:
        row.get_by_role("button", name="Retry upload").click()
    assert answer.value.status == 200 and answer.value.json()["state"] == "queued"
    view = settled(dashboard, wid, "succeeded")
    assert boxes(dashboard) == {"upload": ("succeeded", "0"), "announce": ("succeeded", "1")}
    upload = next(t for t in view["tasks"] if t["task"] == "upload")
    assert ("dead", "queued") in [(m["from"], m["to"]) for m in upload["transitions"]]
    assert [a["outcome"] for a in upload["attempts"]] == ["failed", "succeeded"]
    assert gantt_bars(dashboard) == expected_bars(view)  # the same doubles, subtracted the same way
    page.wait_for_function("() => document.getElementById('dead-summary').textContent === 'No dead tasks.'")
    assert "is queued again" in dashboard.text("#dead-status")


def test_timed_out_attempts_are_bars_of_their_own_outcome(dashboard: Dashboard) -> None:
    """A sleep of an hour with a 0.3 s timeout: each attempt is stopped by the executor, whatever the machine's
    speed, and the task dies after its two attempts."""
    open_tab(dashboard)
    body = {"name": "too slow", "tasks": [
        {"id": "slow", "kind": "sleep", "params": {"seconds": 3600}, "timeout_s": 0.3, "retries": {"max_attempts": 2, "backoff_s": 0}},
    ]}  # fmt: skip
    wid = submit(dashboard, body)
    view = settled(dashboard, wid, "failed")
    assert gantt_bars(dashboard) == expected_bars(view)
    assert [b[0] for b in gantt_bars(dashboard)] == ["timed out"] * 2
    tips = tooltips(dashboard)
    assert sorted(t["lines"][0] for t in tips) == ["Attempt 1 of 2: timed out", "Attempt 2 of 2: timed out"]
    assert all("Error: TimedOut: still running after timeout_s = 0.3 s" in t["lines"] for t in tips)
    assert boxes(dashboard) == {"slow": ("dead", "0")}
    dashboard.page.locator("#dead-body tr", has_text="slow").wait_for()


def test_a_workflow_that_ends_before_the_page_first_reads_it_still_reaches_the_lists(dashboard: Dashboard) -> None:
    """The lists are read right after the submission, usually before its one task has died; the page's first GET
    /workflows/{id} is held here until the workflow has failed, so the page never sees it move. It reads the
    lists again all the same (without that, the dead task was missing from the dead-letter list)."""
    open_tab(dashboard)
    page = dashboard.page
    one = re.compile(r".*/workflows/[0-9a-f-]+$")
    held = hold(page, one)
    wid = submit(dashboard, {"name": "quick", "tasks": [{"id": "nope", "kind": "fail", "retries": {"max_attempts": 1}}]})
    wait_until(page, lambda: len(held) > 0)
    wait_until(page, lambda: dashboard.api("GET", f"/workflows/{wid}").json()["state"] == "failed")
    assert len(held) == 1  # the page polls once at a time
    held[0].continue_()
    page.unroute(one)
    settled(dashboard, wid, "failed")
    page.locator("#dead-body tr", has_text="nope").wait_for()
    assert page.locator(f".wf-pick[data-id='{wid}'] .wf-state").text_content() == "failed"


def test_a_running_workflow_is_followed_until_the_tab_is_left_and_again_until_it_ends(dashboard: Dashboard) -> None:
    """An hour's sleep stays running until the test cancels it (the page's Cancel button: the gate)."""
    open_tab(dashboard)
    page = dashboard.page
    body = {"name": "held", "tasks": [{"id": "wait", "kind": "sleep", "params": {"seconds": 3600}},
                                      {"id": "after", "kind": "sleep", "depends_on": ["wait"], "params": {"seconds": 0}}]}  # fmt: skip
    wid = submit(dashboard, body)
    page.wait_for_function("(id) => document.getElementById('wf-detail').dataset.id === id", arg=wid)
    page.wait_for_function("() => document.querySelector('#wf-dag .dag-box .wf-state').textContent === 'running'")
    assert page.get_attribute("body", "data-workflow-follow") == "polling"
    assert "updating as it runs" in dashboard.text("#wf-state-line")
    dashboard.tab("overview")
    page.wait_for_function("() => document.body.dataset.workflowFollow === 'stopped'")  # the poll ended with the tab
    dashboard.tab("workflows")
    page.wait_for_function("() => document.body.dataset.workflowFollow === 'polling'")
    assert page.get_attribute("#wf-cancel", "aria-disabled") == "false"
    page.click("#wf-cancel")
    settled(dashboard, wid, "cancelled")
    assert boxes(dashboard) == {"wait": ("cancelled", "0"), "after": ("cancelled", "1")}
    assert page.get_attribute("#wf-cancel", "aria-disabled") == "true"
    assert [d["label"] for d in dashboard.chart("chart-gantt")["datasets"] if d["data"]] == ["cancelled"]


def test_a_new_session_empties_the_open_tab(dashboard: Dashboard) -> None:
    """Workflows belong to a session: starting another one with the tab open shows the new session's (none)."""
    open_tab(dashboard)
    page = dashboard.page
    wid = submit(dashboard, load="etl")
    settled(dashboard, wid, "succeeded")
    assert page.locator(".wf-pick").count() == 1
    page.click("#scenario-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-title').textContent.startsWith('Started a new')")
    page.wait_for_function("() => document.getElementById('wf-list-summary').textContent.startsWith('No workflows yet')")
    assert page.locator(".wf-pick").count() == 0 and page.is_hidden("#wf-detail") and page.is_hidden("#wf-gantt-card")


def test_refusals_name_task_and_field_and_go_when_the_workflow_is_edited(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(413, 422)
    open_tab(dashboard)
    page = dashboard.page

    def problems() -> list[list[str]]:
        return page.eval_on_selector_all("#wf-error-rows tr", "(trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent))")

    cycle = {"tasks": [{"id": "a", "kind": "sleep", "depends_on": ["b"]}, {"id": "b", "kind": "sleep", "depends_on": ["a"]},
                       {"id": "c", "kind": "teleport"}]}  # fmt: skip
    page.fill("#wf-text", json.dumps(cycle))
    page.click("#wf-submit")
    page.wait_for_selector("#wf-errors", state="visible")
    found = problems()
    assert {(task, field) for task, field, _ in found} >= {("c", "kind")}
    assert any("a" in message and "b" in message and "cycle" in message for _, _, message in found)
    assert "sleep" in next(message for task, _, message in found if task == "c")  # the known kinds are listed
    assert page.get_attribute("#wf-text", "aria-invalid") == "true"
    assert dashboard.text("#notice-title") == "The server found invalid input"
    assert dashboard.api("GET", "/workflows").json()["total"] == 0  # nothing was stored
    # An edit of the text: the refusal was about the text as it was.
    page.locator("#wf-text").press("End")
    page.keyboard.type(" ")
    page.wait_for_selector("#wf-errors", state="hidden")
    assert page.get_attribute("#wf-text", "aria-invalid") is None
    assert dashboard.text("#notice-title") == "" and dashboard.text("#wf-status") == "Edited: press Submit workflow to send it."
    # Not JSON: named by the page, nothing sent.
    page.fill("#wf-text", '{"tasks": [')
    page.click("#wf-submit")
    page.wait_for_selector("#wf-errors", state="visible")
    assert [row[:2] for row in problems()] == [["the workflow", "JSON"]]
    page.fill("#wf-text", "{}")
    page.wait_for_selector("#wf-errors", state="hidden")
    # Too many tasks: 413, named too.
    many = {"tasks": [{"id": f"t{i}", "kind": "sleep"} for i in range(MAX_TASKS + 1)]}
    page.fill("#wf-text", json.dumps(many))
    page.click("#wf-submit")
    page.wait_for_selector("#wf-errors", state="visible")
    assert "HTTP 413" in dashboard.text("#wf-errors-caption") and str(MAX_TASKS) in " ".join(m for *_, m in problems())
    page.fill("#wf-text", "{}")
    page.wait_for_selector("#wf-errors", state="hidden")


def test_hostile_task_ids_names_and_error_text_are_shown_as_text(unguarded: Dashboard) -> None:
    board = unguarded
    board.allow_http_errors(422)
    open_tab(board)
    page = board.page
    script = "<script>window.__pwned=6</script>"
    message = f"{script} <img src=x onerror=alert(1)>"
    body = {"name": HOSTILE_FIELD, "tasks": [
        {"id": HOSTILE_FIELD, "kind": "fail", "params": {"message": message}, "retries": {"max_attempts": 1}},
        {"id": script, "kind": "sleep", "depends_on": [HOSTILE_FIELD], "params": {"seconds": 0}},
    ]}  # fmt: skip
    wid = submit(board, body)
    settled(board, wid, "failed")
    assert boxes(board) == {HOSTILE_FIELD: ("dead", "0"), script: ("upstream failed", "1")}
    error = f"TaskFailed: {message}"
    assert page.locator("#wf-dag .dag-error").text_content() == f"Error: {error}"
    assert board.text("#wf-title") == HOSTILE_FIELD and HOSTILE_FIELD in board.text("#wf-list")
    row = page.locator("#dead-body tr").first
    row.wait_for()
    assert row.locator("td").nth(3).text_content() == error and row.locator("strong").text_content() == HOSTILE_FIELD
    assert any(t["title"] == HOSTILE_FIELD and f"Error: {error}" in t["lines"] for t in tooltips(board))
    # A refusal that quotes the hostile id.
    page.fill("#wf-text", json.dumps({"tasks": [{"id": script, "kind": "sleep", "depends_on": [HOSTILE_FIELD]}]}))
    page.click("#wf-submit")
    page.wait_for_selector("#wf-errors", state="visible")
    cells = page.eval_on_selector_all("#wf-error-rows td", "(tds) => tds.map((td) => td.textContent)")
    assert cells[0] == script and HOSTILE_FIELD in cells[2]
    assert page.evaluate(INJECTED) == {"pwned": None, "markup": 0}


def test_a_carbon_aware_workflow_shows_the_co2_its_timing_saves(dashboard: Dashboard) -> None:
    """In a grid session the when-policy times each task inside its window before the deadline; the page shows
    footprint.plan's saving against running every task as soon as it is ready, and the clock's scale."""
    dashboard.open()
    page = dashboard.page
    page.select_option("#scenario-select", "grid")
    page.click("#scenario-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-title').textContent.startsWith('Started a new grid session')")
    dashboard.tab("workflows")
    wid = submit(dashboard, load="carbon-aware")
    page.wait_for_function("(id) => document.getElementById('wf-detail').dataset.id === id", arg=wid)
    view = dashboard.api("GET", f"/workflows/{wid}").json()
    plan = view["footprint"]["plan"]
    assert view["scenario"] == "grid" and plan is not None and plan["run_now_kg"] > 0
    saved = page.locator("[data-fact='CO₂ saved by carbon-aware timing'] dd").text_content()
    saved_kg, run_now_kg = SAVED.fullmatch(saved).groups()
    assert_amount(saved_kg, plan["saved_kg"])
    assert_amount(run_now_kg, plan["run_now_kg"])
    clock = page.locator("[data-fact='Executor clock'] dd").text_content()
    assert clock == f"{view['clock']['kind']}, scale 600: 1 s on it is 10 min of a grid session's clock"
    assert view["deadline_min"] == 720
    assert "12 h after submission" in page.locator("[data-fact='Deadline'] dd").text_content()
    # Its deferred tasks could wait minutes on the executor's clock: cancelled unless it has ended already.
    assert dashboard.api("POST", f"/workflows/{wid}/cancel").status_code in (200, 409)


def test_the_tab_fits_a_phone(dashboard: Dashboard) -> None:
    page = dashboard.page
    page.set_viewport_size({"width": 390, "height": 844})
    open_tab(dashboard)
    wid = submit(dashboard, load="diamond")
    settled(dashboard, wid, "succeeded")
    assert_fits(page, "the workflows tab at 390 px")  # a wide DAG scrolls inside its own box
    assert_canvases_fit(page, "#tab-workflows .chart-box canvas", 390)
