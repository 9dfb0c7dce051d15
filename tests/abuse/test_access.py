"""Access: optional API keys for writes, kept as SHA-256 digests (TASKPILOT_API_KEY_HASHES).

Without keys nothing changes; with them, every write needs one of the keys (X-API-Key or a Bearer token),
reads stay open, and a missing or wrong key is a 401 that says what to send.
"""

from __future__ import annotations

import hashlib

import pytest
from pydantic import ValidationError

from scheduler.settings import Settings
from tests.web.conftest import SESSION_HEADER, job, serve

KEYS = ("first-key-0123456789", "second-key-9876543210")
HASHES = ",".join(hashlib.sha256(k.encode()).hexdigest() for k in KEYS)


def test_without_keys_writes_need_none() -> None:
    with serve() as client:
        assert client.post("/submit", json=job(), headers={SESSION_HEADER: "a"}).status_code == 200
        assert "securitySchemes" not in client.get("/openapi.json").json()["components"]


def test_with_keys_the_document_names_the_scheme_on_writes() -> None:
    with serve(api_key_hashes=HASHES) as client:
        doc = client.get("/openapi.json").json()
    scheme = doc["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-API-Key")
    secured = {(m, p) for p, ops in doc["paths"].items() for m, op in ops.items() if op.get("security") == [{"ApiKey": []}]}
    writes = {(m, p) for p, ops in doc["paths"].items() for m in ops if m in ("post", "put", "patch", "delete")}
    assert secured == writes and ("post", "/run") in secured


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "wrong"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {KEYS[0]}"},
        {"X-API-Key": ""},
        {"X-API-Key": HASHES.split(",")[0]},
    ],  # fmt: skip
    ids=["none", "wrong", "wrong-bearer", "not-bearer", "empty", "the-hash-itself"],
)
def test_a_write_without_a_known_key_is_401_and_does_nothing(headers: dict[str, str]) -> None:
    with serve(api_key_hashes=HASHES) as client:
        response = client.post("/submit", json=job(), headers={SESSION_HEADER: "a", **headers})
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
        assert "X-API-Key" in response.text and "needs an API key" in response.text
        for method, path in (("DELETE", "/simulate/00000000-0000-4000-8000-000000000000"), ("POST", "/reset"), ("POST", "/plan")):
            assert client.request(method, path, headers=headers).status_code == 401, path
        assert client.get("/summary", headers={SESSION_HEADER: "a"}).json()["queued_jobs"] == 0


def test_each_configured_key_opens_writes_and_reads_stay_open() -> None:
    with serve(api_key_hashes=HASHES) as client:
        for i, key in enumerate(KEYS):
            assert client.post("/submit", json=job(), headers={SESSION_HEADER: "a", "X-API-Key": key}).status_code == 200
            assert client.post("/submit", json=job(), headers={SESSION_HEADER: "a", "Authorization": f"Bearer {key}"}).status_code == 200
            assert client.get("/summary", headers={SESSION_HEADER: "a"}).json()["queued_jobs"] == 2 * (i + 1)
        for path in ("/", "/info", "/health", "/docs", "/openapi.json", "/session"):
            assert client.get(path).status_code == 200, path


def test_hashes_that_are_not_sha256_digests_are_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="SHA-256"):
        Settings(api_key_hashes="plain-text-key")
