"""The page's copy of Python's vocabulary: GET /js/states.js, an ES module generated from scheduler.core.states.

The dashboard's modules import the tier, latency, urgency, band, mode and status names from here instead of
spelling them again, so a name changed in Python reaches the page with no edit to the page. The module is
built once at import (the tuples are constants); like the files under /static it carries a validator (an
ETag of its bytes) and no Cache-Control, so a browser asks again and gets a 304 while nothing changed.
"""

import hashlib
import json

from fastapi import APIRouter, Request, Response

from scheduler.core import states

router = APIRouter(tags=["page"])

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
    headers = {"ETag": STATES_ETAG}
    if_none_match = request.headers.get("if-none-match", "")
    # As StaticFiles answers for /static: "*" or any listed tag (a weak W/ one too) is a match.
    if if_none_match.strip() == "*" or STATES_ETAG in (tag.strip().removeprefix("W/") for tag in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(STATES_JS, media_type="text/javascript", headers=headers)
