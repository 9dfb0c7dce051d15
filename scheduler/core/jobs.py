"""Jobs: the accepted fields, validation with indexed errors, CSV parsing, and the array form.

A job needs `priority` (green | balanced | performance, any case), `cpu` and `memory` (numbers or numeric
strings, 0..100; aliases `cpu_util`, `mem`); `latency` (low | medium | high) is optional, and so is the
work the grid scenario's energy model reads (`duration_min`, or the Hybrid ML seed's `size` and
`intensity`; see scheduler/core/energy.py), and the job's measured `estimated_kwh` or `co2_kg`, which grid
sessions use in place of the model's figures (scheduler/placement/given.py; not with `power_w`, which
fixes the energy too). When a job may run is optional too (see
scheduler/timeshift/policy.py): `urgency` (critical | normal | flexible, default normal), `deadline` (an ISO time,
or minutes after submission), `interruptible` (default false) and the job's own `power_w`.

The reference's clients also send their own `job_id` (an integer or a short string): it is kept as the
job's `client_job_id` and answered beside TaskPilot's own `job_id`, which it never replaces. Its dashboard
sends `mem` beside `memory`: an alias given with its field (`mem` with `memory`, `cpu_util` with `cpu`)
must agree with it numerically, else both are named in the error. Other unknown fields are errors, so a
typo is caught rather than ignored. A batch is all or nothing: `JobValidationError` lists every problem as
{index or row, field, message}.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, NotRequired

import numpy as np
import orjson
from pydantic import (
    AliasChoices,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    with_config,
)
from pydantic.types import FailFast
from typing_extensions import TypedDict

from scheduler.core.client_fields import ALIASES, ClientId, client_ids, merge_aliases
from scheduler.core.client_fields import short as _short
from scheduler.core.errors import MAX_ERRORS, JobValidationError, Problems
from scheduler.core.job_batch import OPTIONAL, JobBatch
from scheduler.core.job_problems import first_problems, problems
from scheduler.core.states import LATENCIES, TIERS, URGENCIES

MAX_DEADLINE_MIN = 43_200.0
"""A deadline at most 30 days after submission (the planner's search window grows with it)."""

_Priority = Annotated[str, StringConstraints(pattern=r"^\s*(?i:green|balanced|performance)\s*$")]
_Latency = Annotated[str, StringConstraints(pattern=r"^\s*(?i:low|medium|high)\s*$")]
_Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
_Amount = Annotated[float | None, Field(ge=0, allow_inf_nan=False)]
_Minutes = Annotated[float | None, Field(gt=0, le=10_080, allow_inf_nan=False)]  # up to a week
_Size = Annotated[float | None, Field(gt=0, le=1_000_000, allow_inf_nan=False)]
_Fraction = Annotated[float | None, Field(ge=0, le=1, allow_inf_nan=False)]
_Watts = Annotated[float | None, Field(gt=0, le=100_000, allow_inf_nan=False)]
_Urgency = Annotated[str, StringConstraints(pattern=r"^\s*(?i:critical|normal|flexible)\s*$")]
_Deadline = Annotated[float | str | None, Field(union_mode="smart")]
_NUMBER_FIELDS = ("cpu", "cpu_util", "memory", "mem", "estimated_kwh", "co2_kg", "duration_min", "size", "intensity", "power_w", "deadline")


@with_config(ConfigDict(extra="forbid"))
class JobIn(TypedDict):
    """One job as a client sends it. A TypedDict, not a model: validating 10,000 jobs into dicts takes
    a third of the time of building model instances, and the arrays are all we keep."""

    priority: Annotated[_Priority, Field(description="Tier: green, balanced or performance (any case).")]
    latency: NotRequired[Annotated[_Latency | None, Field(description="Latency class: low, medium or high.")]]
    cpu: Annotated[_Percent, Field(validation_alias=AliasChoices("cpu", "cpu_util"), description="CPU demand, 0..100.")]
    memory: Annotated[_Percent, Field(validation_alias=AliasChoices("memory", "mem"), description="Memory demand, 0..100.")]
    estimated_kwh: NotRequired[
        Annotated[
            _Amount,
            Field(
                description="The job's measured energy, kWh: grid sessions use it (energy_source given); reference ones answer it beside."
            ),
        ]
    ]
    co2_kg: NotRequired[
        Annotated[
            _Amount,
            Field(description="The job's measured CO2, kg: grid sessions use it without estimated_kwh; reference ones answer it beside."),
        ]
    ]
    duration_min: NotRequired[
        Annotated[_Minutes, Field(description="Runtime on the reference machine, minutes (grid scenario energy model).")]
    ]
    size: NotRequired[Annotated[_Size, Field(description="Problem size as in the Hybrid ML seed (used when duration_min is absent).")]]
    intensity: NotRequired[Annotated[_Fraction, Field(description="Share of the work a GPU speeds up, 0..1 (speed-up 1 + 3 x intensity).")]]
    power_w: NotRequired[Annotated[_Watts, Field(description="The job's own power draw in FAST mode, W (else the energy model's).")]]
    urgency: NotRequired[
        Annotated[
            _Urgency | None,
            Field(description="critical (never deferred or slowed), normal (default) or flexible (may wait for a greener hour)."),
        ]
    ]
    deadline: NotRequired[
        Annotated[_Deadline, Field(description="Latest finish: an ISO time (UTC) on the session's clock, or minutes after submission.")]
    ]
    interruptible: NotRequired[
        Annotated[bool | None, Field(description="May run in pieces (the cheapest hours) when deferred; default false.")]
    ]
    job_id: NotRequired[Annotated[ClientId, Field(description="The client's own id (integer or string), answered as client_job_id.")]]


JOB_FIELDS = (*JobIn.__annotations__, *(alias for _, alias in ALIASES))
"""The keys a job may have: its fields, and the aliases cpu_util and mem."""
_KNOWN = frozenset(JOB_FIELDS)


@with_config(ConfigDict(extra="ignore"))
class _KnownFieldsOnly(JobIn):
    """JobIn skipping unknown keys rather than reporting each (one job can have a million): the fast path's
    jobs, whose unknown keys are found by counting (_fast)."""


_JOB = TypeAdapter(JobIn)
_JOB_LIST = TypeAdapter(list[JobIn])
"""Every problem of every job: for a few jobs at a time (job_problems.first_problems)."""
_FIRST_BAD = TypeAdapter(Annotated[list[JobIn], FailFast()])
"""Stops at the first bad job: 80,000 bad jobs are not a million errors before anyone looks at one."""
_FAST = TypeAdapter(Annotated[list[_KnownFieldsOnly], FailFast()])
JOB_SCHEMA = _JOB.json_schema()
"""JSON schema of one job, for the OpenAPI description of the raw-body endpoints."""


_TIMING = ("urgency", "deadline", "interruptible")
_SCANNED = OPTIONAL + _TIMING + ("job_id",)
"""Fields read from the jobs only when the body mentions them."""


def parse_jobs(payload: bytes | list[Any], max_errors: int = MAX_ERRORS) -> JobBatch:
    """Validate a JSON array of jobs (raw bytes or already decoded); raises JobValidationError listing the
    first `max_errors` problems in job order, and counting the rest."""
    raw = payload if isinstance(payload, bytes) else None
    booleans = raw is None or b"true" in raw or b"false" in raw  # only then can a boolean hide in a number field
    found = Problems(max_errors)
    # Raw bytes take the fast path; a body it does not take whole (a bad job, an unknown key, an alias
    # beside its field, a boolean) is decoded and its jobs checked as objects (rarer, slower).
    jobs = _fast(raw) if raw is not None and not booleans and not _alias_up_front(raw) else None
    if jobs is None:
        payload = payload if raw is None else _decoded(raw)
        jobs = _checked(payload, booleans, raw is not None, found) if isinstance(payload, list) else _not_a_list(payload, found)
    present = _optional_fields_in(payload if raw is None else raw)
    if not found:
        found.add(_check_deadlines(jobs) if "deadline" in present else [])
        found.add(_one_energy_figure(jobs) if "power_w" in present and "estimated_kwh" in present else [])
    if found:
        raise found.error(JobValidationError)
    return _to_batch(jobs, present)


def _alias_up_front(raw: bytes) -> bool:
    """An alias in the body's first jobs (the reference's dashboard sends `mem` beside `memory` in every
    job of a CSV it read): decode straight away rather than after a failed fast validation."""
    head = raw[:2048]
    return b'"mem"' in head or b'"cpu_util"' in head


def _decoded(payload: bytes) -> bytes | list[Any]:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload  # validate_json reports it


_SPACED_KEY = re.compile(rb'"[ \t\n\r]+:')


def _fast(raw: bytes) -> list[JobIn] | None:
    """The jobs of a raw body when all are valid and have no unknown key; else None. The validator skips
    unknown keys here, and they are found by counting: every key of the body's text ends in `":` (inside a
    string it would be `\\":`, which only counts too many), so a body whose jobs hold as many keys as
    its text has `":` has none the jobs lost (unknown, or an alias beside its field). A key spaced from its
    colon (`"cpu" :`) is not counted: such a body is checked the slow way. ~3 % of the validation's time."""
    try:
        jobs = _FAST.validate_json(raw)
    except ValidationError:
        return None
    keys = raw.count(b'":')
    if raw.count(b":") != keys and _SPACED_KEY.search(raw):
        return None
    return jobs if keys == sum(map(len, jobs)) else None


def _checked(jobs: list[Any], booleans: bool, owned: bool, found: Problems) -> list[JobIn]:
    """Decoded jobs validated, or [] with their problems added to `found`. Aliases given beside their field
    are merged first (in place when `owned`, i.e. decoded here); a batch with an unknown key, or a bad job,
    is searched for its first problems a few jobs at a time (job_problems.first_problems)."""
    found.add(_booleans_as_numbers(jobs) if booleans else ())
    jobs = merge_aliases(jobs, owned, found)
    if not any(isinstance(j, dict) and not j.keys() <= _KNOWN for j in jobs):
        try:
            valid = _FIRST_BAD.validate_python(jobs)
            return [] if found else valid
        except ValidationError:
            pass
    first_problems(_JOB_LIST, jobs, JOB_FIELDS, found)
    return []


def _not_a_list(payload: Any, found: Problems) -> list[JobIn]:
    """A body that is no JSON array (or that orjson did not decode): the validator's first problem with it."""
    try:
        return _FIRST_BAD.validate_json(payload) if isinstance(payload, bytes) else _FIRST_BAD.validate_python(payload)
    except ValidationError as exc:
        found.add(problems(exc.errors(include_url=False), JOB_FIELDS))
        return []


def _deadline(value: float | str | None) -> float | np.datetime64 | None:
    """Minutes after submission (a number, or a numeric string from a CSV cell) or a UTC time."""
    if value is None or isinstance(value, float):
        return value
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value.strip())
        if when.tzinfo is not None:  # OverflowError: an offset that moves it past year 1 or 9999
            when = when.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise ValueError(f"must be minutes after submission or an ISO time such as 2023-01-01T06:00Z; got {_short(value)}") from None
    return np.datetime64(when, "m")


