"""What the page offers a keyboard, a screen reader and weaker eyes: one page heading, notices in live
regions that are always there, visible focus, and colours with enough contrast (WCAG 1.4.11: 3:1 for
what marks data or a control's edge)."""

from __future__ import annotations

from .conftest import TIERS, Dashboard, contrast, mixed_jobs, rgb


def test_one_page_heading(dashboard: Dashboard) -> None:
    dashboard.open()
    assert dashboard.page.eval_on_selector_all("h1", "(hs) => hs.map((h) => h.textContent)") == ["TaskPilot"]


def test_notices_use_two_live_regions_that_are_always_there(dashboard: Dashboard) -> None:
    dashboard.open()
    page = dashboard.page
    regions = (
        "() => [['notice-alert', 'alert'], ['notice-status', 'status']].map(([id, role]) => "
        "{ const r = document.getElementById(id); return [r.getAttribute('role') === role, r.checkVisibility(), r.textContent]; })"
    )
    assert page.evaluate(regions) == [[True, True, ""], [True, True, ""]]  # rendered, empty, before any notice
    assert page.is_hidden("#notice")
    page.click("#btn-run")  # nothing queued: an error
    assert page.evaluate(regions)[0][2].startswith("Nothing to run") and page.evaluate(regions)[1][2] == ""
    page.click("#notice-close")
    assert page.evaluate(regions) == [[True, True, ""], [True, True, ""]] and page.is_hidden("#notice")
    assert page.evaluate("() => document.activeElement.id") == "main"  # the focus was on Dismiss, which went away
    dashboard.seed(mixed_jobs(2))
    dashboard.reset()  # information
    state = page.evaluate(regions)
    assert state[0][2] == "" and state[1][2].startswith("The session was reset")


def test_focus_rings_show_on_the_dark_bar_and_inside_the_tab_list(dashboard: Dashboard) -> None:
    dashboard.open()
    page = dashboard.page
    page.focus("#btn-run")
    page.keyboard.press("Shift+Tab")  # keyboard focus, so :focus-visible applies
    page.keyboard.press("Tab")
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return [document.activeElement.id, s.outlineStyle, s.outlineColor]; }"
    )
    assert ring[:2] == ["btn-run", "solid"]
    assert contrast(rgb(ring[2]), rgb("#12352a")) >= 3, ring
    page.focus("#tabbtn-overview")
    page.keyboard.press("ArrowRight")
    offset = page.evaluate("() => getComputedStyle(document.activeElement).outlineOffset")
    assert offset == "-3px"  # drawn inside the button: the tab list's overflow would clip it outside


def test_input_edges_and_chart_colours_have_contrast(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(30))
    page = dashboard.page
    borders = page.eval_on_selector_all(
        "input:not([type=checkbox]):not([type=file]), select", "(els) => [...new Set(els.map((e) => getComputedStyle(e).borderTopColor))]"
    )
    assert all(contrast(rgb(c)) >= 3 for c in borders), borders
    dashboard.tab("xai")
    page.wait_for_function("() => Chart.getChart('chart-qvalues').data.labels.length > 0")
    colours = page.evaluate("""() => Object.values(Chart.instances)
        .filter((c) => !['chart-score', 'chart-gauge', 'chart-reward'].includes(c.canvas.id))  // rings: track; reward: the faint raw line
        .flatMap((c) => c.data.datasets.flatMap((d) => [].concat(d.backgroundColor ?? [], d.borderColor ?? [])))
        .filter((x) => typeof x === 'string')""")
    weak = sorted({c for c in colours if contrast(rgb(c)) < 3})
    assert colours and weak == []


def test_servers_chart_names_each_server_and_the_score_ring_takes_the_grades_colour(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(30))
    page = dashboard.page
    info = dashboard.api("GET", "/info").json()
    chart = page.evaluate("""() => { const c = Chart.getChart('chart-servers');
        return { type: c.config.type, labels: c.data.labels, colors: c.data.datasets[0].backgroundColor,
                 legend: c.legend.legendItems.map((i) => [i.text, i.fillStyle]) }; }""")
    assert chart["type"] == "bar" and chart["labels"] == info["server_ids"]  # the axis names every server
    tier_of = {name: tier for tier in TIERS for name in info["tier_pools"][tier]}
    by_tier = {tier: {color for name, color in zip(chart["labels"], chart["colors"]) if tier_of[name] == tier} for tier in TIERS}
    assert all(len(colors) == 1 for colors in by_tier.values())
    assert chart["legend"] == [[f"{tier} pool", next(iter(by_tier[tier]))] for tier in TIERS]
    dashboard.tab("sustainability")
    grade = page.evaluate("() => getComputedStyle(document.getElementById('rating-grade')).color")
    for ring in ("chart-score", "chart-gauge"):
        assert rgb(page.evaluate(f"() => Chart.getChart('{ring}').data.datasets[0].backgroundColor[0]")) == rgb(grade), ring


def test_pager_keeps_the_focus_when_its_button_switches_off(dashboard: Dashboard) -> None:
    dashboard.open()
    dashboard.seed(mixed_jobs(60))
    page = dashboard.page
    dashboard.tab("history")
    page.focus("#page-next")
    page.keyboard.press("Enter")  # to the last page: Next switches off
    assert dashboard.text("#page-info") == "Page 2 of 2"
    assert page.evaluate("() => document.activeElement.id") == "page-prev"
