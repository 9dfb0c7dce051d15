"""A job's own estimated_kwh and co2_kg on the page (issue 12): where a grid session used the figure the job
gave, the history table and the Explainable AI tab mark it "given" beside the number, as the API's
energy_source / co2_source say; a figure the decision did not use is shown beside the model's, with why.
Every expectation is read from the API's answer for the same jobs."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import Dashboard

BASE = {"priority": "performance", "cpu": 40, "memory": 30, "duration_min": 60, "urgency": "critical"}  # critical: runs now
GIVEN = [{}, {"estimated_kwh": 0.25}, {"co2_kg": 0.04}, {"estimated_kwh": 0.25, "co2_kg": 0.105}]
JOBS = [{**BASE, **g} for g in GIVEN]
CELLS = """(trs) => trs.map((tr) => Array.from(tr.cells).slice(5, 7).map((td) => {
    const mark = td.querySelector('.given-mark');
    return [td.firstChild.textContent, mark ? mark.textContent : null];
}))"""
FACTS = "(divs) => Object.fromEntries(divs.map((d) => [d.querySelector('dt').textContent, d.querySelector('dd').textContent]))"


def open_session(dashboard: Dashboard, scenario: str) -> list[dict[str, Any]]:
    """The page on a new session of `scenario` holding JOBS; their full decisions, from the API."""
    board, page = dashboard.open(), dashboard.page
    sid = httpx.get(f"{board.base}/session?scenario={scenario}&seed=3", trust_env=False, timeout=30).json()["session_id"]
    page.evaluate("(sid) => localStorage.setItem('taskpilot.session', sid)", sid)
    board.seed(JOBS)
    return [board.api("GET", f"/jobs/{k}").json() for k in range(1, len(JOBS) + 1)]


def amount(dashboard: Dashboard, value: float) -> str:
    """The page's own number format (format.js), so the test compares figures, not formatting."""
    return dashboard.page.evaluate("async (v) => (await import('/static/js/format.js')).amount(v)", value)


def show_job(dashboard: Dashboard, job_id: int) -> dict[str, str]:
    page = dashboard.page
    page.fill("#xai-job", str(job_id))
    page.click("#xai-form button[type=submit]")
    page.wait_for_function(f"() => document.getElementById('xai-title').textContent.startsWith('Job {job_id}:')")
    return page.eval_on_selector_all("#xai-facts > div", FACTS)


def test_a_grid_session_marks_the_figures_a_job_gave(dashboard: Dashboard) -> None:
    jobs = open_session(dashboard, "grid")
    sources = [(j["energy_source"], j["co2_source"]) for j in jobs]
    assert sources == [("model", "model"), ("given", "model"), ("model", "given"), ("given", "model")]
    dashboard.tab("history")
    page = dashboard.page
    page.wait_for_function(f"() => document.querySelectorAll('#history-body tr').length === {len(JOBS)}")
    mark = {"given": "given", "model": None}
    expected = [
        [[amount(dashboard, j["power_kwh"]), mark[j["energy_source"]]], [amount(dashboard, j["co2"]), mark[j["co2_source"]]]] for j in jobs
    ]
    assert page.eval_on_selector_all("#history-body tr", CELLS) == expected

    kwh, co2_kg, both_kg = (amount(dashboard, v) for v in (0.25, 0.04, 0.105))
    dashboard.tab("xai")
    plain, energy, co2, both = (show_job(dashboard, j["job_id"]) for j in jobs)
    assert plain["Energy"] == f"{amount(dashboard, jobs[0]['power_kwh'])} kWh" and plain["CO₂"] == f"{amount(dashboard, jobs[0]['co2'])} kg"
    assert energy["Energy"] == f"{kwh} kWh given" and not energy["CO₂"].endswith("given")
    # co2_kg alone is the job's CO2 whenever it runs: had it run now too.
    assert co2["CO₂"] == co2["CO₂ had it run now"] == f"{co2_kg} kg given" and not co2["Energy"].endswith("given")
    # Beside its estimated_kwh, a job's co2_kg is answered, not used: the page says so and why.
    assert both["Energy"] == f"{kwh} kWh given" and not both["CO₂"].endswith("given")
    assert both["CO₂ the job gave"] == f"{both_kg} kg (not used: its CO₂ is the given energy × the intensity where and when it runs)"
    assert all("the job gave" not in key for facts in (plain, energy, co2) for key in facts)
    title = page.get_attribute("#xai-facts .given-mark", "title")
    assert title == "The job's own estimated_kwh, used in place of the model's energy"


def test_a_reference_session_shows_the_given_figures_beside_the_seeds(dashboard: Dashboard) -> None:
    jobs = open_session(dashboard, "reference")
    assert all((j["energy_source"], j["co2_source"]) == ("model", "model") for j in jobs)
    dashboard.tab("history")
    page = dashboard.page
    page.wait_for_function(f"() => document.querySelectorAll('#history-body tr').length === {len(JOBS)}")
    assert page.query_selector_all("#history-body .given-mark") == []

    dashboard.tab("xai")
    facts = show_job(dashboard, 4)
    why = "not used: a reference session keeps the seed's figures"
    kwh, kg = amount(dashboard, 0.25), amount(dashboard, 0.105)
    assert facts["Energy the job gave"] == f"{kwh} kWh ({why})" and facts["CO₂ the job gave"] == f"{kg} kg ({why})"
    assert facts["Energy"] == f"{amount(dashboard, jobs[3]['power_kwh'])} kWh"
    assert "Energy the job gave" not in show_job(dashboard, 1)