def _check_deadlines(jobs: list[JobIn]) -> Iterator[dict[str, Any]]:
    """Deadlines that cannot be read, or that leave less than the job's duration_min. (A deadline given
    as a time is checked against the session's clock when the job is queued: Session.enqueue.)"""
    for i, job in enumerate(jobs):
        try:
            deadline = _deadline(job.get("deadline"))
        except ValueError as exc:
            yield {"index": i, "field": "deadline", "message": str(exc)}
            continue
        if isinstance(deadline, float):
            duration = job.get("duration_min")
            if not 0 < deadline <= MAX_DEADLINE_MIN:  # NaN fails this too
                yield {
                    "index": i,
                    "field": "deadline",
                    "message": f"must be more than 0 and at most {MAX_DEADLINE_MIN:g} minutes after submission; got {deadline:g}",
                }
            elif duration is not None and deadline < duration:
                yield {
                    "index": i,
                    "field": "deadline",
                    "message": f"deadline ({deadline:g} min after submission) is before submission + duration_min "
                    f"({duration:g} min): fields deadline and duration_min",
                }


def _one_energy_figure(jobs: list[JobIn]) -> list[dict[str, Any]]:
    """A job's estimated_kwh and its power_w both fix its energy (a grid session draws the given kWh over
    the model's runtime): given together they would disagree, and one would be dropped."""
    return [
        {
            "index": i,
            "field": "estimated_kwh",
            "message": "give estimated_kwh (the job's energy) or power_w (its power), not both: "
            "either fixes the job's energy: fields estimated_kwh and power_w",
        }
        for i, job in enumerate(jobs)
        if job.get("estimated_kwh") is not None and job.get("power_w") is not None
    ]


