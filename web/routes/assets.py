"""The page's files: GET /js/states.js, the page's copy of Python's vocabulary, and /static (PageFiles).

The dashboard's modules import the tier, latency, urgency, band, mode and status names from /js/states.js
instead of spelling them again, so a name changed in Python reaches the page with no edit to the page. The
module is built once at import (the tuples are constants).

Every one of these answers says `Cache-Control: no-cache` and carries an ETag: a browser asks again each
time and gets a 304 while nothing changed. Without it a browser may keep a module for a while on its own
(heuristic freshness from Last-Modified), and after a deploy run new modules against old ones, whose
imports no longer match.
"""

import hashlib
import json
import os

from fastapi import APIRouter, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from scheduler.core import states

router = APIRouter(tags=["page"])
CACHE_CONTROL = "no-cache"

VOCABULARY = ("TIERS", "LATENCIES", "URGENCIES", "BANDS", "MODES", "STATUSES")
"""The tuples of scheduler.core.states the page reads, each exported under its Python name."""


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
