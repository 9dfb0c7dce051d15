"""Every error answer in one shape, and domain errors to HTTP answers (never a 500 for bad input).

    {"detail": [{"loc": ["body", 3, "cpu"], "field": "cpu", "message": "...", "hint": "...",
                 "msg": "...", "type": "...", "index": 3}, ...],
     "truncated": {"shown": 100, "more": 1039900, "exact": true}}

One entry per problem, at most TASKPILOT_MAX_ERRORS of them; `truncated` (only when some were left out)
counts the rest. `loc` is where: FastAPI's convention ("body", "query", "header" or "path", then keys and
list indexes; a CSV upload's problems are at "body", "file", then the file row). `field` names the field
(null for a problem of the whole request), `message` says what is wrong and `hint`, where one is known,
what to do. `msg` (the same text as `message`) and `type` are FastAPI's own names, so a client written for
FastAPI's validation errors reads every answer unchanged. A job's `index` in the body, a CSV's `row`
(header = 1) and a workflow's `task` are given beside `loc`. Every status answers this shape, whoever
builds it: a route, a handler below, or a middleware (web.middleware.send_error calls error_body).

Values a client sent are quoted cut to a few dozen characters (scheduler.core.errors.quote); a message or
hint that names a file keeps only the file's name, never its directory; text that is not valid Unicode
is refused before a route reads it (web.body_guard).
"""

import re
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from scheduler.core.errors import MAX_ERRORS, InputError, ScenarioUnavailable, SessionError, cut, quote
from web.body_guard import guard_body, text_safe

TYPES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
    413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests", 500: "internal_error",
    503: "unavailable",
}  # fmt: skip
"""An entry's `type` when nothing more precise is known (a 422 from pydantic keeps pydantic's own)."""
MESSAGE_CHARS = 600
"""A message or hint is cut here: ours are shorter; this bounds what a library's message may echo."""
_WHERE = ("index", "row", "task")
_PARAM_KINDS = ("body", "query", "path", "header", "cookie")
_NO_ECHO = ("missing", "json_invalid", "extra_forbidden", "dict_type", "model_type", "model_attributes_type")


class LimitExceeded(Exception):
    """A configured limit was hit; answered with 413 and the limit's name."""


def entry(
    message: str, status: int, *, loc: Sequence[Any] = (), field: Any = None, hint: str | None = None, kind: str | None = None,
    **where: Any,
) -> dict[str, Any]:  # fmt: skip
    """One problem in the answer's shape: text cut and cleared of file paths, names cut."""
    text = _clean(str(message))
    out: dict[str, Any] = {"loc": [_name(p) for p in loc][:12], "field": None if field is None else _name(str(field)), "message": text}
    if hint:
        out["hint"] = _clean(hint)
    out["msg"], out["type"] = text, kind or TYPES.get(status, "error")
    out.update({k: _name(v) if isinstance(v, str) else v for k, v in where.items() if k in _WHERE})
    return out


def entries(detail: Any, status: int, items_at: Sequence[Any] | None = ("body",)) -> list[dict[str, Any]]:
    """A route's `detail` (a sentence, one problem, or a list of problems in any of the shapes the domain
    and FastAPI use) as entries. `items_at`: where the listed items (a problem's `index`) are in the body;
    None when the body is the one item."""
    if isinstance(detail, list):
        return [_from(item, status, items_at) for item in detail]
    return [_from(detail, status, items_at)]


def _from(item: Any, status: int, items_at: Sequence[Any] | None) -> dict[str, Any]:
    if not isinstance(item, dict):
        return entry(str(item), status)
    if "message" not in item and "msg" in item:  # pydantic's (and FastAPI's) form
        loc = list(item.get("loc", ()))
        field = ".".join(str(p) for p in (loc[1:] if loc and loc[0] in _PARAM_KINDS else loc)) or None
        message = str(item["msg"]).removeprefix("Value error, ")
        if "input" in item and item.get("type") not in _NO_ECHO and len(loc) > 1:  # (at the root, the input is the whole body)
            message += f"; got {quote(item['input'])}"
        return entry(message, status, loc=loc, field=field, hint=item.get("hint"), kind=item.get("type"))
    field = item.get("field")
    return entry(item.get("message", ""), status, loc=item.get("loc") or _loc(item, items_at), field=field, hint=item.get("hint"),
                 kind=item.get("type"), **{k: item[k] for k in _WHERE if k in item})  # fmt: skip


def _loc(item: dict[str, Any], items_at: Sequence[Any] | None) -> list[Any]:
    """Where a domain problem is: a CSV row, a workflow's task, a job of a list, or a field of the body."""
    field = [] if item.get("field") is None else [item["field"]]
    if "row" in item:
        return ["body", "file", *([] if item["row"] is None else [item["row"]]), *field]
    if item.get("index") is None:
        return ["body", *field]
    at = ("body", "tasks") if "task" in item else items_at
    return [*at, item["index"], *field] if at is not None else ["body", *field]


