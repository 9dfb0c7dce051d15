"""Browser tests: Playwright for Python driving the system's Chromium against a uvicorn the tests start.

One Chromium per test session, one server per module (a module may set SERVER_ENV), one fresh browser
context (fresh localStorage) per test. Every page is watched: a console error, an uncaught exception or
a request to any host but the test server fails the test, and requests elsewhere are blocked, so the
page is tested as it works offline.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import ROOT, uvicorn_server  # noqa: F401 -- ROOT is re-exported to the test modules

playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt (make test installs it)")
PlaywrightTimeout = playwright_sync.TimeoutError

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000
"""Every wait for a condition gives up after this: reached only when the page hangs, never a measure of speed."""
SESSION_KEY = "taskpilot.session"
TIERS = ("green", "balanced", "performance")
LATENCIES = ("low", "medium", "high")


def chromium_path() -> str | None:
    """Debian's Chromium (never a Playwright download: `playwright install` is not used here)."""
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        message = "Chromium is not installed (.ci/run installs it with apt: chromium chromium-driver)"
        if os.environ.get("REQUIRE_BROWSER"):  # set by .ci/run
            pytest.fail(message)
        pytest.skip(message)
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    """One server per test module; the module's SERVER_ENV (TASKPILOT_* strings) adjusts its settings."""
    with uvicorn_server(**getattr(request.module, "SERVER_ENV", {})) as base:
        yield base


WATCH_NETWORK = """(() => {
    // Every fetch the page starts, and how many of them (with the reading of their bodies) the page has
    // not finished handling: settle() waits for that count instead of waiting for a while. A count drops
    // in a task after the answer arrived, so the page's own continuations of that answer have run by then.
    // The real setTimeout is kept: a test may install Playwright's fake clock later.
    const net = { started: [], open: 0 };
    window.__net = net;
    const realFetch = window.fetch.bind(window);
    const realSetTimeout = window.setTimeout.bind(window);
    const done = () => realSetTimeout(() => { net.open -= 1; }, 0);
    const track = (promise) => {
        net.open += 1;
        promise.then(done, done);
        return promise;
    };
    window.fetch = (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input), location.href);
        const method = (init && init.method) || (input instanceof Request ? input.method : 'GET');
        net.started.push(`${method} ${url.pathname}${url.search}`);
        return track(realFetch(input, init)).then((response) => {
            for (const name of ['json', 'text', 'blob', 'arrayBuffer', 'formData']) {
                const read = response[name].bind(response);
                response[name] = () => track(read());
            }
            return response;
        });
    };
})();"""
"""Init script: window.__net.started lists the page's requests ("POST /run?detail=compact"); window.__net.open
counts those whose answers the page has not finished handling (a request a test holds stays open)."""

MARKUP = "img, svg, script, iframe, object, embed"
WATCH_MARKUP = f"""(() => {{
    // Every element that could run script, inserted outside <head> at any time (even if removed again):
    // hostile text turned into markup is caught when it is inserted, not after waiting for an onerror.
    window.__inserted = [];
    new MutationObserver((records) => {{
        for (const record of records) {{
            for (const node of record.addedNodes) {{
                if (!(node instanceof Element)) continue;
                const head = document.head;  // where the page's own scripts are
                const found = [node, ...node.querySelectorAll('{MARKUP}')]
                    .filter((e) => e.matches('{MARKUP}') && !(head && head.contains(e)));
                window.__inserted.push(...found.map((e) => e.outerHTML.slice(0, 200)));
            }}
        }}
    }}).observe(document, {{ childList: true, subtree: true }});
}})();"""


