"""The page's files: GET /js/states.js, the page's copy of Python's vocabulary, and /static (PageFiles).

The dashboard's modules import the tier, latency, urgency, band, mode and status names, and the executor's task
states, workflow states and attempt outcomes, from /js/states.js instead of spelling them again, so a name changed
in Python reaches the page with no edit to the page. The module is built once at import (the tuples are constants).

Caching. The pages (/, /docs, /redoc) name their files under /static/v/VERSION/..., VERSION being a hash
of every file's path, size and modification time under frontend/static (static_version): those answers
are `immutable` for a year, since a changed file makes a new VERSION and so new URLs, and the relative
imports of the page's ES modules stay inside one VERSION, so a browser never runs modules of two deploys
together. The pages themselves are revalidated on every load (no-cache). A URL of an older VERSION still
answers, with today's file and no-cache. Plain /static/... and /js/states.js (imported by its absolute
URL from every version) answer no-cache with an ETag: a browser asks again each time and gets a 304 while
nothing changed.
"""

import hashlib
import json
import os
from pathlib import PurePosixPath

from fastapi import APIRouter, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from scheduler.core import states
from scheduler.settings import ROOT

router = APIRouter(tags=["page"])
CACHE_CONTROL = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_DIR = ROOT / "frontend" / "static"
VERSIONED = "v"
"""/static/v/VERSION/path: `path` under frontend/static, as of VERSION."""

VOCABULARY = ("TIERS", "LATENCIES", "URGENCIES", "BANDS", "MODES", "STATUSES", "TASK_STATES", "WORKFLOW_STATES", "ATTEMPT_OUTCOMES")
"""The tuples of scheduler.core.states the page reads, each exported under its Python name (the last three are the
executor's: the Workflows tab's)."""


def states_module() -> str:
    """The ES module: one frozen array per tuple, in Python's order (the page sorts by it)."""
    arrays = {name: json.dumps(list(getattr(states, name)), separators=(",", ":")) for name in VOCABULARY}
    lines = [f"export const {name} = Object.freeze({array});" for name, array in arrays.items()]
    return "// Generated from scheduler/core/states.py by web/routes/assets.py: edit the Python, not this.\n" + "\n".join(lines) + "\n"


STATES_JS = states_module().encode()
STATES_ETAG = f'"{hashlib.sha256(STATES_JS).hexdigest()[:32]}"'


@router.get("/js/states.js", include_in_schema=False)
def states_js(request: Request) -> Response:
    """The vocabulary as a JavaScript module (text/javascript, as ES modules require)."""
    headers = {"ETag": STATES_ETAG, "Cache-Control": CACHE_CONTROL}
    if_none_match = request.headers.get("if-none-match", "")
    # As StaticFiles answers for /static: "*" or any listed tag (a weak W/ one too) is a match.
    if if_none_match.strip() == "*" or STATES_ETAG in (tag.strip().removeprefix("W/") for tag in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(STATES_JS, media_type="text/javascript", headers=headers)


class PageFiles(StaticFiles):
    """StaticFiles whose answers (200 and 304) are revalidated on every use: the page's modules change together."""

    def file_response(self, full_path: str | os.PathLike[str], stat: os.stat_result, scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat, scope, status_code)
        response.headers["Cache-Control"] = CACHE_CONTROL
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        """/static/v/VERSION/x is /static/x, kept for a year when VERSION is today's."""
        parts = PurePosixPath(path).parts
        if len(parts) < 3 or parts[0] != VERSIONED:
            return await super().get_response(path, scope)
        response = await super().get_response(str(PurePosixPath(*parts[2:])), scope)
        if parts[1] == static_version() and response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def static_version() -> str:
    """The version of the files under frontend/static: a hash of each one's path, size and modification time
    (a few dozen stat calls; read again on every use, so an edited file is a new version without a restart)."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(STATIC_DIR)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def versioned(html: str) -> str:
    """A page's HTML with each "/static/..." URL in it under today's version."""
    return html.replace('"/static/', f'"/static/{VERSIONED}/{static_version()}/')