def _booleans_as_numbers(jobs: list[Any]) -> Iterator[dict[str, Any]]:
    """pydantic's lax floats take true/false as 1.0/0.0; a job's numbers must be numbers. (A Python
    validator on the fields would cost 0.8 us per job on every batch, booleans or not.) Lazily: past the
    listed ones, problems are only counted."""
    return (
        {
            "index": i,
            "field": "cpu" if key == "cpu_util" else "memory" if key == "mem" else key,
            "message": f"must be a number, not {str(job[key]).lower()}",
        }
        for i, job in enumerate(jobs)
        if isinstance(job, dict)
        for key in _NUMBER_FIELDS
        if isinstance(job.get(key), bool)
    )


def parse_job(payload: Any, max_errors: int = MAX_ERRORS) -> JobBatch:
    """Validate one job object; errors carry index 0."""
    try:
        return parse_jobs([payload], max_errors)
    except JobValidationError as exc:
        exc.items_at = None  # the input is the one job
        raise


_TIER_CODE = {t: i for i, t in enumerate(TIERS)}
_LATENCY_CODE = {name: i for i, name in enumerate(LATENCIES)}
_URGENCY_CODE = {u: i for i, u in enumerate(URGENCIES)}


def _to_batch(jobs: list[JobIn], present: tuple[str, ...] = _SCANNED) -> JobBatch:
    """The validated jobs as arrays; optional fields not in `present` are NaN (or the default) for every job."""
    tier, latency, n = _TIER_CODE, _LATENCY_CODE, len(jobs)
    deadlines = [_deadline(j.get("deadline")) for j in jobs] if "deadline" in present else []
    return JobBatch(
        # Exact spellings hit the dict directly; others (" Green") are normalised first.
        tier=np.array([tier[p] if p in tier else tier[p.strip().lower()] for p in [j["priority"] for j in jobs]], np.int8),
        latency=np.array(
            [-1 if x is None else latency[x] if x in latency else latency[x.strip().lower()] for x in [j.get("latency") for j in jobs]],
            np.int8,
        ),
        cpu=np.array([j["cpu"] for j in jobs], np.float64),
        memory=np.array([j["memory"] for j in jobs], np.float64),
        **{field: _optional(jobs, field) if field in present else np.full(n, np.nan) for field in OPTIONAL},
        deadline_min=np.array([d if isinstance(d, float) else np.nan for d in deadlines], np.float64) if deadlines else np.full(n, np.nan),
        urgency=np.array([_URGENCY_CODE[(u or "normal").strip().lower()] for u in [j.get("urgency") for j in jobs]], np.int8)
        if "urgency" in present
        else np.full(n, _URGENCY_CODE["normal"], np.int8),
        interruptible=np.array([bool(j.get("interruptible")) for j in jobs], np.bool_)
        if "interruptible" in present
        else np.zeros(n, np.bool_),
        deadline_at=np.array([d if isinstance(d, np.datetime64) else np.datetime64("NaT") for d in deadlines], "datetime64[m]")
        if deadlines
        else np.full(n, np.datetime64("NaT"), "datetime64[m]"),
        client_job_id=client_ids([j.get("job_id") for j in jobs]) if "job_id" in present else None,
    )


def _optional_fields_in(payload: bytes | list[Any]) -> tuple[str, ...]:
    """The optional fields that may occur in `payload`. Reading one from every job costs ~1.5 ms per
    10,000 jobs, and most batches carry none of them; a key absent from the raw JSON text cannot be in
    any job, unless it is spelled with escapes (then all are read)."""
    if not isinstance(payload, bytes) or b"\\u" in payload:
        return _SCANNED
    return tuple(f for f in _SCANNED if b'"' + f.encode() + b'"' in payload)


def _optional(jobs: list[JobIn], field: str) -> np.ndarray:
    """An optional number per job, NaN where absent."""
    values = [j.get(field) for j in jobs]  # type: ignore[misc]
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