class Dashboard:
    """A page of the dashboard plus what the tests need around it: the watch on console and network,
    chart data, and API calls in the page's own session."""

    def __init__(self, page: Any, base: str):
        self.page = page
        self.base = base
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.foreign_requests: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("request", self._on_request)
        # Content-Security-Policy violations are reported to the page (an init script is exempt from CSP).
        page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => "
            "window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));"
        )
        page.add_init_script(WATCH_NETWORK)
        page.add_init_script(WATCH_MARKUP)

    def _on_console(self, message: Any) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self.allowed):
            self.console_errors.append(message.text)

    def _on_request(self, request: Any) -> None:
        url = request.url
        if not url.startswith((self.base + "/", "data:", "blob:")):
            self.foreign_requests.append(url)

    def allow_http_errors(self, *statuses: int) -> None:
        """Chromium logs every 4xx/5xx fetch as a console error; a test that provokes one allows it."""
        for status in statuses:
            self.allowed.append(re.compile(rf"status of {status}\b"))

    # --- navigation ---------------------------------------------------------------------------

    def open(self) -> Dashboard:
        response = self.page.goto(self.base + "/")
        assert response is not None and response.status == 200
        self.page.wait_for_selector("body[data-ready='true']")
        self.response = response
        return self

    def reload(self) -> None:
        self.page.reload()
        self.page.wait_for_selector("body[data-ready='true']")

    def tab(self, name: str) -> None:
        self.page.click(f"#tabbtn-{name}")
        assert self.page.get_attribute(f"#tabbtn-{name}", "aria-selected") == "true"
        self.page.wait_for_selector(f"#tab-{name}", state="visible")

    def text(self, selector: str) -> str:
        return self.page.text_content(selector) or ""

    @property
    def session_id(self) -> str:
        return self.page.evaluate(f"() => localStorage.getItem('{SESSION_KEY}')")

    # --- actions ------------------------------------------------------------------------------

    def choose_file(self, name: str, content: bytes) -> None:
        self.page.set_input_files("#csv-file", {"name": name, "mimeType": "text/csv", "buffer": content})

    def upload(self, name: str, content: bytes) -> None:
        """Choose the file and press Upload; waits until the page has the server's answer."""
        if self.page.is_hidden("#add-panel"):
            self.page.click("#btn-new-job")
        self.choose_file(name, content)
        self.page.click("#csv-form button[type=submit]")
        self.page.wait_for_function("() => !document.getElementById('csv-status').textContent.startsWith('Uploading')")

    def run(self) -> dict[str, Any]:
        """Press Run scheduler and wait until the page reports the run drawn and the overlay closed."""
        runs = int(self.page.get_attribute("body", "data-runs") or 0)
        self.page.click("#btn-run")
        self.page.wait_for_function(f"() => Number(document.body.dataset.runs || 0) > {runs} || document.body.dataset.runState === 'error'")
        self.page.wait_for_selector("#overlay", state="hidden")
        return self.page.evaluate("() => window.taskpilotTiming")

    def reset(self) -> None:
        self.page.click("#btn-reset")
        self.page.click("#btn-reset")
        self.page.wait_for_function("() => document.getElementById('notice-title').textContent.includes('reset')")

    def chart(self, canvas_id: str) -> dict[str, Any]:
        """The data a chart holds now: labels and each dataset's values (x/y points as y values)."""
        return self.page.evaluate(
            """(id) => {
                const chart = Chart.getChart(id);
                if (!chart) return null;
                return {
                    labels: chart.data.labels,
                    datasets: chart.data.datasets.map((d) => ({
                        label: d.label ?? null,
                        data: d.data.map((v) => (v !== null && typeof v === 'object' ? v.y : v)),
                        x: d.data.map((v) => (v !== null && typeof v === 'object' ? v.x : null)),
                    })),
                };
            }""",
            canvas_id,
        )

    # --- the page's session, seen from the API --------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), "X-Session-ID": self.session_id}
        return httpx.request(method, self.base + path, headers=headers, trust_env=False, timeout=30, **kwargs)

    def summary(self) -> dict[str, Any]:
        response = self.api("GET", "/summary")
        assert response.status_code == 200, response.text
        return response.json()

    def seed(self, jobs: list[dict[str, Any]]) -> None:
        """Schedule `jobs` in the page's session through the API, then reload the page."""
        assert self.api("POST", "/run?detail=compact", json=jobs).status_code == 200
        self.reload()

    def assert_clean(self) -> None:
        assert self.page.evaluate("() => window.__csp") == [], "Content-Security-Policy violations"
        assert self.page_errors == [], self.page_errors
        assert self.console_errors == [], self.console_errors
        assert self.foreign_requests == [], self.foreign_requests


@pytest.fixture
def dashboard(browser: Any, server: str) -> Iterator[Dashboard]:
    """A fresh context and page on the module's server; at the end the page must have stayed clean."""
    yield from _board(browser, server)


@pytest.fixture
def unguarded(browser: Any, server: str) -> Iterator[Dashboard]:
    """A page with the Content-Security-Policy switched off, so only the page's own care (textContent,
    never innerHTML) stands between hostile text and script execution."""
    yield from _board(browser, server, bypass_csp=True)


def _board(browser: Any, server: str, **options: Any) -> Iterator[Dashboard]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    # Offline by construction: anything not for the test server is aborted (and reported by the watch).
    context.route(lambda url: not url.startswith(server + "/"), lambda route: route.abort())
    board = Dashboard(context.new_page(), server)
    try:
        yield board
        board.assert_clean()
    finally:
        context.close()


def hold(page: Any, url: str | re.Pattern[str]) -> list[Any]:
    """Requests to `url` wait in the returned list until the test continues (or fulfils) them."""
    held: list[Any] = []
    page.route(url, lambda route: held.append(route))
    return held