def error_body(status: int, problems: list[dict[str, Any]], limit: int = MAX_ERRORS, omitted: int = 0, exact: bool = True) -> bytes:
    """The answer's JSON: the first `limit` problems, and `truncated` when there were more."""
    shown = problems[: max(1, limit)]
    more = omitted + len(problems) - len(shown)
    document: dict[str, Any] = {"detail": shown}
    if more > 0:
        document["truncated"] = {"shown": len(shown), "more": more, "exact": exact}
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:  # text with a lone surrogate, which UTF-8 cannot carry
        return orjson.dumps(text_safe(document))


def error_response(
    request: Request | None, status: int, detail: Any, *, items_at: Sequence[Any] | None = ("body",), headers: dict[str, str] | None = None,
    omitted: int = 0, exact: bool = True,
) -> Response:  # fmt: skip
    """The answer to `detail` (see entries): only the first TASKPILOT_MAX_ERRORS problems are turned into
    entries (a route may raise with a list of 100,000), the rest are counted."""
    settings = getattr(request.app.state, "settings", None) if request is not None else None
    limit = max(1, getattr(settings, "max_errors", MAX_ERRORS))
    items = detail if isinstance(detail, list) else [detail]
    shown = entries(items[:limit], status, items_at)
    body = error_body(status, shown, limit, omitted + len(items) - len(shown), exact)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def sentence(status: int, message: str, hint: str | None = None) -> bytes:
    """A one-problem answer's JSON, for code that has no request object (middlewares)."""
    return error_body(status, [entry(message, status, hint=hint)])


def install(app: FastAPI) -> None:
    """The handlers below, and the check of every JSON body (web.body_guard). The check is a dependency of the
    app's router, so it joins every route included after this call (api.py includes them after)."""
    app.router.dependencies.append(Depends(guard_body))

    @app.exception_handler(InputError)
    async def invalid_input(request: Request, exc: InputError) -> Response:
        items_at = None if exc.items_at is None else ("body", *exc.items_at)
        return error_response(request, 422, exc.errors, items_at=items_at, omitted=exc.omitted, exact=exc.exact)

    @app.exception_handler(SessionError)
    async def session_problem(request: Request, exc: SessionError) -> Response:
        return error_response(request, exc.status, str(exc))

    @app.exception_handler(ScenarioUnavailable)
    async def scenario_unavailable(request: Request, exc: ScenarioUnavailable) -> Response:
        return error_response(request, 503, str(exc))

    @app.exception_handler(LimitExceeded)
    async def limit(request: Request, exc: LimitExceeded) -> Response:
        return error_response(request, 413, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(request, exc.status_code, exc.detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, list(exc.errors()))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        # Starlette logs the exception and re-raises it after this answer: the shape holds even for a bug.
        return error_response(request, 500, "the server failed on this request; it has been logged")


# A file's path in a message keeps only the file's name: an absolute, ./, ../ or ~/ path to a file with an
# extension, a relative one to a data or code file, and an absolute directory under a usual root. API paths
# (/submit_batch, /simulate/{id}, /jobs/5/explanation) and units (gCO2eq/kWh) are left alone.
_PATH = re.compile(
    r"(?:\.{1,2}/|~/|/(?=[\w.@-]+/))(?:[\w.@-]+/)*(?P<name>[\w.@-]+\.[A-Za-z]\w{0,7})\b"
    r"|(?<![\w./])(?:[\w.@-]+/)+(?P<file>[\w.@-]+\.(?:csv|json|parquet|npz|npy|db|sqlite|py|txt|gz|zip|html|yaml|yml|toml|log|c|so))\b"
    r"|/(?:home|work|tmp|usr|var|opt|srv|app|etc|root|mnt|data|proc)(?:/[\w.@-]+)+/?"
)


_LONG_WORD = re.compile(r"\S{81,}")
"""A run of 81+ characters without a space is an echoed value (our own words are shorter): cut to 40."""


def _clean(text: str) -> str:
    """A message or hint as answered: file paths cut to the file's name, echoed values to 40 characters, the
    whole to MESSAGE_CHARS (a safety net under every layer's own quoting: scheduler.core.errors.quote)."""
    text = _PATH.sub(lambda m: m.group("name") or m.group("file") or "a directory on the server", text)
    text = _LONG_WORD.sub(lambda m: m.group()[:40] + "...", text)
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


def _name(part: Any) -> Any:
    """A loc part or field name: integers as they are, text cut (an unknown key may be megabytes)."""
    return part if isinstance(part, int) and not isinstance(part, bool) else cut(str(part))
