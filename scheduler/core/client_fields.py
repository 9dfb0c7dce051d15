"""What the reference's clients send beside a job's own fields, and how it is kept.

The reference TaskPilot's dashboard (PerinbaBuilds/TaskPilot, frontend/templates/dashboard.html) posts its
local queue to /run: every job carries the dashboard's own `job_id`, and jobs read from a CSV carry
`memory` and its alias `mem` together. The reference ignored the one and took either of the other.
Here a client's `job_id` is kept, per job, and answered as `client_job_id` beside TaskPilot's own
`job_id` (which it never replaces); an alias given with its field must agree with it, numerically.
"""

import math
import re
from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
from pydantic import Field, Strict, StringConstraints, TypeAdapter, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticCustomError

from scheduler.core.errors import Problems, quote

MAX_CLIENT_ID_CHARS = 128
CLIENT_ID_RULE = f"must be a 64-bit integer or a string of 1 to {MAX_CLIENT_ID_CHARS} characters (the client's own id)"


def _one_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A bad id is one problem, not one per member of the union (pydantic reports each): so the
    validator's error count is the count of problems, which the API reports beyond its listed ones."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError("client_id", CLIENT_ID_RULE) from None


ClientId = Annotated[
    Annotated[
        Annotated[int, Strict(), Field(ge=-(2**63), le=2**63 - 1)]
        | Annotated[str, Strict(), StringConstraints(min_length=1, max_length=MAX_CLIENT_ID_CHARS)]
        | None,
        Field(union_mode="left_to_right"),
    ],
    WrapValidator(_one_error),
]
"""A client's own id: a JSON integer (64-bit) or a string, never a float or a boolean; kept as given."""
ALIASES = (("cpu", "cpu_util"), ("memory", "mem"))
"""(field, alias): a job may give both when they agree."""


def short(value: Any) -> str:
    """A value as an error message quotes it: its repr, cut to a few dozen characters (core.errors.quote)."""
    return quote(value)


def client_ids(values: Sequence[Any] | None) -> np.ndarray | None:
    """Client ids as a JobBatch keeps them: an object array (None where a job has none), or None when no
    job has one, so batches without client ids carry no per-job Python objects."""
    if values is None:
        return None
    ids = np.empty(len(values), object)
    ids[:] = list(values)
    return None if all(v is None for v in ids.tolist()) else ids


_PLAIN_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,18})")


def csv_client_id(cell: str) -> int | str:
    """A CSV cell has no type: a plainly written 64-bit integer ("12", not "012" or "+12") is read as a
    number, so the same job sent as JSON or as CSV answers the same id; anything else stays text."""
    if _PLAIN_INTEGER.fullmatch(cell):
        number = int(cell)
        if -(2**63) <= number < 2**63:
            return number
    return cell


def merge_aliases(jobs: list[Any], owned: bool, found: Problems | None = None) -> list[Any]:
    """Jobs that give an alias beside its field (`mem` with `memory`, `cpu_util` with `cpu`) keep the field
    alone when the two agree; when they do not, a problem {index, field, message} naming both goes to
    `found` (past its limit, only counted). Unless `owned`, the jobs given are not modified: the ones with
    both are copied without the alias."""
    found = Problems() if found is None else found
    out = jobs if owned else None
    errors: list[dict[str, Any]] = []
    more = 0
    for i, job in enumerate(jobs):
        if not isinstance(job, dict) or not (("mem" in job and "memory" in job) or ("cpu_util" in job and "cpu" in job)):
            continue
        if out is None:
            out = list(jobs)
        if not owned:
            out[i] = job = job.copy()
        for field, alias in ALIASES:
            if alias in job and field in job:
                value, alias_value = job[field], job.pop(alias)
                if not (value == alias_value and type(value) is type(alias_value)):  # the usual case: one number twice
                    message = _disagreement(value, alias_value, field, alias)
                    if message and len(errors) < found.limit:
                        errors.append({"index": i, "field": field, "message": message})
                    elif message:
                        more += 1
    found.add(errors)
    found.more += more
    return jobs if out is None else out


def _disagreement(value: Any, alias_value: Any, field: str, alias: str) -> str | None:
    """Why a field and its alias given together cannot both stand, or None when they agree. They are
    compared as numbers after the field's own parsing ("39" and 39.0 agree); a bad value of the field
    itself is left to the field's check, and booleans to the jobs' boolean check."""
    if isinstance(value, bool) or isinstance(alias_value, bool):
        return None
    a, b = _as_number(value), _as_number(alias_value)
    if b is None:
        return f"{alias} (an alias of {field}) must be a number; got {short(alias_value)}: fields {field} and {alias}"
    if a is None or a == b or (math.isnan(a) and math.isnan(b)):
        return None
    return (
        f"{field} ({short(value)}) and its alias {alias} ({short(alias_value)}) disagree; give one, or the same number in both: "
        f"fields {field} and {alias}"
    )


_FLOAT = TypeAdapter(float)


def _as_number(value: Any) -> float | None:
    try:
        return _FLOAT.validate_python(value)
    except ValidationError:
        return None
