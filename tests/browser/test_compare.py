"""The Compare tab (POST /simulate, followed until done: the race, CO2 against completion time, the
learning curve, the win/loss matrix, the metrics table) and the sidebar's scenario control, in a browser."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import httpx
import numpy as np

from .conftest import (
    HOSTILE_FIELD,
    INJECTED,
    Dashboard,
    assert_amount,
    assert_canvases_fit,
    assert_fits,
    contrast,
    jobs_csv,
    mixed_jobs,
    rgb,
    wait_until,
)

MAX_SIM_JOBS = 1000
# A small cap, so a 413 is easy to provoke; every test's page comes from 127.0.0.1, so the per-client share of the
# simulation slots is the whole (tests/abuse checks the share), lest one test's run still ending refuse the next.
SERVER_ENV = {"TASKPILOT_MAX_SIM_JOBS": str(MAX_SIM_JOBS), "TASKPILOT_MAX_CLIENT_SIMS": "2"}
POLICIES = ("tier_agents", "round_robin", "random", "greedy", "least_loaded", "lowest_carbon", "greenest_free", "oracle", "dqn")
CHOSEN = ("tier_agents", "greedy", "lowest_carbon")
JOBS, SEED = 400, 11
BOUND = "hindsight lower bound"
REFERENCE = "constrained reference"
METRICS = (
    "co2_kg",
    "co2_with_idle_kg",
    "energy_kwh",
    "cost",
    "completion_mean_min",
    "completion_p95_min",
    "wait_mean_min",
    "slo_miss",
    "starved",
)
FAKE_ID = "00000000-0000-4000-8000-000000000001"
SETTLED = "() => ['done', 'failed', 'cancelled', 'error'].includes(document.body.dataset.simState)"


def start_simulation(
    board: Dashboard, *, workload: str = "poisson", jobs: int = JOBS, seed: int | None = SEED, policies: tuple[str, ...] = CHOSEN
) -> None:
    """Fill the Compare form and press Start (the Compare tab must be open)."""
    page = board.page
    page.select_option("#sim-workload", workload)
    page.fill("#sim-jobs", str(jobs))
    page.fill("#sim-seed", "" if seed is None else str(seed))
    for name in POLICIES:
        page.set_checked(f"#sim-policies input[value={name}]", name in policies)
    page.click("#sim-start")


def run_simulation(board: Dashboard, **options: Any) -> dict[str, Any]:
    """Start a run, wait until the page has drawn it, and return GET /simulate/{id} as read by the test."""
    start_simulation(board, **options)
    board.page.wait_for_function(SETTLED)
    assert board.page.get_attribute("body", "data-sim-state") == "done", board.text("#sim-status")
    run_id = board.page.evaluate("() => sessionStorage.getItem('taskpilot.simulation')")
    view = httpx.get(f"{board.base}/simulate/{run_id}", trust_env=False, timeout=30).json()
    assert view["status"] == "done"
    return view


def window_ends(n: int, windows: int) -> list[int]:
    return np.cumsum([len(part) for part in np.array_split(np.arange(n), windows)]).tolist()


def test_compare_charts_and_tables_hold_the_results_numbers(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    assert page.is_hidden("#sim-results") and page.is_disabled("#sim-cancel")
    view = run_simulation(dashboard)
    result = view["result"]
    assert (result["config"]["workload"], result["config"]["jobs"], result["seed"]) == ("poisson", JOBS, SEED)
    assert [p["policy"] for p in result["policies"]] == list(CHOSEN)
    by_name = {p["policy"]: p for p in result["policies"]}
    assert page.evaluate("() => document.getElementById('sim-progress').value") == 1
    assert dashboard.text("#sim-status").startswith(f"Done: 3 policies on {JOBS} jobs in ")
    assert f"seed {SEED}" in dashboard.text("#sim-meta") and f"run {view['id']}" == dashboard.text("#sim-run-id")
    # The carbon label, plainly: grid runs use an average grid intensity.
    assert result["clock"]["carbon_kind"].startswith("average")
    assert dashboard.text("#sim-carbon-badge") == "Carbon: average grid intensity"
    assert result["clock"]["carbon_kind"] in dashboard.text("#sim-carbon-kind")

    # The race: sorted shortest first, with the hindsight lower bound as its own grey bar for CO2.
    race = dashboard.chart("chart-race")
    ranked = sorted(result["policies"], key=lambda p: p["co2_kg"])
    assert race["labels"] == [BOUND] + [p["policy"] for p in ranked]
    assert race["datasets"][0]["data"] == [result["lower_bound"]["co2_kg"]] + [p["co2_kg"] for p in ranked]
    assert "shorter is better" in page.evaluate("() => Chart.getChart('chart-race').options.scales.x.title.text")
    bound = re.search(r"CO₂, ([\d.,]+) kg", dashboard.text("#race-bound"))
    assert bound is not None
    assert_amount(bound.group(1), result["lower_bound"]["co2_kg"])
    page.uncheck("#race-sort")
    for metric in METRICS:
        page.select_option("#race-metric", metric)
        race = dashboard.chart("chart-race")
        expected = [(p["policy"], p[metric]) for p in result["policies"]]
        if metric == "co2_kg":
            expected.insert(0, (BOUND, result["lower_bound"]["co2_kg"]))
        if metric == "co2_with_idle_kg":
            expected.insert(0, (REFERENCE, result["reference"]["summary"]["co2_with_idle_kg"]))
        assert list(zip(race["labels"], race["datasets"][0]["data"])) == expected, metric

    # CO2 against mean completion time: one point per policy, and the bound as a dashed line.
    tradeoff = dashboard.chart("chart-tradeoff")
    assert [d["label"] for d in tradeoff["datasets"]] == [*CHOSEN, BOUND]
    for name, d in zip(CHOSEN, tradeoff["datasets"]):
        assert (d["x"], d["data"]) == ([by_name[name]["completion_mean_min"]], [by_name[name]["co2_kg"]])
    assert tradeoff["datasets"][-1]["data"] == [result["lower_bound"]["co2_kg"]] * 2

    # The learning curve: quality per window for each policy, plus the agents' training reward.
    curve = result["learning_curve"]
    learning = dashboard.chart("chart-learning")
    assert [d["label"] for d in learning["datasets"]] == [*CHOSEN, "tier_agents training reward"]
    ends = window_ends(JOBS, len(curve["quality"]["greedy"]))
    for name, d in zip(CHOSEN, learning["datasets"]):
        assert (d["x"], d["data"]) == (ends, curve["quality"][name])
    assert learning["datasets"][-1]["data"] == curve["agent_reward"]

    # The win/loss matrix: the count of jobs on which the row beats the column on CO2, shaded by share.
    wins = result["win_loss"]["wins"]
    assert result["win_loss"]["policies"] == list(CHOSEN)
    assert page.eval_on_selector_all("#winloss-head th", "(ths) => ths.map((th) => th.textContent)") == ["Row beats column", *CHOSEN]
    cells = page.eval_on_selector_all(
        "#winloss-body tr", "(trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.dataset.count ?? c.textContent))"
    )
    assert cells == [[row] + ["–" if i == j else str(round(wins[i][j] * JOBS)) for j in range(3)] for i, row in enumerate(CHOSEN)]
    first = page.eval_on_selector("#winloss-body tr td:nth-child(3)", "(td) => [td.textContent, getComputedStyle(td).backgroundColor]")
    assert first[0] == f"{math.floor(100 * wins[0][1] + 0.5)} %{round(wins[0][1] * JOBS)} jobs"  # toFixed rounds half up
    assert first[1] != "rgba(0, 0, 0, 0)" or wins[0][1] == 0

    # The metrics table: one row per policy, with units from the result.
    rows = page.eval_on_selector_all("#sim-table-body tr", "(trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent))")
    assert [r[0] for r in rows] == [*CHOSEN, REFERENCE]
    head = page.eval_on_selector_all("#sim-table-head th", "(ths) => ths.map((th) => th.textContent)")
    co2 = head.index("CO₂kg CO2eq")
    for row, name in zip(rows, CHOSEN):
        assert_amount(row[co2], by_name[name]["co2_kg"])
    assert "Energy" + result["units"]["energy"] in head
    assert result["units"]["cost"] in dashboard.text("#sim-units")
    # A simulation leaves the page's session alone.
    assert dashboard.summary()["total_jobs"] == 0

    # A reload keeps the run id for this browser tab only, and the Compare tab draws the same run again.
    page.check("#race-sort")
    page.select_option("#race-metric", "co2_kg")
    before = {canvas: dashboard.chart(canvas) for canvas in ("chart-race", "chart-tradeoff", "chart-learning")}
    assert page.evaluate("() => Object.keys(localStorage).sort()") == ["taskpilot.jobsSeen", "taskpilot.session"]
    dashboard.reload()
    dashboard.tab("compare")
    page.wait_for_function("() => document.body.dataset.simState === 'done'")
    assert {canvas: dashboard.chart(canvas) for canvas in before} == before


def test_the_new_policies_and_the_constrained_reference(dashboard: Dashboard) -> None:
    """greenest_free is a choice of its own, the oracle is labelled for what it is, and a run shows the
    constrained reference: its row, each policy's gap to it (the result's numbers), what it is, and its bar
    in the CO2 with idle race."""
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    labels = dict(page.eval_on_selector_all("#sim-policies input", "(els) => els.map((e) => [e.value, e.parentElement.textContent])"))
    assert "greenest server free now" in labels["greenest_free"] and "job-CO₂ oracle" in labels["oracle"]
    assert "ignores completion" in labels["oracle"] and "learned" in labels["dqn"]
    chosen = ("least_loaded", "greenest_free", "oracle")
    result = run_simulation(dashboard, jobs=300, policies=chosen)["result"]
    assert [p["policy"] for p in result["policies"]] == list(chosen)
    reference = result["reference"]
    rows = page.eval_on_selector_all("#sim-table-body tr", "(trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent))")
    head = page.eval_on_selector_all("#sim-table-head th", "(ths) => ths.map((th) => th.textContent)")
    assert head[-1] == "Gap to reference% CO₂ with idle" and [r[0] for r in rows] == [*chosen, REFERENCE]
    idle = head.index("CO₂ with idlekg CO2eq")
    assert_amount(rows[-1][idle], reference["summary"]["co2_with_idle_kg"])
    for row, gap in zip(rows, reference["gaps"]):
        number = re.fullmatch(r"([+-]\d+\.\d) %( \(slower\))?", row[-1])
        assert number is not None, row[-1]
        assert abs(float(number.group(1)) - gap["percent"]) <= 0.05 + 1e-9 and (number.group(2) is None) == gap["meets_completion"]
    assert rows[0][-1].startswith(("+", "-")) and rows[-1][-1] == "0.0 %"
    text = dashboard.text("#sim-reference")
    assert f"least_loaded's {reference['target_completion_mean_min']:.1f} min" in text and "not a bound" in text
    bound = re.search(r"Lower bound at the same completion \(a Lagrangian relaxation that ignores capacity\): ([\d.,]+) kg", text)
    assert bound is not None and reference["lower_bound"]["co2_with_idle_kg"] <= reference["summary"]["co2_with_idle_kg"]
    assert_amount(bound.group(1), reference["lower_bound"]["co2_with_idle_kg"])
    page.uncheck("#race-sort")
    page.select_option("#race-metric", "co2_with_idle_kg")
    race = dashboard.chart("chart-race")
    assert race["labels"] == [REFERENCE, *chosen]
    assert race["datasets"][0]["data"] == [reference["summary"]["co2_with_idle_kg"], *(p["co2_with_idle_kg"] for p in result["policies"])]
    assert "constrained reference" in dashboard.text("#race-bound")


def test_a_proxy_run_is_labelled_as_proxy(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.tab("compare")
    dashboard.page.select_option("#sim-scenario", "reference")
    view = run_simulation(dashboard, jobs=150, policies=("round_robin", "greedy"), seed=None)
    result = view["result"]
    assert result["clock"]["carbon_kind"].startswith("proxy")
    assert dashboard.text("#sim-carbon-badge") == "Carbon: proxy"
    assert "not from grid data" in dashboard.text("#sim-carbon-kind")
    # A blank seed is drawn by the page and reported, so the run can be replayed.
    assert 0 <= result["seed"] < 2**53 and f"seed {result['seed']} " in dashboard.text("#sim-meta")
    # Without tier_agents there is no training reward line.
    assert [d["label"] for d in dashboard.chart("chart-learning")["datasets"]] == ["round_robin", "greedy"]


def test_compare_errors_are_shown_in_plain_words(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(413, 422, 429)
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/simulate" in r.url else None)

    # 413: more jobs than the server's TASKPILOT_MAX_SIM_JOBS.
    start_simulation(dashboard, jobs=5 * MAX_SIM_JOBS)
    page.wait_for_function(SETTLED)
    assert dashboard.text("#notice-title") == "Too large for the server"
    assert (
        dashboard.text("#notice-lines")
        == f"jobs={5 * MAX_SIM_JOBS} is over the limit of {MAX_SIM_JOBS} per simulation (TASKPILOT_MAX_SIM_JOBS)"
    )
    assert dashboard.text("#sim-status").startswith("Not started: Too large for the server")
    assert page.is_enabled("#sim-start") and page.is_hidden("#sim-results")

    # 422: the server's field errors, by field (the form's own checks are lifted to reach the server).
    page.evaluate("() => document.getElementById('sim-jobs').removeAttribute('min')")
    start_simulation(dashboard, jobs=0)
    page.wait_for_function("() => document.getElementById('notice-title').textContent === 'The server found invalid input'")
    assert dashboard.text("#notice-lines") == "jobs: Input should be greater than or equal to 1; got 0"

    # No policy ticked: said plainly, nothing sent.
    sent = len(posts)
    start_simulation(dashboard, policies=())
    assert dashboard.text("#notice-title") == "Choose at least one policy to compare."
    assert len(posts) == sent

    # 429: every simulation slot is taken (the server's answer, replayed).
    busy = "2 simulations are running and at most 2 may run at once (TASKPILOT_MAX_SIM_RUNS); retry when one finishes"
    page.route("**/simulate", lambda route: route.fulfill(status=429, content_type="application/json", body=json.dumps({"detail": busy})))
    start_simulation(dashboard)
    page.wait_for_function("() => document.getElementById('notice-title').textContent === 'The server asks you to slow down'")
    assert dashboard.text("#notice-lines") == busy

    # A network failure.
    page.unroute("**/simulate")
    page.route("**/simulate", lambda route: route.abort("connectionrefused"))
    start_simulation(dashboard)
    page.wait_for_function("() => document.getElementById('notice-title').textContent.startsWith('Cannot reach')")
    page.unroute("**/simulate")
    dashboard.console_errors = [e for e in dashboard.console_errors if "ERR_CONNECTION_REFUSED" not in e]
    assert page.is_enabled("#sim-start")


def fake_server(board: Dashboard, final: dict[str, Any], *, lost: tuple[int, ...] = (), advance: bool = False) -> list[str]:
    """Answer POST /simulate and GET / DELETE /simulate/{id} in the page: a run that stays at 25 % (or, with
    `advance`, gains 10 job runs a poll) until it is cancelled, or turns into `final` on the third poll
    that gets an answer. The polls numbered in `lost` (from 1) fail as on a network blip. Returns the
    methods and paths the page used."""
    config = {"workload": "poisson", "scenario": "grid", "policies": list(CHOSEN), "jobs": JOBS, "seed": SEED}
    running = {
        "id": FAKE_ID,
        "status": "running",
        "config": config,
        "elapsed_s": 0.5,
        "error": None,
        "result": None,
        "progress": {"done": 300, "total": 1200, "fraction": 0.25, "policy": "greedy"},
    }
    calls: list[str] = []
    current = dict(running)

    def handle(route: Any) -> None:
        nonlocal current
        request = route.request
        calls.append(f"{request.method} {request.url.split(board.base, 1)[1]}")
        polls = sum(c.startswith("GET") for c in calls)
        if request.method == "POST":
            body = {"id": FAKE_ID, "status": "queued", "poll": f"/simulate/{FAKE_ID}"}
            route.fulfill(status=202, content_type="application/json", body=json.dumps(body))
            return
        if request.method == "GET" and polls in lost:
            route.abort("connectionrefused")
            return
        if request.method == "DELETE":
            current = {**running, "status": "cancelled", "error": "cancelled during greedy after 300 of 1200 job runs"}
        elif final and polls - sum(n <= polls for n in lost) >= 3:
            current = {**running, **final}
        elif advance and current["status"] == "running":
            done = current["progress"]["done"] + 10
            current = {**current, "progress": {**current["progress"], "done": done, "fraction": done / 1200}}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(current))

    board.page.route(re.compile(r".*/simulate(/[^/]*)?$"), handle)
    return calls


def test_progress_and_cancel_while_other_tabs_keep_working(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    calls = fake_server(dashboard, {})
    start_simulation(dashboard)
    page.wait_for_function("() => document.body.dataset.simState === 'running'")
    assert page.evaluate("() => document.getElementById('sim-progress').value") == 0.25
    assert dashboard.text("#sim-status") == "Running greedy."
    assert dashboard.text("#sim-detail") == "300 of 1,200 job runs (25.0 %)."
    assert page.is_disabled("#sim-start") and page.is_enabled("#sim-cancel")
    # The page keeps polling in the background; the other tabs work meanwhile.
    dashboard.tab("history")
    dashboard.tab("overview")
    wait_until(page, lambda: sum(c == f"GET /simulate/{FAKE_ID}" for c in calls) >= 3)
    dashboard.tab("compare")
    page.click("#sim-cancel")
    page.wait_for_function("() => document.body.dataset.simState === 'cancelled'")
    assert f"DELETE /simulate/{FAKE_ID}" in calls
    assert dashboard.text("#sim-status") == "Cancelled: cancelled during greedy after 300 of 1200 job runs."
    assert page.is_enabled("#sim-start") and page.is_disabled("#sim-cancel")
    assert page.is_hidden("#notice")


def test_a_failed_run_shows_its_error(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.tab("compare")
    error = "timed out after 300 s (TASKPILOT_SIM_TIMEOUT_S): cancelled during greedy after 600 of 1200 job runs"
    fake_server(dashboard, {"status": "failed", "error": error})
    start_simulation(dashboard)
    dashboard.page.wait_for_function("() => document.body.dataset.simState === 'failed'")
    assert dashboard.text("#notice-title") == "The simulation failed"
    assert dashboard.text("#notice-lines") == error
    assert dashboard.text("#sim-status") == f"Failed: {error}."
    assert dashboard.page.is_hidden("#sim-results")


def test_polling_rides_out_a_network_blip(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    error = "stopped for the test"
    calls = fake_server(dashboard, {"status": "failed", "error": error}, lost=(2, 3))
    # Every text the status line shows, however briefly: a passing text is recorded, not raced for.
    page.evaluate("""() => {
        window.__statuses = [];
        new MutationObserver(() => window.__statuses.push(document.getElementById('sim-status').textContent))
            .observe(document.getElementById('sim-status'), { childList: true, characterData: true, subtree: true });
    }""")
    start_simulation(dashboard)
    page.wait_for_function("() => document.body.dataset.simState === 'failed'")  # not 'error': the page kept track
    statuses = page.evaluate("() => window.__statuses")
    retries = [next((i for i, t in enumerate(statuses) if f"trying again in {n} s" in t), None) for n in (1, 2)]
    assert None not in retries and retries[0] < retries[1], statuses  # backing off: 1 s, then 2 s
    assert dashboard.text("#sim-status") == f"Failed: {error}."
    assert sum(c.startswith("GET") for c in calls) == 5
    dashboard.console_errors = [e for e in dashboard.console_errors if "ERR_CONNECTION_REFUSED" not in e]


def test_progress_is_announced_by_status_and_focus_follows_start_and_cancel(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    fake_server(dashboard, {}, advance=True)
    page.evaluate("""() => {
        window.__announced = [];
        new MutationObserver(() => window.__announced.push(document.getElementById('sim-status').textContent))
            .observe(document.getElementById('sim-status'), { childList: true, characterData: true, subtree: true });
    }""")
    assert page.get_attribute("#sim-status", "role") == "status"
    assert page.evaluate("() => document.getElementById('sim-detail').closest('[role=status], [role=alert], [aria-live]')") is None
    page.focus("#sim-start")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.body.dataset.simState === 'running'")
    page.wait_for_function("() => document.activeElement.id === 'sim-cancel'")  # Start switched off: focus moved on
    # Ten polls later the count has moved ten times, but the live region said "Running greedy." once. (At
    # least ten: the count goes on moving, so the wait is for a count, not for one passing text.)
    page.wait_for_function("() => Number(document.getElementById('sim-detail').textContent.split(' of ')[0].replace(/,/g, '')) >= 400")
    assert page.evaluate("() => window.__announced") == ["Starting…", "Running greedy."]
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.body.dataset.simState === 'cancelled'")
    assert page.evaluate("() => document.activeElement.id") == "sim-start"
    announced = page.evaluate("() => window.__announced")
    assert announced[-1] == "Cancelled: cancelled during greedy after 300 of 1200 job runs." and len(announced) <= 4


def test_hostile_simulation_error_is_shown_as_text(unguarded: Dashboard) -> None:
    unguarded.open()
    unguarded.tab("compare")
    fake_server(unguarded, {"status": "failed", "error": HOSTILE_FIELD})
    start_simulation(unguarded)
    unguarded.page.wait_for_function("() => document.body.dataset.simState === 'failed'")
    assert unguarded.text("#notice-lines") == HOSTILE_FIELD and HOSTILE_FIELD in unguarded.text("#sim-status")
    assert unguarded.page.evaluate(INJECTED) == {"pwned": None, "markup": 0}


def test_the_scenario_control_starts_a_new_session(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(5))
    page = dashboard.page
    old = dashboard.session_id
    assert dashboard.text("#session-scenario") == "Scenario: reference"
    assert page.input_value("#scenario-select") == "reference"
    page.select_option("#scenario-select", "grid")
    page.click("#scenario-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-title').textContent.startsWith('Started a new grid session')")
    new = dashboard.session_id
    assert new != old and dashboard.text("#session-id") == new
    assert old in dashboard.text("#notice-lines") and "left behind" in dashboard.text("#notice-lines")
    # The new session is grid and empty; the previous one still holds its jobs on the server.
    assert (dashboard.summary()["scenario"], dashboard.summary()["total_jobs"]) == ("grid", 0)
    previous = httpx.get(dashboard.base + "/summary", headers={"X-Session-ID": old}, trust_env=False, timeout=30).json()
    assert previous["total_jobs"] == 5
    assert dashboard.text("#session-scenario") == "Scenario: grid" and dashboard.text("#side-jobs") == "0"
    # The carbon charts switch to the grid's unit at once, and hold real intensities once jobs run.
    title = "() => Chart.getChart('chart-carbon').options.scales.y.title.text"
    assert page.evaluate(title) == "Average grid carbon intensity (gCO₂eq/kWh)"
    assert "gCO₂eq/kWh" in dashboard.text("#carbon-unit-analytics")
    dashboard.upload("grid.csv", jobs_csv(mixed_jobs(12)))
    dashboard.run()
    history = dashboard.api("GET", "/history").json()["jobs"]
    assert dashboard.chart("chart-carbon")["datasets"][0]["data"] == [h["carbon_intensity_g_per_kwh"] for h in history]
    dashboard.reload()
    assert dashboard.session_id == new and page.input_value("#scenario-select") == "grid"
    # And back to the reference scenario's 0-1 proxy.
    page.select_option("#scenario-select", "reference")
    page.click("#scenario-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('notice-title').textContent.startsWith('Started a new reference session')")
    assert page.evaluate(title) == "Carbon factor (unitless 0–1)"
    assert dashboard.text("#carbon-unit-analytics") == "carbon factor, unitless 0–1 proxy"


def test_compare_results_fit_a_phone(dashboard: Dashboard) -> None:
    page = dashboard.page
    page.set_viewport_size({"width": 390, "height": 844})
    dashboard.open()
    dashboard.tab("compare")
    run_simulation(dashboard, jobs=200, policies=POLICIES)
    assert_fits(page, "the Compare results at 390 px")
    assert len(assert_canvases_fit(page, "#sim-results canvas", 390)) == 3
    assert page.is_hidden("#defer-results")  # the deferral study's part waits for a deferral run
    # Colour is not the only cue: each policy has its own point style and dash, and every colour has 3:1 on white.
    for canvas in ("chart-tradeoff", "chart-learning"):
        styles = page.evaluate(f"""() => Chart.getChart('{canvas}').data.datasets
            .filter((d) => d.label !== 'hindsight lower bound')
            .map((d) => [d.label, d.pointStyle, JSON.stringify(d.borderDash || []), d.borderColor])""")
        policies = [s for s in styles if s[0] in POLICIES]
        assert [s[0] for s in policies] == list(POLICIES)
        assert len({s[1] for s in styles}) == len(styles), styles
        if canvas == "chart-learning":
            assert len({s[2] for s in styles}) == len(styles), styles
        assert all(contrast(rgb(s[3])) >= 3 for s in styles), styles


def test_the_compare_form_has_its_defaults(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.tab("compare")
    page = dashboard.page
    unlabeled = page.eval_on_selector_all(
        "#tab-compare input, #tab-compare select, #scenario-form select",
        "(els) => els.filter((e) => !e.labels || !e.labels.length).map((e) => e.id)",
    )
    assert unlabeled == []
    assert page.eval_on_selector_all("#sim-policies input", "(els) => els.map((e) => [e.value, e.checked])") == [
        [p, True] for p in POLICIES
    ]
    assert page.input_value("#sim-jobs") == "2000" and page.input_value("#sim-seed") == ""
    assert page.eval_on_selector_all("#sim-workload option", "(os) => os.map((o) => o.value)") == [
        "task",
        "poisson",
        "gaia-azure",
        "gaia-pai",
    ]
    assert page.eval_on_selector_all("#sim-scenario option", "(os) => os.map((o) => o.value)") == ["grid", "reference"]
