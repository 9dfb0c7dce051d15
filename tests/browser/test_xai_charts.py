"""Honest charts and one band scale on the page: the Explainable AI tab's attribution chart (each feature's
term of the agent's preference) and its Q-value chart (from zero, labelled as the agent's estimate of
discounted return); the carbon badge, the pool map and the Sustainability tab read the session's own numbers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import Dashboard, mixed_jobs


def show_job(dashboard: Dashboard, job_id: int) -> None:
    page = dashboard.page
    dashboard.tab("xai")
    page.fill("#xai-job", str(job_id))
    page.click("#xai-form button[type=submit]")
    page.wait_for_function(f"() => document.getElementById('xai-title').textContent.startsWith('Job {job_id}:')")


def chart_colors(dashboard: Dashboard, canvas_id: str) -> list[str]:
    return dashboard.page.evaluate(f"() => Chart.getChart('{canvas_id}').data.datasets[0].backgroundColor")


def test_attribution_chart_shows_each_term_of_the_agent_s_preference(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(30))
    jobs = [dashboard.api("GET", f"/jobs/{k}").json() for k in range(1, 31)]
    job = next(j for j in jobs if j["attribution"]["versus"] and any(v < 0 for v in j["attribution"]["terms"].values()))
    show_job(dashboard, job["job_id"])
    terms = job["attribution"]["terms"]
    chart = dashboard.chart("chart-attribution")
    assert chart["labels"] == list(terms) and chart["datasets"][0]["data"] == list(terms.values())
    # Bars that favoured the chosen server are in its tier's colour, the others grey.
    colors = chart_colors(dashboard, "chart-attribution")
    favour = {c for c, v in zip(colors, terms.values()) if v >= 0}
    against = {c for c, v in zip(colors, terms.values()) if v < 0}
    assert len(favour) == 1 and len(against) == 1 and favour != against
    versus, chosen = job["attribution"]["versus"], job["chosen_dc"]
    assert dashboard.text("#attribution-title") == f"Why {chosen} over {versus}"
    q = job["rl_q_values"]
    note = dashboard.text("#attribution-note")
    assert f"Q({chosen}) − Q({versus}) = {q[chosen]:.3f} − {q[versus]:.3f} = {sum(terms.values()):.3f}" in note
    # The horizontal axis starts from zero and says what a term is.
    x = dashboard.page.evaluate(
        "() => { const s = Chart.getChart('chart-attribution').scales.x; return [s.min, s.max, s.options.title.text]; }"
    )
    assert x[0] <= min(0, *terms.values()) and x[1] >= max(0, *terms.values()) and "positive favours the chosen server" in x[2]


def test_q_value_axis_starts_at_zero_and_is_the_agent_s_estimate_of_return(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(12))
    jobs = [dashboard.api("GET", f"/jobs/{k}").json() for k in range(1, 13)]
    job = next(j for j in jobs if min(j["rl_q_values"].values()) > 0)  # all positive: an axis from the smallest would hide a bar
    show_job(dashboard, job["job_id"])
    chart = dashboard.chart("chart-qvalues")
    assert dict(zip(chart["labels"], chart["datasets"][0]["data"])) == job["rl_q_values"]
    y = dashboard.page.evaluate(
        "() => { const s = Chart.getChart('chart-qvalues').scales.y; return [s.min, s.max, s.options.title.text]; }"
    )
    assert y[0] == 0 and y[1] >= max(job["rl_q_values"].values())
    assert y[2] == "Estimated discounted return (Q)"
    heading = dashboard.page.text_content("#chart-qvalues >> xpath=ancestor::div[contains(@class, 'card')]//h3") or ""
    assert "estimate of discounted return" in heading and "not a 0–1 reward" in heading


def test_a_missing_job_clears_the_attribution(dashboard: Dashboard) -> None:
    dashboard.allow_http_errors(404)
    dashboard.open()
    dashboard.seed(mixed_jobs(4))
    page = dashboard.page
    dashboard.tab("xai")
    page.wait_for_function("() => document.getElementById('xai-title').textContent.startsWith('Job 4:')")
    page.wait_for_function("() => Chart.getChart('chart-attribution').data.labels.length > 0")
    dashboard.api("POST", "/reset")  # as from another tab: job 3 is gone
    page.click("#xai-prev")
    page.wait_for_function("() => document.getElementById('notice-title').textContent === 'Not found'")
    assert dashboard.chart("chart-attribution")["labels"] == [] and dashboard.text("#attribution-note") == ""
    assert dashboard.text("#attribution-title") == "Why the agent preferred the chosen server"


@pytest.fixture
def grid_board(dashboard: Dashboard) -> Dashboard:
    """The page on a grid session with the sample CSV's mix of jobs."""
    dashboard.open()
    sid = httpx.get(dashboard.base + "/session?scenario=grid", trust_env=False, timeout=30).json()["session_id"]
    dashboard.page.evaluate("(sid) => localStorage.setItem('taskpilot.session', sid)", sid)
    dashboard.seed(mixed_jobs(40))
    return dashboard


def test_grid_badge_pools_and_advice_follow_the_session_s_numbers(grid_board: Dashboard) -> None:
    board = grid_board
    hint: dict[str, Any] = board.api("GET", "/sustainability").json()
    summary = board.summary()
    servers = hint["servers_by_band"]
    badge = board.text("#carbon-badge")
    assert badge == f"Carbon: {hint['carbon_band']} on {servers[hint['carbon_band']]} of {sum(servers.values())} servers"
    assert board.page.get_attribute("#carbon-badge", "data-band") == hint["carbon_band"]
    zones = board.text("#carbon-hint-zones")
    for zone, z in hint["carbon_bands"].items():
        assert f"{zone} {z['reading_g_per_kwh']:.0f} gCO₂eq/kWh ({z['band']})" in zones
    assert hint["band_scale"] in zones
    # Pools are described by their measured energy per unit of work on this session's jobs.
    unit = summary["efficiency"]["unit"].split(" (")[0]
    pools = board.page.eval_on_selector_all(
        "#pool-map .pool", "(ps) => ps.map((p) => [p.dataset.tier, p.querySelector('.pool-energy').textContent])"
    )
    for _tier, text in pools:
        assert text.endswith(f"{unit} (mean server, this session's jobs)") and float(text.split(" ")[0]) > 0
    assert "efficient" not in board.text("#pool-map")
    board.tab("sustainability")
    assert board.text("#rating-advice") == summary["advice"]["text"]
    best = summary["efficiency"]["most_efficient_server"]
    assert board.text("#sus-best").startswith(f"{best}: ") and board.text("#sus-best").endswith(unit)
    avoided = board.text("#sus-avoided")
    if summary["co2_avoided_kg"] < 0:  # the grid model's small servers use more energy per unit of work
        assert avoided.startswith("none: ") and "more than the baseline" in avoided
    assert "mark jobs that are not urgent as green" not in summary["advice"]["text"] or (
        min(summary["efficiency"]["co2_if_all_on_pool_kg"].items(), key=lambda kv: kv[1])[0] == "green"
    )
    # The carbon score is the carbon of the hours the jobs run, and the tab says what it measured.
    assert board.text("#sus-carbon") == f"{summary['score_parts']['carbon_score']:.4f}"
    basis = summary["carbon_score_basis"].split(": ", 1)[1]
    assert basis.startswith("1 - the mean of each job's grid intensity on its server over the hours it runs")
    assert board.text("#sus-carbon-basis") == f"What the carbon score measured: {basis}."
    board.tab("overview")
    assert "carbon score (low-carbon hours run) 25 %" in board.text("#score-note")  # no "clean" hours: it is a score
