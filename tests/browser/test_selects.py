"""No clipped choice: every option of every select the page shows fits the select's box, on a desktop, a
tablet and a phone, in reference and grid sessions, for both studies of the Compare tab."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import Dashboard

ARROW_PX = 20
"""Room Chromium's drop-down arrow takes at a select's right edge (its native appearance), besides the padding."""
CLIPPED = """(arrow) => {
    const ctx = document.createElement('canvas').getContext('2d');
    const out = [];
    for (const s of document.querySelectorAll('select')) {
        if (!s.getClientRects().length) continue;  // not shown
        const cs = getComputedStyle(s);
        ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - arrow;
        for (const o of s.options) {
            const width = ctx.measureText(o.text).width;
            if (width > room) out.push(`#${s.id} "${o.text}": ${Math.ceil(width)} px in ${Math.floor(room)}`);
        }
    }
    return out;
}"""


def clipped(page: Any) -> list[str]:
    return page.evaluate(CLIPPED, ARROW_PX)


def every_view(board: Dashboard) -> list[str]:
    """The clipped options of every tab, the New job panel and the deferral study's form."""
    page, found = board.page, []
    for tab in page.eval_on_selector_all("[id^=tabbtn-]", "(buttons) => buttons.map((b) => b.id.slice('tabbtn-'.length))"):
        board.tab(tab)
        found += clipped(page)
    if page.is_hidden("#add-panel"):
        page.click("#btn-new-job")
    page.wait_for_selector("#add-panel", state="visible")
    found += clipped(page)
    board.tab("compare")
    page.select_option("#sim-study", "deferral")
    page.wait_for_selector("#defer-workload", state="visible")
    found += clipped(page)
    page.select_option("#sim-study", "placement")
    page.wait_for_selector("#sim-workload", state="visible")
    return found


@pytest.mark.parametrize(
    "width, scenario",
    [(1280, "reference"), (1024, "grid"), (768, "reference"), (390, "grid")],
    ids=["desktop", "laptop-grid", "tablet", "phone-grid"],
)  # a grid session adds the New job panel's when-to-run selects
def test_no_select_clips_an_option(dashboard: Dashboard, width: int, scenario: str) -> None:
    dashboard.page.set_viewport_size({"width": width, "height": 900})
    dashboard.open()
    if scenario == "grid":
        sid = httpx.get(f"{dashboard.base}/session?scenario=grid", trust_env=False, timeout=30).json()["session_id"]
        dashboard.page.evaluate("(sid) => localStorage.setItem('taskpilot.session', sid)", sid)
        dashboard.reload()
    assert every_view(dashboard) == []
