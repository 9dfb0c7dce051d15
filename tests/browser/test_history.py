"""The Jobs / History tab of a grid session: every job's finish time, a missed deadline marked in words (and
a filter for those jobs), and dates that carry their year, there and on the carbon chart's axis. Every time
shown is compared with the API's."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx

from .conftest import Dashboard

JOBS = [
    # Green servers are slower than the 16-core reference machine duration_min is measured on: a deadline one
    # minute past duration_min is accepted at submission and missed wherever the job runs.
    {"priority": "green", "cpu": 40, "memory": 20, "duration_min": 60, "deadline": 61, "urgency": "critical"},
    {"priority": "performance", "cpu": 40, "memory": 20, "duration_min": 60, "deadline": 900, "urgency": "critical"},
    {"priority": "balanced", "cpu": 10, "memory": 10, "duration_min": 30},
    {"priority": "green", "cpu": 80, "memory": 50, "duration_min": 120, "deadline": 125, "urgency": "critical"},
]
TIMES = "(trs) => trs.map((tr) => Array.from(tr.querySelectorAll('time'), (t) => [t.dateTime, t.textContent]))"
MARKS = (
    "(trs) => trs.map((tr) => { const m = tr.querySelector('.late-mark'); return [tr.cells[0].textContent, m ? m.textContent : null]; })"
)


def minutes_text(m: float) -> str:
    """format.js's minutesText, for the expected marker."""
    total = round(m)
    days, hours, minutes = total // 1440, total % 1440 // 60, total % 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def late_minutes(job: dict[str, Any]) -> float | None:
    if job["deadline_at"] is None:
        return None
    finish, deadline = (datetime.fromisoformat(job[k]) for k in ("finish_at", "deadline_at"))
    return (finish - deadline).total_seconds() / 60


def test_history_shows_finish_times_and_marks_missed_deadlines(dashboard: Dashboard) -> None:
    board, page = dashboard.open(), dashboard.page
    sid = httpx.get(f"{board.base}/session?scenario=grid&seed=3", trust_env=False, timeout=30).json()["session_id"]
    page.evaluate("(sid) => localStorage.setItem('taskpilot.session', sid)", sid)
    board.seed(JOBS)  # scheduled through the API, then the page reloads from GET /history
    history = board.api("GET", "/history").json()["jobs"]
    late = {str(j["job_id"]): late_minutes(j) for j in history if (late_minutes(j) or 0) > 0}
    on_time = [j for j in history if j["deadline_at"] and str(j["job_id"]) not in late]
    assert late and on_time, "the jobs above should give both a missed and a met deadline"

    board.tab("history")
    page.wait_for_function(f"() => document.querySelectorAll('#history-body tr').length === {len(JOBS)}")
    head = page.eval_on_selector_all("#history-table thead th", "(ths) => ths.filter((th) => !th.hidden).map((th) => th.textContent)")
    assert head[11:14] == ["Start UTC", "Finish UTC", "Deadline UTC"]
    for job, times in zip(history, page.eval_on_selector_all("#history-body tr", TIMES)):
        expected = [job["start_at"], job["finish_at"], *([job["deadline_at"]] if job["deadline_at"] else [])]
        assert [t[0] for t in times] == expected
        # The year is there: "2023-01-01 00:15", the API's time read as the page writes it.
        assert [t[1] for t in times] == [re.sub(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)Z$", r"\1 \2", e) for e in expected]
    marks = dict(page.eval_on_selector_all("#history-body tr", MARKS))
    assert marks == {
        str(j["job_id"]): (f"missed by {minutes_text(late[str(j['job_id'])])}" if str(j["job_id"]) in late else None) for j in history
    }

    page.select_option("#history-filter", "late")
    page.wait_for_function(f"() => document.querySelectorAll('#history-body tr').length === {len(late)}")
    assert sorted(dict(page.eval_on_selector_all("#history-body tr", MARKS))) == sorted(late)
    assert board.text("#history-count").startswith(f"{len(late)} of {len(JOBS)} jobs that missed their deadline")
    # Sorted by finish, the latest first.
    page.select_option("#history-filter", "all")
    page.click("th[data-sort=finish_at] button")
    page.click("th[data-sort=finish_at] button")
    finishes = page.eval_on_selector_all("#history-body tr", "(trs) => trs.map((tr) => tr.cells[12].querySelector('time').dateTime)")
    assert finishes == sorted((j["finish_at"] for j in history), reverse=True)

    # The carbon chart's dates carry their year too (the clock wraps from 2023 to 2021).
    board.tab("overview")
    page.wait_for_function(
        "() => { const c = Chart.getChart('chart-carbon-overview'); return c && c.$clock && c.scales.x.ticks.length > 0; }"
    )
    ticks = page.evaluate("() => Chart.getChart('chart-carbon-overview').scales.x.ticks.map((t) => [].concat(t.label).at(-1))")
    assert ticks and all(re.fullmatch(r"\d{4}-\d\d-\d\d", t) for t in ticks), ticks
