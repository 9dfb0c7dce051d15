"""The studies' report.html files in Chromium: the placement evaluation's and the deferral study's, written by
the CLI, open offline, draw their charts, and their tables fit a 1280 px window with figures a person reads
(no 7.84e-3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from scheduler.cli import evaluate

WIDTH = 1280
FITS = """() => ({
    page: document.documentElement.scrollWidth,
    window: window.innerWidth,
    tables: Array.from(document.querySelectorAll('table'), (t) => Math.ceil(t.getBoundingClientRect().right)),
    scientific: Array.from(document.querySelectorAll('td'), (td) => td.textContent).filter((t) => /\\de[-+]?\\d/.test(t)),
})"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both studies' outputs, from the command line as a user runs it (enough jobs for four- and five-digit figures)."""
    out = tmp_path_factory.mktemp("reports")
    placement = ["--workload", "task", "--scenario", "grid", "--policies", "all", "--jobs", "6000", "--seed", "1"]
    assert evaluate.main([*placement, "--out", str(out / "placement")]) == 0
    deferral = ["--study", "deferral", "--jobs", "600", "--seed", "1", "--seeds", "3", "--forecasts", "perfect,noisy,persistence"]
    assert evaluate.main([*deferral, "--out", str(out / "deferral")]) == 0
    return {"placement": out / "placement", "deferral": out / "deferral"}


def open_report(browser: Any, folder: Path) -> Any:
    """The report in a 1280 x 800 window, every request but the file itself refused and recorded."""
    page = browser.new_page(viewport={"width": WIDTH, "height": 800})
    elsewhere: list[str] = []

    def refuse(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", refuse)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((folder / "report.html").as_uri())
    page.wait_for_selector("table")
    assert errors == [] and elsewhere == []
    return page


@pytest.mark.parametrize("study", ["placement", "deferral"])
def test_the_report_fits_1280_px_and_writes_plain_figures(browser: Any, reports: dict[str, Path], study: str) -> None:
    page = open_report(browser, reports[study])
    try:
        fit = page.evaluate(FITS)
        assert fit["page"] <= fit["window"] == WIDTH, f"the page scrolls sideways: {fit['page']} px wide"
        assert max(fit["tables"]) <= WIDTH, f"a table runs past the window: right edges {fit['tables']}"
        assert fit["scientific"] == []
    finally:
        page.close()


def test_the_deferral_report_shows_every_region_and_strategy(browser: Any, reports: dict[str, Path]) -> None:
    document = orjson.loads((reports["deferral"] / "results.json").read_bytes())
    page = open_report(browser, reports["deferral"])
    try:
        rows = page.eval_on_selector_all(
            "#table tr", "(trs) => trs.slice(1).map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent])"
        )
        assert rows == [[r["region"], r["strategy"]] for r in document["table"]]
        chart = page.evaluate(
            "() => { const c = Chart.getChart('saved'); "
            "return { labels: c.data.labels, sets: c.data.datasets.map((d) => [d.label, d.data]) }; }"
        )
        assert chart["labels"] == list(document["regions"])
        for strategy, values in chart["sets"]:
            assert strategy != "run_now"
            assert values == [
                next(r["saved_pct"] for r in document["table"] if r["region"] == g and r["strategy"] == strategy) for g in chart["labels"]
            ]
        notes = page.eval_on_selector_all("#notes li", "(lis) => lis.map((li) => li.textContent)")
        assert all(n in notes for n in document["notes"])
    finally:
        page.close()


def test_the_placement_report_shows_the_constrained_reference(browser: Any, reports: dict[str, Path]) -> None:
    """The reference's line (target, figure, source, the relaxation's bound) and one gap row per policy, from results.json."""
    reference = orjson.loads((reports["placement"] / "results.json").read_bytes())["reference"]
    page = open_report(browser, reports["placement"])
    try:
        text = page.text_content("#reference") or ""
        assert "not a proven bound" in text and "Lower bound at that completion" in text
        assert reference["source"] in text or "hindsight search" in text
        rows = page.eval_on_selector_all(
            "#gaps tr", "(trs) => trs.slice(1).map((tr) => [tr.cells[0].textContent, tr.cells[3].textContent])"
        )
        assert rows == [[g["policy"], "yes" if g["meets_completion"] else "no (slower)"] for g in reference["gaps"]]
    finally:
        page.close()