def wait_until(page: Any, condition: Any, timeout_ms: int = TIMEOUT_MS) -> None:
    """Let the page run (and route handlers fire) until `condition()` holds; the deadline only turns a hang
    into a failure (the short waits are how the sync API lets route handlers run, not a guess at speed)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_ms} ms waiting for {condition}")
        page.wait_for_timeout(20)


def settle(page: Any, held: int = 0) -> None:
    """Wait until the page has handled the answer of every request it started, except the `held` ones a
    test is holding: then an answer that, if the page is right, changes nothing visible has been handled
    (see WATCH_NETWORK), however long that took."""
    page.wait_for_function(f"() => window.__net.open === {held}")


def requests_started(page: Any) -> list[str]:
    """The page's requests so far, as "METHOD /path?query"."""
    return page.evaluate("() => window.__net.started.slice()")


OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
WIDEST = """() => {
    const width = document.documentElement.clientWidth;
    return [...document.body.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > width + 0.5)
        .slice(-5).map((e) => `${e.tagName.toLowerCase()}#${e.id} ${Math.round(e.getBoundingClientRect().right)} px`);
}"""


def assert_fits(page: Any, what: str) -> None:
    """The page does not scroll sideways, once its layout has caught up with the viewport: charts resize on
    a later frame than the one that changed their box, so the condition is waited for, not sampled."""
    try:
        page.wait_for_function(f"() => ({OVERFLOW})() <= 0")
    except PlaywrightTimeout:
        raise AssertionError(f"{what} scrolls sideways by {page.evaluate(OVERFLOW)} px; too wide: {page.evaluate(WIDEST)}") from None


def assert_canvases_fit(page: Any, selector: str, width: int) -> list[float]:
    """The visible canvases under `selector` are drawn (wider than 0) and end inside `width`, once the
    charts have resized; returns their right edges."""
    visible = f"[...document.querySelectorAll('{selector}')].filter((c) => c.offsetParent)"
    rights = f"() => {visible}.map((c) => c.getBoundingClientRect().right)"
    try:
        page.wait_for_function(f"() => ({rights})().every((r) => r > 0 && r <= {width})")
    except PlaywrightTimeout:
        raise AssertionError(f"canvases under {selector} do not fit {width} px: {page.evaluate(rights)}") from None
    return page.evaluate(rights)


WHITE = (255, 255, 255)


def rgb(color: str) -> tuple[int, int, int]:
    """'#rrggbb' or 'rgb(r, g, b)' / 'rgba(r, g, b, 1)' as a tuple."""
    if color.startswith("#"):
        return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))
    numbers = re.findall(r"[\d.]+", color)
    assert len(numbers) == 3 or float(numbers[3]) == 1, f"{color} is translucent"
    return (int(numbers[0]), int(numbers[1]), int(numbers[2]))


def contrast(a: tuple[int, int, int], b: tuple[int, int, int] = WHITE) -> float:
    """The WCAG 2 contrast ratio of two colours, 1 to 21."""

    def luminance(c: tuple[int, int, int]) -> float:
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in (x / 255 for x in c)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def assert_amount(text: str, value: float) -> None:
    """`text` shows `value` as the page's amount() does: three significant digits below 1,000 (so a grid
    session's grams of CO2 never round to 0.00), whole units above."""
    plain = text.replace(",", "")
    assert re.fullmatch(r"-?\d+(\.\d+)?", plain), text
    significant = plain.lstrip("-").replace(".", "").lstrip("0")
    if abs(value) < 1000:
        assert len(significant) <= 3, f"{text} has more than 3 significant digits"
        assert float(plain) == pytest.approx(value, rel=5.1e-3, abs=1e-12), (text, value)
    else:
        assert "." not in plain and abs(float(plain) - value) <= 0.5, (text, value)


HOSTILE_FIELD = '<img src=x onerror="window.__pwned=3">'
# Markup that hostile text would have made, in the body now or inserted at any time since the page loaded
# (WATCH_MARKUP): the page itself has none of these in <body>. With none ever inserted no handler can have
# run, so nothing needs to wait for one.
INJECTED = (
    f"() => ({{pwned: window.__pwned ?? null, markup: document.body.querySelectorAll('{MARKUP}').length + window.__inserted.length}})"
)


def jobs_csv(jobs: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["priority", "latency", "cpu", "memory"])
    for job in jobs:
        writer.writerow([job["priority"], job.get("latency", ""), job["cpu"], job["memory"]])
    return buf.getvalue().encode()


def mixed_jobs(n: int) -> list[dict[str, Any]]:
    """n deterministic, valid jobs over every priority and latency."""
    return [
        {"priority": TIERS[i % 3], "latency": LATENCIES[(i * 7) % 3], "cpu": (i * 37) % 101, "memory": (i * 53 + 11) % 101}
        for i in range(n)
    ]
