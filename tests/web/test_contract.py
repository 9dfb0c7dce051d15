"""Reference compatibility: every recorded reference response (tests/contract/*.json, copied from
shared/api-contract) is replayed, and our answer has every field of the reference with the same JSON
type. Extra fields are allowed; the wording of `explanation` is ours."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import CONTRACT_DIR, SESSION_HEADER, Visitor, load_contract, serve

# Replayed in this order in one app: the reference recorded them as one visitor's story
# (submit 1 job, submit a batch of 2, run the queue, run with a body, run [] ...).
REPLAY_ORDER = (
    "get_health.json",
    "get_session.json",
    "get_info.json",
    "get_tiers.json",
    "get_sustainability.json",
    "post_submit.json",
    "post_submit_batch.json",
    "post_run_empty_after_submit_batch.json",
    "post_run_with_body_1job.json",
    "post_run_empty_array.json",
    "post_explain.json",
    "post_explain_bad.json",
    "post_reset.json",
)
SCALARS = {"int": int, "float": float, "str": str, "bool": bool}


def conform(schema: Any, value: Any, path: str = "$") -> list[str]:
    """Where `value` lacks a field of the reference `schema` or has another JSON type there."""
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        problems = []
        for key, sub in schema.items():
            if key not in value:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += conform(sub, value[key], f"{path}.{key}")
        return problems
    if isinstance(schema, list):
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {type(value).__name__}"]
        if schema == ["<empty list>"]:
            return [] if value == [] else [f"{path}: expected [], got {len(value)} items"]
        if len(schema) == 1:
            return [p for i, item in enumerate(value) for p in conform(schema[0], item, f"{path}[{i}]")]
        if len(schema) != len(value):
            return [f"{path}: expected {len(schema)} items, got {len(value)}"]
        return [p for i, (s, item) in enumerate(zip(schema, value, strict=True)) for p in conform(s, item, f"{path}[{i}]")]
    expected = str if schema.startswith("<") else SCALARS[schema]  # "<plain-English ...>" is free text
    # bool is an int subclass in Python, but true is not a JSON number
    if isinstance(value, bool) is not (expected is bool) or not isinstance(value, expected):
        return [f"{path}: expected {schema}, got {json.dumps(value)[:60]}"]
    return []


def test_every_contract_file_is_replayed() -> None:
    assert sorted(p.name for p in CONTRACT_DIR.glob("*.json")) == sorted((*REPLAY_ORDER, "openapi.json"))


def test_conform_catches_missing_fields_and_type_changes() -> None:
    schema = {"a": "int", "b": [{"c": "float"}], "d": "<free text>", "e": "bool"}
    assert conform(schema, {"a": 1, "b": [{"c": 0.5}], "d": "x", "e": True, "extra": None}) == []
    assert conform(schema, {"a": 1.0, "b": [{"c": 1}], "e": 1}) == [
        "$.a: expected int, got 1.0", "$.b[0].c: expected float, got 1", "$.d: missing", "$.e: expected bool, got 1",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def replayed() -> dict[str, tuple[dict[str, Any], Any, Any]]:
    """Each contract file's name -> (the contract, our response status/content type, our JSON)."""
    out = {}
    with serve() as client:
        for name in REPLAY_ORDER:
            contract = load_contract(name)
            req = contract["request"]
            kwargs: dict[str, Any] = {"headers": req["headers"]}
            if req["body"] is not None:
                kwargs["json"] = req["body"]
            response = client.request(req["method"], req["path"], **kwargs)
            out[name] = (contract, (response.status_code, response.headers.get("content-type", "")), response.json())
    return out


@pytest.mark.parametrize("name", REPLAY_ORDER, ids=[n.removesuffix(".json") for n in REPLAY_ORDER])
def test_response_has_every_reference_field_with_its_type(replayed: dict[str, Any], name: str) -> None:
    contract, (status, content_type), body = replayed[name]
    assert status == contract["status"], body
    assert content_type.split(";")[0] == contract["content_type"]
    assert conform(contract["schema"], body) == []


def test_replayed_story_matches_the_reference_ids(replayed: dict[str, Any]) -> None:
    assert replayed["post_submit.json"][2] == {"job_id": 1}
    assert replayed["post_submit_batch.json"][2] == {"job_ids": [2, 3], "count": 2}
    queue_run = replayed["post_run_empty_after_submit_batch.json"][2]["scheduled_jobs"]
    assert [r["job_id"] for r in queue_run] == [1, 2, 3]
    assert [r["job_id"] for r in replayed["post_run_with_body_1job.json"][2]["scheduled_jobs"]] == [4]
    assert replayed["post_reset.json"][2]["status"] == "reset ok"


def test_reference_operations_exist_in_our_openapi(shared_client) -> None:
    ours = shared_client.get("/openapi.json").json()["paths"]
    reference = load_contract("openapi.json")["paths"]
    missing = [(m.upper(), p) for p, ops in reference.items() for m in ops if p != "/" and m not in ours.get(p, {})]
    assert missing == []
    # GET / (the dashboard) is served but kept out of the schema
    assert shared_client.get("/").status_code == 200


def test_readme_curl_call_works_unchanged(shared_client) -> None:
    """curl -X POST .../run -H 'X-Session-ID: demo' -H 'Content-Type: application/json' -d '[...]'"""
    body = b'[{"priority":"green","latency":"low","cpu":15,"memory":39}]'
    response = shared_client.post("/run", headers={SESSION_HEADER: "demo", "Content-Type": "application/json"}, content=body)
    assert response.status_code == 200
    assert response.headers[SESSION_HEADER] == "demo"
    data = response.json()
    row_schema = load_contract("post_run_with_body_1job.json")["schema"]
    assert conform(row_schema, data) == []
    (decision,) = data["scheduled_jobs"]
    assert decision["priority"] == "green" and decision["latency"] == "low"
    assert decision["chosen_dc"] in ("Server 1", "Server 2", "Server 3")
    assert Visitor(shared_client, "demo").summary()["total_jobs"] == 1
