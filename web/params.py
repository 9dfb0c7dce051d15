"""Every number a query string or path carries, bounded where it enters, in one place.

FastAPI checks these before a route runs: a value out of range, or one that is not an integer, is a 422
naming the parameter, and the OpenAPI schema states the range (minimum/maximum). Without an upper bound
an integer that does not fit 64 bits (?offset=18446744073709551616) got through to numpy or orjson and
came back as a 500.
"""

from typing import Annotated

from fastapi import Path, Query

MAX_SAFE_INT = 2**53 - 1
"""The largest integer every JSON reader (JavaScript's Number included) holds exactly: offsets and job ids
are echoed back in answers, so none is accepted that a client could not read back as sent."""
MAX_SEED = 2**63 - 1
"""Seeds are 63-bit (scheduler.service.sessions.derive_seed), so numpy and JSON carry every one."""
MAX_PAGE = 1000
"""Rows per page of /history and /queue: a page stays a few hundred kB."""
DEFAULT_PAGE = 100

Offset = Annotated[int, Query(ge=0, le=MAX_SAFE_INT, description="Rows to skip; past the end, the page is empty.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page.")]
DeferredOffset = Annotated[int | None, Query(ge=0, le=MAX_SAFE_INT, description="Page of the deferred list (default: the queue's offset).")]
DeferredLimit = Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="Size of that page (default: the queue's limit).")]
JobId = Annotated[int, Path(ge=1, le=MAX_SAFE_INT, description="A scheduled job's id in this session (ids start at 1).")]
Seed = Annotated[
    int | None, Query(ge=0, le=MAX_SEED, description="Replay another session's decisions exactly; default: derived from the session id.")
]
RunId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="The id POST /simulate returned.")]
WorkflowId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="The id POST /workflows returned.")]
