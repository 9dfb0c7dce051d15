"""Browser-side: another site's page cannot act through a visitor's browser, and every answer says how it
may be sniffed and cached.

A "simple" cross-origin request (a form post, or a fetch of text/plain, or of a Blob with no type) reaches
the server without the browser asking first; it can carry no custom header, so no X-Session-ID. Each one is
refused before any route runs, and nothing changes: no session is made, no simulation started. The page's
own requests (JSON, or a multipart upload beside X-Session-ID) and the reference clients' go through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.web.conftest import SESSION_HEADER, job, mixed_jobs, serve
from tests.web.gates import CLIENT_TIMEOUT_S, threaded_server

WRITES = ["/run", "/run?detail=compact", "/submit", "/submit_batch", "/reset", "/explain", "/plan", "/simulate", "/upload",
          "/workflows", "/workflows/w-1/cancel", "/jobs/1/retry"]  # fmt: skip
"""Every state-changing operation of the API (tests/web/test_openapi lists them from the document)."""
JOB_JSON = b'[{"priority": "green", "cpu": 1, "memory": 1}]'
SIMPLE_POSTS = {
    "text/plain": {"content": JOB_JSON, "headers": {"content-type": "text/plain;charset=UTF-8"}},
    "urlencoded form": {"data": {"priority": "green", "cpu": "1", "memory": "1"}},
    "multipart form": {"files": {"file": ("jobs.csv", b"priority,cpu,memory\ngreen,1,1\n", "text/csv")}},
    "untyped body": {"content": JOB_JSON},  # fetch(url, {method: 'POST', body: new Blob([...])})
}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Any]]:
    with threaded_server() as running:
        yield running


def test_every_write_is_listed(server: tuple[str, Any]) -> None:
    base, _ = server
    doc = httpx.get(base + "/openapi.json", trust_env=False).json()
    documented = {re.sub(r"\{[^}]+\}", "x", path) for path, ops in doc["paths"].items() if set(ops) & {"post", "put", "patch", "delete"}}
    listed = {re.sub(r"/(w-1|1)(?=/)", "/x", w.split("?")[0]) for w in WRITES} | {"/simulate/x"}  # DELETE: never simple
    assert documented == listed


@pytest.mark.parametrize("kind", list(SIMPLE_POSTS))
@pytest.mark.parametrize("path", WRITES)
def test_a_cross_site_simple_post_is_refused_and_changes_nothing(server: tuple[str, Any], path: str, kind: str) -> None:
    base, app = server
    sessions, runs = len(app.state.sessions), len(app.state.simulations._runs)
    with httpx.Client(base_url=base, trust_env=False, timeout=CLIENT_TIMEOUT_S) as browser:
        sent = dict(SIMPLE_POSTS[kind])
        headers = {"Origin": "https://elsewhere.example", **sent.pop("headers", {})}
        response = browser.post(path, headers=headers, **sent)
    expected = 403 if (path, kind) == ("/upload", "multipart form") else 415
    assert response.status_code == expected, response.text[:300]
    text = response.text
    assert ("X-Session-ID" in text) if expected == 403 else ("application/json" in text)
    assert "access-control-allow-origin" not in response.headers
    assert (len(app.state.sessions), len(app.state.simulations._runs)) == (sessions, runs)


def test_the_pages_and_the_reference_clients_requests_go_through(server: tuple[str, Any]) -> None:
    base, _ = server
    sid = {SESSION_HEADER: "page"}
    with httpx.Client(base_url=base, trust_env=False, timeout=CLIENT_TIMEOUT_S) as page:
        assert page.post("/submit", json=job(), headers=sid).status_code == 200
        assert (
            page.post("/upload", files={"file": ("a.csv", b"priority,cpu,memory\ngreen,1,1\n", "text/csv")}, headers=sid).status_code == 200
        )
        assert page.post("/run?detail=compact", headers=sid).status_code == 200  # no body, no type: `curl -X POST`
        reference = {**sid, "Content-Type": "application/json"}  # the reference dashboard's /reset: JSON type, no body
        assert page.post("/reset", headers=reference).status_code == 200
        typed = {**sid, "Content-Type": "application/json; charset=utf-8"}
        assert page.post("/run", content=b"[]", headers=typed).status_code == 200


def test_cors_is_off_unless_configured() -> None:
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-session-id",
    }
    with serve() as closed:
        assert "access-control-allow-origin" not in closed.options("/run", headers=preflight).headers
        assert "access-control-allow-origin" not in closed.get("/info", headers={"Origin": "https://app.example"}).headers
    with serve(cors_origins="https://app.example") as open_to_one:
        allowed = open_to_one.options("/run", headers=preflight)
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-session-id" in allowed.headers["access-control-allow-headers"].lower()
        read = open_to_one.post("/run", json=mixed_jobs(1), headers={"Origin": "https://app.example"})
        assert read.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-session-id" in read.headers["access-control-expose-headers"].lower()  # the page may read its session
        other = open_to_one.options("/run", headers={**preflight, "Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers


def test_every_answer_is_nosniff_and_api_answers_are_not_stored(server: tuple[str, Any]) -> None:
    base, _ = server
    with httpx.Client(base_url=base, trust_env=False, timeout=CLIENT_TIMEOUT_S) as client:
        sid = {SESSION_HEADER: "x"}
        api = [client.get("/info"), client.get("/summary", headers=sid), client.get("/jobs/99", headers=sid),
               client.get("/history?limit=0"), client.post("/run", content=b"x", headers={"content-type": "text/plain"}),
               client.get("/nowhere"), client.post("/run", json=[{"cpu": "lots"}]), client.get("/openapi.json")]  # fmt: skip
        pages = [client.get("/"), client.get("/docs"), client.get("/redoc"), client.get("/static/app.css"), client.get("/js/states.js")]
    assert [r.status_code for r in api] == [200, 200, 404, 422, 415, 404, 422, 200]
    for response in api + pages:
        assert response.headers["x-content-type-options"] == "nosniff", response.url
    for response in api:
        assert response.headers["cache-control"] == "no-store", response.url
    for response in pages:
        assert response.headers["cache-control"] == "no-cache", response.url


def test_the_pages_files_are_versioned_and_kept_for_a_year(server: tuple[str, Any]) -> None:
    base, _ = server
    with httpx.Client(base_url=base, trust_env=False, timeout=CLIENT_TIMEOUT_S) as client:
        for page in ("/", "/docs", "/redoc"):
            html = client.get(page).text
            urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
            assert urls and all(re.fullmatch(r"/static/v/[0-9a-f]{16}/.+", u) for u in urls), (page, urls)
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200 and response.headers["cache-control"] == "public, max-age=31536000, immutable", url
                unversioned = client.get(re.sub(r"^/static/v/[0-9a-f]{16}/", "/static/", url))
                assert unversioned.content == response.content and unversioned.headers["cache-control"] == "no-cache"
        # A page of an older deploy still gets its files, but not for keeps: they may have changed since.
        stale = client.get("/static/v/0000000000000000/js/main.js")
        assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
        assert client.get("/static/v/0000000000000000/js/nothing.js").status_code == 404
