"""When to run, in the browser: a grid session's urgency, deadlines, FAST/ECO modes and deferral (the New job
form, the CSV upload, the history's columns, the Deferred list, the Overview's saving card, the carbon
charts' markers, the XAI tab's When sentence), a refused deadline, and the Compare tab's deferral study.

Every figure the page shows is compared with what the API answers for the same session or run."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from .conftest import Dashboard, assert_amount, assert_fits, mixed_jobs

SEED = 5
"""The grid session's seed: with it the CSV below leaves deferred jobs ahead of the clock after the run."""
N_CSV = 120
STUDY = {"jobs": 300, "seed": 7, "seeds": 2, "regions": ("ES", "NO")}
FAKE_ID = "00000000-0000-4000-8000-000000000002"
SETTLED = "() => ['done', 'failed', 'cancelled', 'error'].includes(document.body.dataset.simState)"
ROWS = (
    "(trs) => trs.map((tr) => Array.from(tr.cells, (c) => { const t = c.querySelector('time'); return t ? t.dateTime : c.textContent; }))"
)


def when_rows(n: int) -> list[dict[str, Any]]:
    """n jobs over every urgency; every fourth with a deadline in minutes, every second interruptible."""
    rows = []
    for i in range(n):
        duration = 30 + 15 * (i % 5)
        rows.append(
            {
                "priority": ("green", "balanced", "performance")[i % 3],
                "cpu": 10 + i % 50,
                "memory": 20,
                "duration_min": duration,
                "urgency": ("critical", "normal", "flexible")[i % 3],
                "deadline": duration + 60 * (1 + i % 13) if i % 4 == 0 else "",
                "interruptible": "true" if i % 2 else "",
            }
        )
    return rows


