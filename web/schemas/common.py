"""The pieces every schema module shares: the vocabulary as Literal types, strict numbers, the answers'
base model, the error answer, and the OpenAPI tags and operation ids."""

from typing import Annotated, Any, Literal

from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, Strict
from pydantic.json_schema import SkipJsonSchema

from scheduler.core.states import BANDS, LATENCIES, TIERS

Tier = Literal[TIERS]  # type: ignore[valid-type]
Latency = Literal[LATENCIES] | None  # type: ignore[valid-type]
Band = Literal[BANDS]  # type: ignore[valid-type]
StrictFloat = Annotated[float, Strict()]
"""A JSON number, never a boolean or a numeric string (lax pydantic reads `true` as 1.0)."""
StrictInt = Annotated[int, Strict()]
ServerMap = dict[str, float]
"""Server name -> a figure, for every server of the fleet."""
ClientJobId = int | str | SkipJsonSchema[None]
"""The client's own job_id, when its job had one (ours is `job_id`, the session's count from 1)."""
Runs = list[tuple[str, str]]
"""[start, end] pairs, ISO UTC ending in Z: one per piece of the job's run."""
TAGS = [
    {"name": "info", "description": "The service, the fleet and the carbon conditions now."},
    {"name": "session", "description": "A visitor's session (X-Session-ID): its seed, KPIs and tier agents."},
    {"name": "jobs", "description": "Queue jobs, schedule them, page through the decisions and explain them."},
    {"name": "plan", "description": "When to run: plan jobs' start times on a carbon series (stateless)."},
    {"name": "simulate", "description": "Offline studies comparing placement policies or when-to-run strategies."},
    {"name": "workflows", "description": "Workflows that really run: DAGs of tasks, retries, timeouts, rollback, kept in SQLite."},
]
"""The groups of /docs, in order (api.py passes them as openapi_tags)."""


def operation_id(route: APIRoute) -> str:
    """An operation's id is its route function's name (`run`, `job`, `get_simulation`): short names for
    generated clients, and the names OpenAPI links point at (web.responses.links)."""
    return route.name


class Out(BaseModel):
    """Base of every answer's model. A field a route sends that its model does not declare still goes out,
    never silently dropped (tests/web/test_openapi.py flags it as undocumented)."""

    model_config = ConfigDict(extra="allow")


class ErrorItem(Out):
    """One problem. `msg` and `type` are FastAPI's validation-error fields (`msg` is `message` again)."""

    loc: list[str | int] = Field(description="Where: body, query, header or path, then keys and indexes (a CSV upload: body, file, row).")
    field: str | None = Field(description="The field's name; null for a problem of the whole request.")
    message: str = Field(description="What is wrong (a value the client sent is quoted cut to a few dozen characters).")
    hint: str | None = Field(None, description="What to do, where one is known.")
    msg: str
    type: str = Field(description="pydantic's error type for a 422 it found, else the status's: not_found, too_large, ...")
    index: int | None = Field(None, description="The job's (or task's) position in the body's list.")
    row: int | None = Field(None, description="The CSV file's row (the header is row 1); null for the whole file.")
    task: Any = Field(None, description="The workflow task's id as sent.")


class Truncated(Out):
    shown: int
    more: int = Field(description="Problems found but not listed.")
    exact: bool = Field(description="false when checking stopped early and `more` is the validator's count.")


class ErrorOut(Out):
    """Every error answer, whatever its status (docs/API.md, Errors): the first TASKPILOT_MAX_ERRORS problems
    in the order of the body or file, and `truncated` when there were more."""

    detail: list[ErrorItem]
    truncated: Truncated | None = None
