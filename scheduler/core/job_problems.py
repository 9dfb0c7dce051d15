"""A job list's problems as the API lists them: pydantic's errors as {index, field, message}, and, when a
batch has more problems than are listed, a search for the first ones whose work stays bounded.

80,000 jobs with 13 bad fields each are a million errors: building each as a Python object took 10 s and
1.5 GB before anything was answered, and the answer was 100 MB. One job with 1.3 million unknown keys is
as many again. So past the cap, problems are counted (pydantic's error_count, the length of a key list)
and never built.
"""

from collections.abc import Collection
from itertools import islice
from typing import Any

from pydantic import TypeAdapter, ValidationError

from scheduler.core.client_fields import CLIENT_ID_RULE, short
from scheduler.core.errors import Problems, cut
from scheduler.core.states import LATENCIES, TIERS, URGENCIES

CHUNK_FIRST, CHUNK_MOST = 8, 4096
"""Jobs checked at a time: few at first (the first problems are usually near the start), then more."""
_NO_INPUT_ECHO = ("missing", "list_type", "model_type", "json_invalid", "dict_type", "client_id", "extra_forbidden")


def problems(errors: list[Any], known: Collection[str], offset: int = 0) -> list[dict[str, Any]]:
    """pydantic's errors as {index, field, message, hint?}, the index moved on by `offset` (the chunk's
    start); `known`: the fields a job may have, which an unknown field's hint lists."""
    return [unknown_field(e["loc"][0] + offset, e["loc"][1], known) if _is_unknown(e) else _indexed(e, offset) for e in errors]


def unknown_field(index: int, key: Any, known: Collection[str]) -> dict[str, Any]:
    return {"index": index, "field": cut(str(key)), "message": "unknown field", "hint": f"a job's fields are {', '.join(known)}"}


def _is_unknown(error: dict[str, Any]) -> bool:
    return error["type"] == "extra_forbidden" and len(error["loc"]) == 2 and isinstance(error["loc"][0], int)


def _indexed(error: dict[str, Any], offset: int) -> dict[str, Any]:
    """A pydantic error as {index, field, message}; the message names the bad value (cut short)."""
    loc = error["loc"]
    index = loc[0] + offset if loc and isinstance(loc[0], int) else None
    parts = loc[1:] if index is not None else loc
    field = ".".join(short(p) if not isinstance(p, (str, int)) else p if isinstance(p, str) else str(p) for p in parts)
    message = error["msg"]
    if error["type"] == "string_pattern_mismatch":
        allowed = TIERS if field == "priority" else URGENCIES if field == "urgency" else LATENCIES
        message = f"must be one of {', '.join(allowed)}"
    elif error["type"] == "client_id":
        message = CLIENT_ID_RULE
    if "input" in error and error["type"] not in _NO_INPUT_ECHO:
        message += f"; got {short(error['input'])}"
    return {"index": index, "field": cut(field) or None, "message": message}


def first_problems(adapter: TypeAdapter[Any], jobs: list[Any], known: Collection[str], found: Problems) -> None:
    """Check `jobs` (known to hold more problems than are listed) a chunk at a time: problems are built
    until `found.limit` of them are listed, then only counted, so the count stays exact and the work of
    listing bounded. Unknown keys are found here rather than by pydantic, so that one job with a million
    of them costs a count, not a million error objects."""
    listed, start, size, allowed = 0, 0, CHUNK_FIRST, frozenset(known)
    while start < len(jobs):
        chunk = jobs[start : start + size]
        room = max(0, found.limit - listed)
        found_here: list[dict[str, Any]] = []
        checked = []
        for i, job in enumerate(chunk, start):
            job, unknown, n_unknown = _known_only(job, allowed, room)
            found_here += (unknown_field(i, k, known) for k in unknown)
            found.more += n_unknown - len(unknown)
            checked.append(job)
        try:
            adapter.validate_python(checked)
        except ValidationError as exc:
            if room > 0:
                found_here += problems(exc.errors(include_url=False), known, start)
            else:
                found.more += exc.error_count()
        found_here.sort(key=lambda e: e["index"])  # the chunk's problems in job order, then the first `room` listed
        found.items += found_here[:room]
        found.more += max(0, len(found_here) - room)
        listed += min(len(found_here), room)
        start += size
        size = min(2 * size, CHUNK_MOST)


def _known_only(job: Any, known: frozenset[str], room: int) -> tuple[Any, list[str], int]:
    """The job without its unknown keys; the first `room` of those keys (in the job's order), and how many
    there were."""
    if not isinstance(job, dict) or job.keys() <= known:
        return job, [], 0
    kept = {k: v for k, v in job.items() if k in known}
    n_unknown = len(job) - len(kept)
    return kept, list(islice((k for k in job if k not in known), room)), n_unknown
