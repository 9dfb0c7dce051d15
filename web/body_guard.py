"""What a JSON body must be before any route reads it: valid Unicode text, and objects of a bounded size.

JSON can spell a lone surrogate ("\\ud800"), which Python's json module decodes into a str that UTF-8 cannot
encode: a /plan job id, or an unknown key, made of one reached orjson on the way out and answered 500.
And pydantic reports an unknown key once per key: one object with a million of them cost FastAPI 20 s and
1.6 GB to describe. So every JSON body is checked first (`guard_body`, a dependency of every route:
web.errors.install adds it), and either is a 422 naming where, keys and indexes down to the place.
"""

import json
import re
from typing import Any

import orjson
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError

from scheduler.core.errors import cut

MAX_OBJECT_KEYS = 1000
"""Keys one object of a validated body may have: TaskPilot's request objects have a few dozen fields."""
# A \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF one, or a low one without a high one before it.
# (An escaped backslash before the u, "\\ud800", matches too: the decoded body is then searched, and holds none.)
_HIGH, _LOW = rb"\\u[dD][89abAB][0-9a-fA-F]{2}", rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_LONE_ESCAPE = re.compile(_HIGH + rb"(?!" + _LOW + rb")|(?<!" + _HIGH + rb")" + _LOW)
_SURROGATE = re.compile("[\ud800-\udfff]")
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def guard_body(request: Request) -> None:
    """Refuse a JSON body holding a lone surrogate with a 422 at its place. A body costs one regex pass over
    its bytes; it is decoded only when the pass finds an escape to look at. (No route lets FastAPI decode its
    body, which would happen on the event loop: each reads the bytes and decodes them on a thread, calling
    refuse_crowded there; tests/abuse/test_health.py checks that no route has a body field.)"""
    if request.method not in _WRITES or "json" not in request.headers.get("content-type", "").lower():
        return
    body = await request.body()  # Starlette keeps it: the route reads the same bytes
    if b"\\" in body:
        # Off the event loop: searching, decoding and walking a 16 MB body of escapes took 3.5 s, which
        # every other request, /health included, would have waited for.
        await run_in_threadpool(_refuse_lone_escapes, body, None)


def _refuse_lone_escapes(body: bytes, document: Any) -> None:
    if not _LONE_ESCAPE.search(body):
        return
    if document is None:
        try:
            document = json.loads(body)
        except ValueError:
            return  # not JSON: the route answers that
    _refuse(_first_surrogate(document, ["body"]), "unicode_surrogate")


def decode_object(raw: bytes) -> dict[str, Any]:
    """A body that must be one JSON object, decoded (call it on a thread: orjson holds the interpreter lock
    for the whole body), refused as FastAPI refuses a `dict` body (its error types and locations), and
    refused when crowded (refuse_crowded)."""
    if not raw.strip():
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error"}]) from None
    if not isinstance(payload, dict):
        raise RequestValidationError([{"type": "dict_type", "loc": ("body",), "msg": "Input should be a valid dictionary"}])
    refuse_crowded(payload)  # a million unknown keys are one problem, not a million for pydantic to build
    return payload


def refuse_crowded(document: Any) -> None:
    """A 422 at the first object of `document` (a decoded body) with more than MAX_OBJECT_KEYS keys: one
    problem, where the model's validation would report each unknown key. Every route that validates a JSON
    body against a model calls it, on the thread that decoded the body."""
    _refuse(_crowded(document, ["body"]), "too_many_keys")


def _refuse(found: tuple[list[Any], str] | None, kind: str) -> None:
    if found is not None:
        raise RequestValidationError([{"loc": tuple(found[0]), "msg": found[1], "type": kind}])


def _walk(value: Any, loc: list[Any]) -> Any:
    """(value, its loc) for every value of a decoded JSON document, the document first, depth first in order."""
    stack = [(value, loc)]
    while stack:
        item, at = stack.pop()
        yield item, at
        if isinstance(item, dict):
            stack.extend((sub, [*at, key]) for key, sub in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((sub, [*at, i]) for i, sub in reversed(list(enumerate(item))))


def _crowded(document: Any, loc: list[Any]) -> tuple[list[Any], str] | None:
    for item, at in _walk(document, loc):
        if isinstance(item, dict) and len(item) > MAX_OBJECT_KEYS:
            return at, f"this object has {len(item):,} keys; an object may have at most {MAX_OBJECT_KEYS:,} (a request's have a few dozen)"
    return None


def _first_surrogate(document: Any, loc: list[Any]) -> tuple[list[Any], str] | None:
    """Where the first string (a value, or a key) holding a lone surrogate is, and what to say."""
    for item, at in _walk(document, loc):
        if isinstance(item, str) and _SURROGATE.search(item):
            return at, f"is not valid Unicode text: {_escaped(item)} holds a lone surrogate; send UTF-8 text (surrogates only in pairs)"
        if isinstance(item, dict):
            key = next((k for k in item if _SURROGATE.search(k)), None)
            if key is not None:
                return [*at, _escaped(key)], "this key is not valid Unicode text: it holds a lone surrogate; send UTF-8 text"
    return None


def _escaped(text: str) -> str:
    """`text` cut short, each surrogate written as its escape (\\ud800): printable, and valid UTF-8."""
    return cut(_backslashed(text))


def _backslashed(text: str) -> str:
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def text_safe(value: Any) -> Any:
    """`value` with every surrogate in its strings (keys too) written as its escape: encodable as UTF-8."""
    if isinstance(value, str):
        return _backslashed(value)
    if isinstance(value, dict):
        return {text_safe(k): text_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [text_safe(v) for v in value]
    return value
