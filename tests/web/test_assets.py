"""GET /js/states.js, the page's copy of Python's vocabulary."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from scheduler.core import states
from web.routes.assets import VOCABULARY

EXPORT = re.compile(r"^export const (\w+) = Object\.freeze\((\[.*\])\);$", re.M)


def test_states_module_lists_exactly_pythons_tuples(shared_client: TestClient) -> None:
    response = shared_client.get("/js/states.js")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "text/javascript"  # ES modules refuse other types
    exported = {name: json.loads(values) for name, values in EXPORT.findall(response.text)}
    assert exported == {name: list(getattr(states, name)) for name in ("TIERS", "LATENCIES", "URGENCIES", "BANDS", "MODES", "STATUSES")}
    assert set(VOCABULARY) == set(exported)
    code = [line for line in response.text.splitlines() if line and not line.startswith("//")]
    assert len(code) == len(VOCABULARY), "the module holds the frozen arrays and nothing else"


def test_states_module_is_cached_as_the_static_files_are(shared_client: TestClient) -> None:
    """Like /static (StaticFiles): an ETag, a 304 while it matches, and no Cache-Control of its own."""
    for path in ("/js/states.js", "/static/app.js"):
        response = shared_client.get(path)
        etag = response.headers["etag"]
        assert "cache-control" not in response.headers, path
        for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            again = shared_client.get(path, headers={"If-None-Match": sent})
            assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag), (path, sent)
        assert shared_client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200, path

