"""Response helpers shared by the routes: the orjson response, and the error answers each route documents."""

from typing import Any

import orjson
from fastapi.responses import JSONResponse

from web.schemas.common import ErrorOut

BUILD = "taskpilot-0.1.0"

ERROR_TEXT = {
    400: "X-Session-ID is not 1-64 characters of A-Z a-z 0-9 _ -; or the body of /plan, /simulate or /explain is not JSON text.",
    404: "No such job or simulation (in this session).",
    413: "Too large: the body (TASKPILOT_MAX_BODY_BYTES), a batch, a session's jobs, a plan or a simulation is over its limit.",
    422: "Invalid input: `detail` names each bad field (and the job's index or the CSV row).",
    401: "This server requires an API key for writes (TASKPILOT_API_KEY_HASHES) and none, or an unknown one, was sent.",
    403: "A multipart /upload without the X-Session-ID header (a header other sites' forms cannot send).",
    415: "A write's body is not application/json (or, for /upload, multipart/form-data).",
    429: "Too many requests (TASKPILOT_RATE_LIMIT_*), or every slot of yours or the server's is taken; retry after Retry-After seconds.",
    503: "The server is full (sessions or jobs), or a scenario's data cannot be loaded.",
}
SESSION_ERRORS = (400, 422, 503)
"""What any route that resolves a session may answer: a bad id, or no room for a new session (web.deps.get_session);
422 as on every route with parameters."""


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status it may answer besides its success, all shaped as ErrorOut."""
    return {code: {"model": ErrorOut, "description": ERROR_TEXT[code]} for code in sorted(set(codes))}


SAME_SESSION = {"header.x-session-id": "$response.header.X-Session-ID"}
"""An OpenAPI link parameter: the next request carries the session id this answer came with."""


def links(status: int, **targets: dict[str, str]) -> dict[int | str, dict[str, Any]]:
    """A `responses=` entry giving the `status` answer OpenAPI links: to each operation id named, with
    its parameters as runtime expressions (`requestBody` among them is the next request's body). Clients
    and the stateful fuzzer (tests/web/test_fuzz.py) follow them from one answer to the next call."""
    out = {}
    for operation_id, parameters in targets.items():
        params = dict(parameters)
        body = params.pop("requestBody", None)
        out[operation_id] = {"operationId": operation_id, "parameters": params, **({"requestBody": body} if body else {})}
    return {status: {"links": out}}


class ORJSONResponse(JSONResponse):
    """JSON via orjson: several times faster than the standard encoder on big decision lists."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


API_KEY_SCHEME = {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A key of TASKPILOT_API_KEY_HASHES (writes only)."}


def document_guards(schema: dict[str, Any], api_keys: bool = False) -> dict[str, Any]:
    """Adds the middlewares' answers (web/middleware.py, web/ratelimit.py) to every operation of an OpenAPI
    document: 429 on all, 401 and 415 on writes, 403 on /upload. Those answers come before any route runs,
    so no route declares them. With `api_keys`, writes also name the X-API-Key scheme (Swagger UI's
    Authorize button then sends it)."""
    if api_keys:
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["ApiKey"] = API_KEY_SCHEME
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            write = method in ("post", "put", "patch", "delete")
            if write and api_keys:
                operation["security"] = [{"ApiKey": []}]
            codes = [429] + ([401, 415] if write else []) + ([403] if path == "/upload" else [])
            for code in codes:
                operation.setdefault("responses", {}).setdefault(
                    str(code),
                    {
                        "description": ERROR_TEXT[code],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
                    },
                )
    return schema