def csv_of(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def grid_session(board: Dashboard, seed: int | None = SEED) -> None:
    """Open the page on a new grid session (as a user who started one in the sidebar)."""
    query = "" if seed is None else f"&seed={seed}"
    sid = httpx.get(f"{board.base}/session?scenario=grid{query}", trust_env=False, timeout=30).json()["session_id"]
    board.page.evaluate("(sid) => localStorage.setItem('taskpilot.session', sid)", sid)
    board.reload()
    assert board.text("#session-scenario") == "Scenario: grid"


def hours(iso: str) -> float:
    """Hours since 1970 of an API time: the carbon charts' x on a grid session's clock."""
    return datetime.fromisoformat(iso).timestamp() / 3600


def iso_of_hours(h: float) -> str:
    return datetime.fromtimestamp(round(h * 60) * 60, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")


def shown_time(iso: str | None) -> str:
    return "–" if iso is None else iso


def test_when_to_run_from_the_form_and_csv_to_every_view(dashboard: Dashboard) -> None:
    dashboard.open()
    grid_session(dashboard)
    page = dashboard.page
    assert page.is_visible("#add-panel") and page.is_visible("#job-when")
    assert page.is_hidden("#job-deadline-min") and page.is_hidden("#job-deadline-at")

    # The form: a flexible, interruptible job with a deadline in minutes...
    page.select_option("#job-urgency", "flexible")
    page.fill("#job-duration", "45")
    page.fill("#job-power", "180")
    page.select_option("#job-deadline-kind", "minutes")
    page.fill("#job-deadline-min", "600")
    page.check("#job-interruptible")
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('queue-count').textContent === '1'")
    assert (
        "Job 1: balanced, latency medium, cpu 40 %, memory 50 %, flexible, 45 min, deadline 600 min after submission, interruptible"
        in dashboard.text("#queue-list")
    )
    # ... and a critical one with a deadline as a time: the picker starts six hours after the session's clock.
    clock = dashboard.api("GET", "/queue").json()["clock_utc"]
    page.select_option("#job-urgency", "critical")
    page.uncheck("#job-interruptible")
    page.fill("#job-power", "")
    page.select_option("#job-deadline-kind", "time")
    assert page.input_value("#job-deadline-at") + "Z" == iso_of_hours(hours(clock) + 6)
    deadline = iso_of_hours(hours(clock) + 9.5)
    page.fill("#job-deadline-at", deadline.removesuffix("Z"))
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('queue-count').textContent === '2'")
    assert (
        f"Job 2: balanced, latency medium, cpu 40 %, memory 50 %, critical, 45 min, deadline {deadline[:10]} {deadline[11:16]} UTC"
        in dashboard.text("#queue-list")
    )
    queued = dashboard.api("GET", "/queue").json()["jobs"]
    assert [(j["urgency"], j.get("deadline"), j.get("interruptible", False), j.get("duration_min"), j.get("power_w")) for j in queued] == [
        ("flexible", 600.0, True, 45.0, 180.0),
        ("critical", deadline, False, 45.0, None),
    ]

    # The CSV, then Run.
    dashboard.upload("when.csv", csv_of(when_rows(N_CSV)))
    dashboard.run()
    history = dashboard.api("GET", "/history?limit=1000").json()["jobs"]
    queue = dashboard.api("GET", "/queue").json()
    summary = dashboard.summary()
    assert len(history) == N_CSV + 2 and queue["deferred_total"] > 0, "the seed should leave deferred jobs ahead of the clock"

    _check_deferred_list(dashboard, queue)
    _check_timing_card(dashboard, summary["timing"], queue["deferred_total"])
    _check_carbon_charts(dashboard, history, queue["clock_utc"])
    _check_history(dashboard, history)
    _check_xai(dashboard, queue["deferred"][0]["job_id"])
    _check_phone_layout(dashboard)


def _check_deferred_list(board: Dashboard, queue: dict[str, Any]) -> None:
    page = board.page
    assert board.text("#deferred-count-top") == str(queue["deferred_total"]) == board.text("#deferred-count")
    # The top bar's Deferred button opens the queue panel at the list, by keyboard too.
    page.focus("#deferred-pill")
    page.keyboard.press("Enter")
    assert page.is_visible("#deferred-box") and page.evaluate("() => document.activeElement.id") == "deferred-title"
    rows = page.eval_on_selector_all("#deferred-body tr", ROWS)
    assert [r[:5] for r in rows] == [
        [f"Job {j['job_id']}", j["start_at"], j["mode"].upper(), j["chosen_dc"], shown_time(j["deadline_at"])] for j in queue["deferred"]
    ]
    for row, job in zip(rows, queue["deferred"]):
        assert_amount(row[5], job["co2_saved_kg"])
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)  # earliest start first
    assert f"{queue['deferred_total']} job" in board.text("#deferred-summary") and "2023-" in board.text("#deferred-summary")


def _check_timing_card(board: Dashboard, timing: dict[str, Any], deferred_now: int) -> None:
    board.tab("overview")
    assert board.page.is_visible("#timing-card")
    assert_amount(board.text("#timing-saved"), timing["co2_saved_kg"])
    assert board.text("#timing-pct") == f"{timing['co2_saved_pct']:.2f} %"
    counts = {
        "#timing-deferred": "deferred_jobs",
        "#timing-eco": "eco_jobs",
        "#timing-fast": "fast_jobs",
        "#timing-misses": "deadline_misses",
    }
    assert {sel: board.text(sel) for sel in counts} == {sel: str(timing[key]) for sel, key in counts.items()}
    for selector, key in (
        ("#timing-expected", "co2_saved_expected_kg"),
        ("#timing-measured", "co2_saved_kg"),
        ("#timing-run-now", "co2_run_now_kg"),
    ):
        assert_amount(board.text(selector).removesuffix(" kg"), timing[key])
    assert board.text("#timing-deferral") == f"{timing['mean_deferral_h']:.1f} h"
    assert board.text("#timing-show-deferred") == f"Show the {deferred_now} deferred job{'s' if deferred_now != 1 else ''}"
    assert timing["deferred_jobs"] > 0 and timing["eco_jobs"] > 0


def _check_carbon_charts(board: Dashboard, history: list[dict[str, Any]], clock: str) -> None:
    moved = [h for h in history if h["status"] in ("deferred", "released")]
    eco = [h for h in history if h["mode"] == "eco"]
    now = [h for h in history if h["status"] == "scheduled"]
    for canvas in ("chart-carbon-overview", "chart-carbon"):
        chart = board.chart(canvas)
        line, marks, modes = chart["datasets"]
        assert line["data"] == [h["carbon_intensity_g_per_kwh"] for h in now], canvas
        assert line["x"] == pytest.approx([hours(h["start_at"]) for h in now]), canvas
        assert marks["data"] == [h["carbon_intensity_g_per_kwh"] for h in moved], canvas
        assert marks["x"] == pytest.approx([hours(h["start_at"]) for h in moved]), canvas
        assert modes["x"] == pytest.approx([hours(h["start_at"]) for h in eco]), canvas
        assert [d["label"] for d in chart["datasets"]] == ["Ran at submission", "Deferred: planned start", "ECO mode"]
    page = board.page
    board.tab("overview")
    legend = page.evaluate("() => Chart.getChart('chart-carbon-overview').legend.legendItems.map((i) => [i.text, i.pointStyle])")
    assert [style for _, style in legend] == ["line", "triangle", "rectRot"]
    # The tooltip of a deferred job's marker names the job, its start and its mode.
    first = moved[0]
    tooltip = page.evaluate("""() => {
        const chart = Chart.getChart('chart-carbon-overview');
        const point = chart.getDatasetMeta(1).data[0];
        chart.tooltip.setActiveElements([{ datasetIndex: 1, index: 0 }], { x: point.x, y: point.y });
        chart.update();
        return [chart.tooltip.title, chart.tooltip.body.flatMap((b) => b.lines)];
    }""")
    start = first["start_at"].replace("T", " ").removesuffix("Z")
    assert tooltip[0] == [f"{start} UTC"]
    now = "started by now" if first["status"] == "released" else "waiting"
    assert tooltip[1][0].startswith(f"Job {first['job_id']} deferred to {start} UTC ({now}), FAST mode, {first['chosen_dc']}; ")
    # Each deferred job's run is shaded, from its start to its finish; a dashed line marks the clock now.
    windows = page.evaluate("() => Chart.getChart('chart-carbon-overview').$runWindows")
    assert page.evaluate("() => Chart.getChart('chart-carbon-overview').$now") == pytest.approx(hours(clock))
    whole = [h for h in moved if hours(h["finish_at"]) - hours(h["start_at"]) <= h["runtime_min"] / 60 + 1e-6]  # not in pieces
    assert whole
    assert [x for w in windows for x in w] == pytest.approx([hours(h[k]) for h in whole for k in ("start_at", "finish_at")])
    assert f"each of the {len(moved)} jobs deferred" in board.text("#carbon-marks-overview")
    assert board.text("#carbon-title-overview") == "Carbon intensity over time"


def _check_history(board: Dashboard, history: list[dict[str, Any]]) -> None:
    board.tab("history")
    page = board.page
    head = page.eval_on_selector_all("#history-table thead th", "(ths) => ths.filter((th) => !th.hidden).map((th) => th.textContent)")
    assert head[8:14] == ["Urgency", "Status", "Mode", "Start UTC", "Finish UTC", "Deadline UTC"]
    expected = [
        [str(h["job_id"]), h["urgency"], h["status"], h["mode"].upper(), h["start_at"], h["finish_at"], shown_time(h["deadline_at"])]
        for h in history
    ]
    rows = page.eval_on_selector_all("#history-body tr", ROWS)
    assert [[r[0], *r[8:14]] for r in rows] == expected[:50]
    # A deferred job's status stands out: its own colours and a dashed border.
    styles = page.eval_on_selector_all(
        "#history-body .status-pill",
        "(ps) => [...new Set(ps.map((p) => p.dataset.status + ' ' + getComputedStyle(p).borderTopStyle))].sort()",
    )
    assert "scheduled solid" in styles and any(s in styles for s in ("deferred dashed", "released solid"))
    # Only the jobs whose start moved.
    page.select_option("#history-filter", "moved")
    moved = [e for e in expected if e[2] in ("deferred", "released")]
    rows = page.eval_on_selector_all("#history-body tr", ROWS)
    assert [[r[0], *r[8:14]] for r in rows] == moved
    assert board.text("#history-count").startswith(f"{len(moved)} of {len(history)} jobs deferred or released")
    # Sorted by start: the latest start first.
    page.click("th[data-sort=start_at] button")
    page.click("th[data-sort=start_at] button")
    starts = page.eval_on_selector_all("#history-body tr", "(trs) => trs.map((tr) => tr.cells[11].querySelector('time').dateTime)")
    assert starts == sorted((e[4] for e in moved), reverse=True)
    page.select_option("#history-filter", "all")


def _check_xai(board: Dashboard, job_id: int) -> None:
    page = board.page
    page.click("#deferred-pill")
    page.click(f"#deferred-body button[data-job='{job_id}']")
    assert page.get_attribute("#tabbtn-xai", "aria-selected") == "true"
    page.wait_for_function(f"() => document.getElementById('xai-title').textContent.startsWith('Job {job_id}:')")
    page.wait_for_function("() => !document.getElementById('xai-when').hidden")
    job = board.api("GET", f"/jobs/{job_id}").json()
    text = board.api("GET", f"/jobs/{job_id}/explanation").json()["explanation"]
    when = board.text("#xai-when")
    assert when.startswith("When: deferred to ") and f"{board.text('#xai-text')} {when}" == text
    facts = dict(
        page.eval_on_selector_all(
            "#xai-facts div",
            "(ds) => ds.map((d) => [d.querySelector('dt').textContent, (d.querySelector('time') || "
            "d.querySelector('dd')).getAttribute('datetime') || d.querySelector('dd').textContent])",
        )
    )
    assert (
        (facts["Urgency"], facts["Status"], facts["Mode"])
        == (job["urgency"], job["status"], job["mode"].upper())
        == ("flexible", "deferred", "FAST")
    )
    assert (facts["Start (UTC)"], facts["Finish (UTC)"], facts["Submitted (UTC)"]) == (
        job["start_at"],
        job["finish_at"],
        job["state"]["clock_utc"],
    )
    assert facts["Deadline (UTC)"] == (job["deadline_at"] or "none")
    assert_amount(facts["Expected saving"].removesuffix(" kg CO₂"), job["co2_saved_kg"])


def _check_phone_layout(board: Dashboard) -> None:
    page = board.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#deferred-pill")
    assert page.is_visible("#deferred-box")
    assert_fits(page, "the Deferred list at 390 px")
    for tab in ("overview", "history", "xai"):
        board.tab(tab)
        assert_fits(page, f"the {tab} tab at 390 px")
    board.tab("overview")
    box = page.locator("#timing-card").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_a_reference_session_has_no_when_parts(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(6))
    page = dashboard.page
    hidden = page.eval_on_selector_all(".grid-only", "(els) => els.map((e) => e.checkVisibility())")
    assert hidden and not any(hidden)
    assert page.evaluate("() => document.getElementById('job-when').disabled")
    dashboard.tab("history")
    assert page.eval_on_selector("#history-body tr", "(tr) => tr.cells.length") == 9
    # A job from the form carries no when-to-run fields.
    bodies: list[str] = []
    page.on("request", lambda r: bodies.append(r.post_data or "") if r.url.endswith("/submit") else None)
    page.click("#btn-new-job")
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('queue-count').textContent === '1'")
    assert set(json.loads(bodies[0])) == {"priority", "latency", "cpu", "memory"}
    assert dashboard.chart("chart-carbon-overview")["datasets"][1]["data"] == []
    assert dashboard.text("#carbon-title-overview") == "Carbon per job"


def test_a_deadline_that_leaves_too_little_time_is_refused_with_its_field_and_row(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(422)
    dashboard.open()
    grid_session(dashboard, seed=None)
    page = dashboard.page
    # The form: 30 minutes to finish a 60-minute job.
    page.fill("#job-duration", "60")
    page.select_option("#job-deadline-kind", "minutes")
    page.fill("#job-deadline-min", "30")
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-title').textContent === 'The server found invalid input'")
    message = "deadline (30 min after submission) is before submission + duration_min (60 min): fields deadline and duration_min"
    assert dashboard.text("#notice-lines") == f"deadline: {message}"
    assert page.get_attribute("#job-deadline-min", "aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.id") == "job-deadline-min"
    assert dashboard.text("#job-deadline-error") == f"deadline: {message}" and page.is_visible("#job-deadline-error")
    assert "job-deadline-error" in (page.get_attribute("#job-deadline-min", "aria-describedby") or "")
    assert dashboard.text("#queue-count") == "0"
    page.fill("#job-deadline-min", "90")  # corrected: the mark goes, the job is queued
    assert page.get_attribute("#job-deadline-min", "aria-invalid") is None and page.is_hidden("#job-deadline-error")
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('queue-count').textContent === '1'")

    # The CSV: a deadline in minutes too short for its row's run time, then a time before the row's submission
    # (read on the session's clock when the file is queued: the server checks it after the rest of the file).
    for row, deadline in ((3, 20), (4, "2022-12-31T23:00Z")):
        rows = when_rows(3)
        rows[row - 2].update(duration_min=45, deadline=deadline)
        bad = csv_of(rows)
        expected = dashboard.api("POST", "/upload", files={"file": ("probe.csv", bad, "text/csv")}).json()["detail"]
        assert [(e["row"], e["field"]) for e in expected] == [(row, "deadline")]
        assert "duration_min" in expected[0]["message"]
        dashboard.upload(f"deadline-row-{row}.csv", bad)
        shown = page.eval_on_selector_all("#csv-error-rows tr", "(trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent))")
        assert shown == [[str(row), "deadline", expected[0]["message"]]]
        assert f"deadline-row-{row}.csv" in dashboard.text("#notice-title") and dashboard.text("#queue-count") == "1"


def _study_rows(result: dict[str, Any], regions: list[str]) -> list[list[str | None]]:
    """The table's text for `regions` as the page writes it; None where the test reads the amount itself
    (CO2 and energy: three significant digits, assert_amount)."""

    def count(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:.1f}"

    out = []
    for row in result["table"]:
        if row["region"] not in regions:
            continue
        saved = f"{row['saved_pct']:.1f}" + (f" ± {row['saved_pct_std']:.1f}" if row["runs"] > 1 else "")
        out.append(
            [
                row["region"],
                row["strategy"],
                saved,
                None,
                f"{row['deadline_misses']} of {row['feasible_deadlines']}",
                f"{row['delay_mean_min']:.1f}",
                f"{row['delay_p95_min']:.1f}",
                None,
                f"{row['cost']:.2f}",
                count(row["deferred_jobs"]),
                count(row["eco_jobs"]),
            ]
        )
    return out


def test_the_compare_tab_runs_the_deferral_study(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    page.select_option("#sim-study", "deferral")
    assert page.is_hidden("#sim-policies") and page.is_visible("#defer-regions")
    assert dashboard.text("#sim-title") == "Compare when-to-run strategies in the simulator"
    page.fill("#sim-jobs", str(STUDY["jobs"]))
    page.fill("#sim-seed", str(STUDY["seed"]))
    page.fill("#defer-seeds", str(STUDY["seeds"]))
    for region in page.eval_on_selector_all("#defer-regions input", "(els) => els.map((e) => e.value)"):
        page.set_checked(f"#defer-regions input[value='{region}']", region in STUDY["regions"])
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.post_data or "") if r.method == "POST" and r.url.endswith("/simulate") else None)
    page.click("#sim-start")
    page.wait_for_function(SETTLED)
    assert page.get_attribute("body", "data-sim-state") == "done", dashboard.text("#sim-status")
    sent = json.loads(posts[0])
    assert sent == {
        "study": "deferral",
        "workload": "task",
        "regions": list(STUDY["regions"]),
        "forecasts": ["perfect", "noisy", "persistence", "issued"],
        "jobs": STUDY["jobs"],
        "seed": STUDY["seed"],
        "seeds": STUDY["seeds"],
        "slack_h": 12,
    }
    run_id = page.evaluate("() => sessionStorage.getItem('taskpilot.simulation')")
    view = httpx.get(f"{dashboard.base}/simulate/{run_id}", trust_env=False, timeout=30).json()
    result = view["result"]
    strategies = list(dict.fromkeys(row["strategy"] for row in result["table"]))
    assert dashboard.text("#sim-status").startswith(f"Done: {len(strategies)} strategies in 2 regions on {STUDY['jobs']} jobs in ")
    assert page.is_visible("#defer-results") and page.is_hidden("#sim-results")
    assert f"Seed {STUDY['seed']} " in dashboard.text("#defer-meta") and dashboard.text("#defer-run-id") == f"run {run_id}"

    def check(regions: list[str]) -> None:
        rows = page.eval_on_selector_all("#defer-table-body tr", "(trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent))")
        expected = _study_rows(result, regions)
        assert [[c for c, e in zip(r, x) if e is not None] for r, x in zip(rows, expected)] == [
            [e for e in x if e is not None] for x in expected
        ]
        table = [row for row in result["table"] if row["region"] in regions]
        assert len(rows) == len(table)
        for cells, row in zip(rows, table):
            assert_amount(cells[3], row["co2_kg"])
            assert_amount(cells[7], row["energy_kwh"])
        chart = dashboard.chart("chart-deferral")
        assert chart["labels"] == regions
        moved = [s for s in strategies if s != "run_now"]
        assert [d["label"] for d in chart["datasets"]] == moved
        by_key = {(row["region"], row["strategy"]): row["saved_pct"] for row in result["table"]}
        assert [d["data"] for d in chart["datasets"]] == [[by_key.get((g, s)) for g in regions] for s in moved]

    check(list(STUDY["regions"]))
    assert list(page.eval_on_selector_all("#defer-region option", "(os) => os.map((o) => o.value)")) == ["", *STUDY["regions"]]
    page.select_option("#defer-region", "NO")
    check(["NO"])
    assert "forecast_issued skipped" in dashboard.text("#defer-notes")
    # The placement study's part is its own: empty until a placement run, and the deferral results come back.
    page.select_option("#sim-study", "placement")
    assert page.is_hidden("#defer-results") and page.is_hidden("#sim-results") and page.is_visible("#sim-policies")
    page.select_option("#sim-study", "deferral")
    assert page.is_visible("#defer-results")
    # A reload follows the same run again, in its study.
    page.select_option("#defer-region", "")
    before = dashboard.chart("chart-deferral")
    dashboard.reload()
    dashboard.tab("compare")
    page.wait_for_function("() => document.body.dataset.simState === 'done'")
    assert page.input_value("#sim-study") == "deferral" and dashboard.chart("chart-deferral") == before
    assert dashboard.summary()["total_jobs"] == 0  # a study leaves the session alone


def test_a_deferral_study_can_be_cancelled(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    config = {"study": "deferral", "regions": ["ES"], "jobs": 5000, "seed": 1}
    running = {
        "id": FAKE_ID,
        "status": "running",
        "config": config,
        "elapsed_s": 0.4,
        "error": None,
        "result": None,
        "progress": {"done": 5000, "total": 35000, "fraction": 0.1429, "policy": "ES threshold"},
    }
    current = dict(running)

    def handle(route: Any) -> None:
        nonlocal current
        method = route.request.method
        if method == "POST":
            route.fulfill(
                status=202,
                content_type="application/json",
                body=json.dumps({"id": FAKE_ID, "status": "queued", "poll": f"/simulate/{FAKE_ID}"}),
            )
            return
        if method == "DELETE":
            current = {**running, "status": "cancelled", "error": "cancelled during ES threshold after 5,000 of 35,000 job plans"}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(current))

    page.route(re.compile(r".*/simulate(/[^/]*)?$"), handle)
    page.select_option("#sim-study", "deferral")
    page.click("#sim-start")
    page.wait_for_function("() => document.body.dataset.simState === 'running'")
    assert (
        dashboard.text("#sim-status") == "Running ES threshold." and dashboard.text("#sim-detail") == "5,000 of 35,000 job plans (14.3 %)."
    )
    page.click("#sim-cancel")
    page.wait_for_function("() => document.body.dataset.simState === 'cancelled'")
    assert dashboard.text("#sim-status") == "Cancelled: cancelled during ES threshold after 5,000 of 35,000 job plans."
    assert page.is_enabled("#sim-start") and page.is_hidden("#defer-results")
