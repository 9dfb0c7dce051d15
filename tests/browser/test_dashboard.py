"""The dashboard's flows in a real browser: load, add a job, upload (bad and good CSVs), run and read every
tab and chart, explain a job, reset, reload."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import httpx
import pytest

from .conftest import TIERS, Dashboard, assert_amount, hold, jobs_csv, mixed_jobs, wait_until

CHARTS = (
    "chart-score",
    "chart-reward",
    "chart-servers",
    "chart-priority-mix",
    "chart-carbon-overview",
    "chart-avg-reward",
    "chart-energy-co2",
    "chart-routing",
    "chart-energy-bands",
    "chart-carbon",
    "chart-breakdown",
    "chart-qvalues",
    "chart-attribution",
    "chart-gauge",
    "chart-cum-co2",
    "chart-co2-priority",
    "chart-energy-server",
    "chart-race",
    "chart-tradeoff",
    "chart-deferral",
    "chart-learning",
    "chart-gantt",
)
RUN = re.compile(r".*/run\?detail=compact$")
TABS = ("overview", "history", "analytics", "xai", "sustainability", "compare", "workflows")
N_GOOD = 60


def test_page_loads_clean_offline_with_csp(dashboard: Dashboard) -> None:
    dashboard.open()
    headers = dashboard.response.headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    page = dashboard.page
    # Every chart exists from the start (created once, updated later); Chart.js came from /static/vendor.
    assert page.evaluate("() => Object.values(Chart.instances).map((c) => c.canvas.id).sort()") == sorted(CHARTS)
    assert page.evaluate("() => Chart.version") == "4.6.1"
    # Tabs are buttons with aria-selected; exactly one is selected, and its panel alone is shown.
    assert page.eval_on_selector_all(
        "[role=tab]", "(tabs) => tabs.map((t) => [t.tagName, t.dataset.tab, t.getAttribute('aria-selected')])"
    ) == [["BUTTON", tab, "true" if tab == "overview" else "false"] for tab in TABS]
    # Every form control has a label.
    unlabeled = page.eval_on_selector_all(
        "input, select, textarea", "(els) => els.filter((e) => !e.labels || e.labels.length === 0).map((e) => e.id)"
    )
    assert unlabeled == []
    dashboard.assert_clean()


def test_sample_csv_downloads_and_is_accepted(dashboard: Dashboard) -> None:
    dashboard.open()
    with dashboard.page.expect_download() as download:
        dashboard.page.click("#sample-csv")
    content = download.value.path().read_bytes()
    assert download.value.suggested_filename == "taskpilot_sample_jobs.csv"
    header, *rows = content.decode().splitlines()
    columns = header.split(",")
    assert columns == [
        "priority", "latency", "cpu", "memory", "duration_min", "power_w", "estimated_kwh", "co2_kg",
        "urgency", "deadline", "interruptible",
    ]  # fmt: skip
    cells = [dict(zip(columns, row.split(","))) for row in rows]
    assert {c["urgency"] for c in cells} == {"critical", "normal", "flexible"}  # every urgency, some with deadlines
    assert any(c["deadline"] for c in cells) and any(c["interruptible"] == "true" for c in cells)
    assert any(c["estimated_kwh"] for c in cells) and any(c["co2_kg"] for c in cells)  # measured figures, used or answered
    response = dashboard.api("POST", "/upload", files={"file": ("sample.csv", content, "text/csv")})
    assert response.status_code == 200 and response.json()["count"] == content.count(b"\n") - 1


def test_tabs_work_by_keyboard(dashboard: Dashboard) -> None:
    dashboard.open()
    page = dashboard.page
    page.focus("#tabbtn-overview")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tabbtn-history", "aria-selected") == "true"
    assert page.evaluate("() => document.activeElement.id") == "tabbtn-history"
    assert page.is_visible("#tab-history") and page.is_hidden("#tab-overview")
    page.keyboard.press("End")
    assert page.get_attribute(f"#tabbtn-{TABS[-1]}", "aria-selected") == "true"
    page.keyboard.press("ArrowRight")  # wraps around
    assert page.get_attribute("#tabbtn-overview", "aria-selected") == "true"
    page.keyboard.press("ArrowLeft")
    assert page.get_attribute(f"#tabbtn-{TABS[-1]}", "aria-selected") == "true"


def test_form_adds_a_job(dashboard: Dashboard) -> None:
    dashboard.open()
    page = dashboard.page
    assert page.is_visible("#add-panel")  # an empty session opens the form
    page.select_option("#job-priority", "green")
    page.select_option("#job-latency", "low")
    page.fill("#job-cpu", "15")
    page.fill("#job-memory", "39")
    page.click("#job-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('queue-count').textContent === '1'")
    assert "Job 1: green, latency low, cpu 15 %, memory 39 %" in dashboard.text("#queue-list")
    assert dashboard.summary()["queued_jobs"] == 1


def test_bad_csv_lists_each_error_and_queues_nothing(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(422)
    dashboard.open()
    bad = b"priority,latency,cpu,memory\ngreen,low,10,20\npurple,low,500,20\nbalanced,fast,abc,1\nperformance,high,5\n"
    expected = dashboard.api("POST", "/upload", files={"file": ("probe.csv", bad, "text/csv")}).json()["detail"]
    assert len(expected) == 5  # the server's own list: what the page must show, row by row
    dashboard.upload("jobs-with-errors.csv", bad)
    page = dashboard.page
    rows = page.eval_on_selector_all("#csv-error-rows tr", "(trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent))")
    assert rows == [[str(e["row"]), e["field"] or "–", e["message"]] for e in expected]
    assert {r[0] for r in rows} == {"3", "4", "5"}
    assert "nothing from this file was queued" in dashboard.text("#csv-errors-caption")
    assert "jobs-with-errors.csv" in dashboard.text("#notice-title")
    assert dashboard.text("#queue-count") == "0"
    # Run with the bad file still chosen: the same errors, nothing scheduled.
    dashboard.choose_file("jobs-with-errors.csv", bad)
    page.click("#btn-run")
    page.wait_for_function("() => document.body.dataset.runState === 'error'")
    page.wait_for_selector("#overlay", state="hidden")
    assert page.eval_on_selector_all("#csv-error-rows tr", "(trs) => trs.length") == 5
    summary = dashboard.summary()
    assert (summary["queued_jobs"], summary["total_jobs"]) == (0, 0)


def _chart_sum(board: Dashboard, chart: str, dataset: int = 0) -> float:
    return sum(board.chart(chart)["datasets"][dataset]["data"])


def test_good_csv_runs_and_fills_every_tab(dashboard: Dashboard) -> None:
    dashboard.open()
    jobs = mixed_jobs(N_GOOD)
    dashboard.choose_file("good.csv", jobs_csv(jobs))
    page = dashboard.page
    # Run uploads the chosen file, then schedules; the overlay steps through all five stages. The run is held
    # at the server's door until the open dialog has been seen, however quickly this machine would finish it.
    held = hold(page, RUN)
    page.click("#btn-run")
    page.wait_for_selector("#overlay", state="visible")
    wait_until(page, lambda: held)
    steps = page.eval_on_selector_all("#overlay-steps li", "(lis) => lis.map((li) => li.dataset.state)")
    assert steps == ["done", "done", "active", "pending", "pending"]
    held[0].continue_()
    page.unroute(RUN)
    page.wait_for_function("() => document.body.dataset.runState === 'done'")
    states = page.eval_on_selector_all("#overlay-steps li", "(lis) => lis.map((li) => [li.dataset.step, li.dataset.state])")
    assert states == [["parse", "done"], ["submit", "done"], ["schedule", "done"], ["explain", "done"], ["render", "done"]]
    page.wait_for_selector("#overlay", state="hidden")
    timing = page.evaluate("() => window.taskpilotTiming")
    assert timing["jobs"] == N_GOOD and timing["totalMs"] > 0

    summary = dashboard.summary()
    history = dashboard.api("GET", "/history?limit=1000").json()["jobs"]
    assert summary["total_jobs"] == N_GOOD and summary["queued_jobs"] == 0
    _check_overview(dashboard, summary, jobs)
    _check_history(dashboard, history)
    _check_analytics(dashboard, summary, history)
    _check_sustainability(dashboard, summary)
    dashboard.tab("xai")
    page.wait_for_function("() => Chart.getChart('chart-breakdown').data.labels.length === 3")


def _check_overview(board: Dashboard, summary: dict[str, Any], jobs: list[dict[str, Any]]) -> None:
    board.tab("overview")
    assert board.text("#kpi-jobs") == str(N_GOOD)
    assert board.text("#kpi-reward") == f"{summary['avg_reward']:.3f}"
    assert_amount(board.text("#kpi-energy"), summary["total_energy_kwh"])
    assert_amount(board.text("#kpi-co2"), summary["total_co2_kg"])
    assert_amount(board.text("#kpi-avoided"), summary["co2_avoided_kg"])
    assert board.text("#score-value") == f"{summary['sustainability_score']:.1f}"
    assert board.text("#side-jobs") == str(N_GOOD)
    assert board.chart("chart-score")["datasets"][0]["data"][0] == pytest.approx(summary["sustainability_score"])
    reward = board.chart("chart-reward")
    assert [d["label"] for d in reward["datasets"]] == ["Reward (raw)", "3-job rolling mean", "10-job trend"]
    assert all(len(d["data"]) == N_GOOD for d in reward["datasets"])  # under 600 points: not decimated
    servers = board.chart("chart-servers")
    assert dict(zip(servers["labels"], servers["datasets"][0]["data"])) == summary["jobs_by_server"]
    mix = board.chart("chart-priority-mix")
    assert dict(zip(mix["labels"], mix["datasets"][0]["data"])) == dict(Counter(j["priority"] for j in jobs))
    assert len(board.chart("chart-carbon-overview")["datasets"][0]["data"]) == N_GOOD
    assert "Carbon:" in board.text("#carbon-hint-badge") and board.text("#carbon-hint-message") != "…"
    pool_map = board.page.eval_on_selector_all(
        "#pool-map .pool", "(pools) => pools.map((p) => [p.dataset.tier, p.querySelectorAll('li').length])"
    )
    assert pool_map == [[t, 3] for t in TIERS]


def _check_history(board: Dashboard, history: list[dict[str, Any]]) -> None:
    board.tab("history")
    page = board.page
    assert page.eval_on_selector_all("#history-body tr", "(trs) => trs.length") == 50
    assert board.text("#page-info") == "Page 1 of 2"
    first = page.eval_on_selector("#history-body tr", "(tr) => Array.from(tr.cells, (c) => c.textContent)")
    h0 = history[0]
    assert first[:5] + first[7:8] == [
        str(h0["job_id"]),
        h0["chosen_dc"],
        h0["priority"],
        h0["latency"],
        f"{h0['reward']:.4f}",
        f"{h0['cost']:.4f}",
    ]
    assert_amount(first[5], h0["energy_kwh"])
    assert_amount(first[6], h0["co2_kg"])
    page.click("#page-next")
    assert page.eval_on_selector_all("#history-body tr", "(trs) => trs.length") == N_GOOD - 50
    # Sort by reward: the first click sorts ascending, the second descending.
    page.click("th[data-sort=reward] button")
    page.click("th[data-sort=reward] button")
    assert page.get_attribute("th[data-sort=reward]", "aria-sort") == "descending"
    assert board.text("#page-info") == "Page 1 of 2"
    top = page.eval_on_selector("#history-body tr", "(tr) => tr.cells[4].textContent")
    assert top == f"{max(h['reward'] for h in history):.4f}"


def _check_analytics(board: Dashboard, summary: dict[str, Any], history: list[dict[str, Any]]) -> None:
    board.tab("analytics")
    avg = board.chart("chart-avg-reward")
    for server, value in zip(avg["labels"], avg["datasets"][0]["data"]):
        mine = [h["reward"] for h in history if h["chosen_dc"] == server]
        assert value == pytest.approx(sum(mine) / len(mine) if mine else 0)
    assert _chart_sum(board, "chart-energy-co2", 0) == pytest.approx(summary["total_energy_kwh"], abs=1e-3)
    assert _chart_sum(board, "chart-energy-co2", 1) == pytest.approx(summary["total_co2_kg"], abs=1e-4)
    routing = board.chart("chart-routing")
    pools = board.api("GET", "/info").json()["tier_pools"]
    assert [d["label"] for d in routing["datasets"]] == list(TIERS)
    for tier, d in zip(TIERS, routing["datasets"]):
        assert sum(v for v in d["data"] if v is not None) == pytest.approx(100)
        assert [v is not None for v in d["data"]] == [server in pools[tier] for server in routing["labels"]]  # bars only inside the pool
    bands = board.chart("chart-energy-bands")
    assert len(bands["labels"]) == 5 and sum(bands["datasets"][0]["data"]) == N_GOOD
    carbon = board.chart("chart-carbon")["datasets"][0]["data"]
    assert carbon == [h["carbon_factor"] for h in history]


def _check_sustainability(board: Dashboard, summary: dict[str, Any]) -> None:
    board.tab("sustainability")
    assert board.chart("chart-gauge")["datasets"][0]["data"][0] == pytest.approx(summary["sustainability_score"])
    assert board.text("#rating-grade") in {"A", "B", "C", "D", "E"}
    assert board.text("#rating-advice") not in {"", "Run some jobs to get a rating."}
    assert_amount(board.text("#sus-avoided").split(" kg")[0], summary["co2_avoided_kg"])
    assert board.text("#sus-best").startswith("Server ")
    cumulative = board.chart("chart-cum-co2")["datasets"][0]["data"]
    assert len(cumulative) == N_GOOD and cumulative[-1] == pytest.approx(summary["total_co2_kg"], abs=1e-4)
    assert cumulative == sorted(cumulative)
    by_priority = board.chart("chart-co2-priority")
    assert by_priority["labels"] == list(TIERS) and sum(by_priority["datasets"][0]["data"]) == pytest.approx(
        summary["total_co2_kg"], abs=1e-4
    )
    assert _chart_sum(board, "chart-energy-server") == pytest.approx(summary["total_energy_kwh"], abs=1e-3)


def test_xai_breakdown_and_refine_falls_back_without_key(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(12))
    page = dashboard.page
    dashboard.tab("history")
    page.click("#history-body button[data-job='5']")  # job 5: a balanced job
    assert page.get_attribute("#tabbtn-xai", "aria-selected") == "true"
    page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 5:')")
    full = dashboard.api("GET", "/jobs/5").json()
    template = dashboard.api("GET", "/jobs/5/explanation").json()
    pool = [name for name, b in full["score_breakdown"].items() if b["in_pool"]]
    breakdown = dashboard.chart("chart-breakdown")
    assert breakdown["labels"] == pool
    keys = ("perf_score", "cost_score", "co2_score", "lat_score", "final")
    assert [d["data"] for d in breakdown["datasets"]] == [[full["score_breakdown"][s][k] for s in pool] for k in keys]
    qvalues = dashboard.chart("chart-qvalues")
    assert dict(zip(qvalues["labels"], qvalues["datasets"][0]["data"])) == full["rl_q_values"]
    assert dashboard.text("#xai-text") == template["explanation"]
    assert "Template explanation" in dashboard.text("#xai-source")
    # Refine: no GROQ_API_KEY on the test server, so the page says plainly that the template was used.
    page.click("#xai-refine")
    page.wait_for_function("() => document.getElementById('xai-source').textContent.includes('LLM was not used')")
    assert "no GROQ_API_KEY configured" in dashboard.text("#xai-source")
    assert dashboard.text("#xai-text") == template["explanation"]
    # The picker and the previous / next buttons move between jobs.
    page.click("#xai-next")
    page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 6:')")
    page.fill("#xai-job", "2")
    page.click("#xai-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 2:')")


def test_reset_empties_the_session(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(9))
    dashboard.api("POST", "/submit", json={"priority": "green", "cpu": 1, "memory": 2})
    dashboard.reload()
    assert dashboard.text("#side-jobs") == "9" and dashboard.text("#queue-count") == "1"
    dashboard.reset()
    summary = dashboard.summary()
    assert (summary["total_jobs"], summary["queued_jobs"]) == (0, 0)
    assert dashboard.text("#side-jobs") == "0" and dashboard.text("#queue-count") == "0"
    assert _chart_sum(dashboard, "chart-servers") == 0
    assert dashboard.chart("chart-reward")["datasets"][0]["data"] == []
    dashboard.tab("history")
    assert dashboard.page.eval_on_selector_all("#history-body tr", "(trs) => trs.length") == 0


def test_reload_restores_the_session_from_the_server(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.upload("first.csv", jobs_csv(mixed_jobs(30)))
    dashboard.run()
    sid = dashboard.session_id
    before = dashboard.chart("chart-servers")
    history_requests: list[str] = []
    dashboard.page.on("request", lambda r: history_requests.append(r.url) if "/history" in r.url else None)
    dashboard.reload()
    assert dashboard.session_id == sid
    assert history_requests, "a reload must read the history from GET /history"
    # localStorage holds the session id and a job count, never copies of the jobs.
    stored = dashboard.page.evaluate("() => Object.fromEntries(Object.entries(localStorage))")
    assert set(stored) <= {"taskpilot.session", "taskpilot.jobsSeen"} and stored["taskpilot.session"] == sid
    assert dashboard.chart("chart-servers") == before
    assert dashboard.text("#side-jobs") == "30"
    dashboard.tab("history")
    assert dashboard.text("#history-count").startswith("30 jobs")


def test_a_grid_scenario_session_shows_real_intensity(dashboard: Dashboard) -> None:
    dashboard.open()
    sid = httpx.get(dashboard.base + "/session?scenario=grid", trust_env=False, timeout=30).json()["session_id"]
    dashboard.page.evaluate("(sid) => localStorage.setItem('taskpilot.session', sid)", sid)
    dashboard.seed(mixed_jobs(20))
    history = dashboard.api("GET", "/history").json()["jobs"]
    carbon = dashboard.chart("chart-carbon")["datasets"][0]["data"]
    assert carbon == [h["carbon_intensity_g_per_kwh"] for h in history]
    title = dashboard.page.evaluate("() => Chart.getChart('chart-carbon').options.scales.y.title.text")
    assert title == "Average grid carbon intensity (gCO₂eq/kWh)"
    assert "gCO₂eq/kWh" in dashboard.text("#carbon-hint-zones")
    assert dashboard.text("#session-scenario") == "Scenario: grid"
    # The factor of a grid session is a fleet-wide average: the page says how the server made it.
    carbon_now = dashboard.api("GET", "/sustainability").json()
    assert carbon_now["carbon_factor_basis"] in dashboard.text("#carbon-hint-signal")
    assert "for the next job" not in dashboard.text("#carbon-hint-signal")
    assert carbon_now["carbon_factor_basis"] in dashboard.text("#side-carbon-signal")
    # Grams of CO2 per job: three significant digits, never a rounded 0.00.
    summary = dashboard.summary()
    for selector in ("#kpi-co2", "#kpi-energy"):
        assert float(dashboard.text(selector).replace(",", "")) > 0, selector
    assert_amount(dashboard.text("#kpi-co2"), summary["total_co2_kg"])
    assert_amount(dashboard.text("#side-co2").removesuffix(" kg"), summary["total_co2_kg"])
    dashboard.tab("history")
    co2 = dashboard.page.eval_on_selector_all("#history-body tr", "(trs) => trs.map((tr) => tr.cells[6].textContent)")
    for text, job in zip(co2, history):
        assert_amount(text, job["co2_kg"])


def test_line_charts_are_decimated_but_keep_both_ends(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(700))
    history = dashboard.api("GET", "/history?limit=1000").json()["jobs"]
    assert len(history) == 700
    for canvas, key in (("chart-reward", "reward"), ("chart-carbon", "carbon_factor"), ("chart-carbon-overview", "carbon_factor")):
        line = dashboard.chart(canvas)["datasets"][0]
        assert 500 < len(line["data"]) <= 600, canvas
        assert (line["x"][0], line["data"][0]) == (history[0]["job_id"], history[0][key]), canvas
        assert (line["x"][-1], line["data"][-1]) == (history[-1]["job_id"], history[-1][key]), canvas
        assert line["x"] == sorted(set(line["x"])), canvas  # increasing job ids, none twice
    cumulative = dashboard.chart("chart-cum-co2")["datasets"][0]
    assert len(cumulative["data"]) <= 600 and cumulative["x"][-1] == 700
    assert cumulative["data"][-1] == pytest.approx(sum(h["co2_kg"] for h in history), rel=1e-9)


def test_equal_energies_make_one_band(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed([{"priority": "green", "latency": "low", "cpu": 20, "memory": 30}])
    history = dashboard.api("GET", "/history").json()["jobs"]
    bands = dashboard.chart("chart-energy-bands")
    assert len(bands["labels"]) == 1 and bands["labels"][0][0] == "The one job" and bands["datasets"][0]["data"] == [1]
    note = dashboard.text("#bands-note")
    assert note.startswith("The one job used ") and note.endswith(" kWh, so there is no spread to split into bands.")
    assert_amount(note.split("used ")[1].split(" kWh")[0], history[0]["energy_kwh"])


def test_a_missing_job_clears_the_explanation(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(404)
    dashboard.open()
    dashboard.seed(mixed_jobs(4))
    page = dashboard.page
    dashboard.tab("xai")
    page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 4:')")
    dashboard.api("POST", "/reset")  # as from another tab: job 3 is gone
    page.click("#xai-prev")
    page.wait_for_function("() => document.getElementById('notice-title').textContent === 'Not found'")
    assert dashboard.text("#xai-title") == "Explanation" and dashboard.text("#xai-text") == "There is no scheduled job 3 in this session."
    assert page.eval_on_selector_all("#xai-facts div", "(ds) => ds.length") == 0
    assert dashboard.chart("chart-breakdown")["labels"] == [] and dashboard.chart("chart-qvalues")["labels"] == []
    assert page.get_attribute("#xai-refine", "aria-disabled") == "true"
