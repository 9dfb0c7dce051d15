"""Jobs: the accepted fields, validation with indexed errors, CSV parsing, and the array form.

A job needs `priority` (green | balanced | performance, any case), `cpu` and `memory` (numbers or numeric
strings, 0..100; aliases `cpu_util`, `mem`); `latency` (low | medium | high), `estimated_kwh` and `co2_kg`
are optional, and so is the work the grid scenario's energy model reads (`duration_min`, or the Hybrid ML
seed's `size` and `intensity`; see scheduler/core/energy.py). When a job may run is optional too (see
scheduler/timeshift/policy.py): `urgency` (critical | normal | flexible, default normal), `deadline` (an ISO time,
or minutes after submission), `interruptible` (default false) and the job's own `power_w`.

The reference's clients also send their own `job_id` (an integer or a short string): it is kept as the
job's `client_job_id` and answered beside TaskPilot's own `job_id`, which it never replaces. Its dashboard
sends `mem` beside `memory`: an alias given with its field (`mem` with `memory`, `cpu_util` with `cpu`)
must agree with it numerically, else both are named in the error. Other unknown fields are errors, so a
typo is caught rather than ignored. A batch is all or nothing: `JobValidationError` lists every problem as
{index or row, field, message}.
"""

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

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
from typing_extensions import NotRequired, TypedDict

from scheduler.core.client_fields import ALIASES, CLIENT_ID_RULE, ClientId, client_ids, csv_client_id, merge_aliases
from scheduler.core.client_fields import short as _short
from scheduler.core.errors import JobValidationError
from scheduler.core.states import LATENCIES, TIERS, URGENCIES

CSV_REQUIRED = ("priority", "cpu", "memory")
CSV_COLUMNS = (
    "priority", "latency", "cpu", "memory", "estimated_kwh", "co2_kg", "duration_min", "size", "intensity",
    "power_w", "urgency", "deadline", "interruptible", "job_id",
)  # fmt: skip
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
    estimated_kwh: NotRequired[Annotated[_Amount, Field(description="The client's own energy estimate, kWh (kept, not used).")]]
    co2_kg: NotRequired[Annotated[_Amount, Field(description="The client's own CO2 estimate, kg (kept, not used).")]]
    duration_min: NotRequired[Annotated[_Minutes, Field(description="Runtime on the reference machine, minutes (grid scenario energy model).")]]
    size: NotRequired[Annotated[_Size, Field(description="Problem size as in the Hybrid ML seed (used when duration_min is absent).")]]
    intensity: NotRequired[Annotated[_Fraction, Field(description="Share of the work a GPU speeds up, 0..1 (speed-up 1 + 3 x intensity).")]]
    power_w: NotRequired[Annotated[_Watts, Field(description="The job's own power draw in FAST mode, W (else the energy model's).")]]
    urgency: NotRequired[Annotated[_Urgency | None, Field(description="critical (never deferred or slowed), normal (default) or flexible (may wait for a greener hour).")]]
    deadline: NotRequired[Annotated[_Deadline, Field(description="Latest finish: an ISO time (UTC) on the session's clock, or minutes after submission.")]]
    interruptible: NotRequired[Annotated[bool | None, Field(description="May run in pieces (the cheapest hours) when deferred; default false.")]]
    job_id: NotRequired[Annotated[ClientId, Field(description="The client's own id (integer or string), answered as client_job_id.")]]


_JOB = TypeAdapter(JobIn)
_JOB_LIST = TypeAdapter(list[JobIn])
JOB_SCHEMA = _JOB.json_schema()
"""JSON schema of one job, for the OpenAPI description of the raw-body endpoints."""


@dataclass(frozen=True)
class JobBatch:
    """Jobs as arrays, the form the engine works on."""

    tier: np.ndarray  # (n,) int8 index into TIERS
    latency: np.ndarray  # (n,) int8 index into LATENCIES, -1 when not given
    cpu: np.ndarray  # (n,) float64, 0..100
    memory: np.ndarray  # (n,) float64, 0..100
    estimated_kwh: np.ndarray  # (n,) float64, NaN when not given
    co2_kg: np.ndarray  # (n,) float64, NaN when not given
    duration_min: np.ndarray  # (n,) float64, NaN when not given
    size: np.ndarray  # (n,) float64, NaN when not given
    intensity: np.ndarray  # (n,) float64, NaN when not given
    power_w: np.ndarray  # (n,) float64, NaN when not given
    deadline_min: np.ndarray  # (n,) float64 minutes after submission, NaN when none (or given as a time)
    urgency: np.ndarray  # (n,) int8 index into URGENCIES, 1 (normal) when not given
    interruptible: np.ndarray  # (n,) bool
    deadline_at: np.ndarray  # (n,) datetime64[m] UTC when given as a time, else NaT
    # (n,) object: the client's own job_id (int or str), None where not given. The whole column is None
    # when no job has one, so batches without client ids carry no per-job Python objects.
    client_job_id: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.tier)

    def take(self, rows: slice | np.ndarray) -> "JobBatch":
        """The jobs at `rows` (a slice or an index array)."""
        ids = None if self.client_job_id is None else self.client_job_id[rows]
        return JobBatch(*(getattr(self, f)[rows] for f in _FIELDS), client_job_id=ids)

    @classmethod
    def empty(cls) -> "JobBatch":
        return concat([])

    @classmethod
    def of(cls, tier: np.ndarray, latency: np.ndarray, cpu: np.ndarray, memory: np.ndarray, **optional: Any) -> "JobBatch":
        """A batch from its required columns; optional ones not given take their "not given" value
        (`client_job_id`: a sequence of ids or None per job; all None is stored as no column)."""
        n = len(tier)
        ids = client_ids(optional.pop("client_job_id", None))
        unknown = set(optional) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown JobBatch fields: {sorted(unknown)}")
        defaults = {f: np.full(n, np.nan) for f in _OPTIONAL + ("deadline_min",)}
        defaults |= {"urgency": np.full(n, 1, np.int8), "interruptible": np.zeros(n, np.bool_), "deadline_at": np.full(n, np.datetime64("NaT"), "datetime64[m]")}
        columns = {"tier": tier, "latency": latency, "cpu": cpu, "memory": memory, **defaults, **optional}
        return cls(*(np.asarray(columns[f]).astype(d, copy=False) for f, d in zip(_FIELDS, _DTYPES)), client_job_id=ids)


_FIELDS = (
    "tier", "latency", "cpu", "memory", "estimated_kwh", "co2_kg", "duration_min", "size", "intensity", "power_w",
    "deadline_min", "urgency", "interruptible", "deadline_at",
)  # fmt: skip
_DTYPES = (np.int8, np.int8, *(np.float64,) * 9, np.int8, np.bool_, "datetime64[m]")
_OPTIONAL = _FIELDS[4:10]
"""Optional numbers, NaN when absent."""
_TIMING = ("urgency", "deadline", "interruptible")
_SCANNED = _OPTIONAL + _TIMING + ("job_id",)
"""Fields read from the jobs only when the body mentions them."""


def concat(batches: list[JobBatch]) -> JobBatch:
    ids = None
    if any(b.client_job_id is not None for b in batches):  # else no object column at all
        ids = np.concatenate([np.full(len(b), None, object) if b.client_job_id is None else b.client_job_id for b in batches])
    return JobBatch(
        *(np.concatenate([getattr(b, f) for b in batches] or [np.empty(0, d)]).astype(d, copy=False) for f, d in zip(_FIELDS, _DTYPES)),
        client_job_id=ids,
    )


def parse_jobs(payload: bytes | list[Any]) -> JobBatch:
    """Validate a JSON array of jobs (raw bytes or already decoded); raises JobValidationError."""
    raw = payload if isinstance(payload, bytes) else None
    booleans = raw is None or b"true" in raw or b"false" in raw  # only then can a boolean hide in a number field
    if raw is not None and (booleans or _alias_up_front(raw)):
        payload = _decoded(raw)  # to look at the jobs as Python objects (rarer, slower)
    jobs, errors, alias_beside_field = _validate(payload, booleans, owned=raw is not None)
    if alias_beside_field:
        # An alias beside its field further in: found by the fast path failing, so bodies without one pay
        # nothing for it; the jobs are then decoded and the pairs compared.
        payload = _decoded(raw)  # type: ignore[arg-type]  (only raw bodies report it)
        jobs, errors, _ = _validate(payload, booleans, owned=True)
    present = _optional_fields_in(payload if raw is None else raw)
    if not errors and "deadline" in present:
        errors = _check_deadlines(jobs)
    if errors:
        raise JobValidationError(sorted(errors, key=lambda e: -1 if e["index"] is None else e["index"]))
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


def _validate(payload: bytes | Any, booleans: bool, owned: bool) -> tuple[list[JobIn], list[dict[str, Any]], bool]:
    """The jobs, every problem as {index, field, message}, and whether a raw body gave an alias beside its
    field (pydantic takes the field and calls the alias an extra input; decoded jobs are merged first, in
    place when `owned`, i.e. decoded here)."""
    errors: list[dict[str, Any]] = []
    if isinstance(payload, list):
        errors = _booleans_as_numbers(payload) if booleans else []
        payload, disagreements = merge_aliases(payload, owned)
        errors += disagreements
    try:
        jobs = _JOB_LIST.validate_json(payload) if isinstance(payload, bytes) else _JOB_LIST.validate_python(payload)
    except ValidationError as exc:
        found = exc.errors(include_url=False)
        if isinstance(payload, bytes) and any(e["type"] == "extra_forbidden" and e["loc"][1:] in _ALIAS_LOCS for e in found):
            return [], errors, True  # the caller decodes and validates again: these errors are not the last word
        return [], errors + _job_errors(found), False
    return jobs, errors, False


_ALIAS_LOCS = tuple((alias,) for _, alias in ALIASES)


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
    except ValueError:
        raise ValueError(f"must be minutes after submission or an ISO time such as 2023-01-01T06:00Z; got {_short(value)}") from None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return np.datetime64(when, "m")


def _check_deadlines(jobs: list[JobIn]) -> list[dict[str, Any]]:
    """Deadlines that cannot be read, or that leave less than the job's duration_min. (A deadline given
    as a time is checked against the session's clock when the job is queued: Session.enqueue.)"""
    errors = []
    for i, job in enumerate(jobs):
        try:
            deadline = _deadline(job.get("deadline"))
        except ValueError as exc:
            errors.append({"index": i, "field": "deadline", "message": str(exc)})
            continue
        if isinstance(deadline, float):
            duration = job.get("duration_min")
            if not 0 < deadline <= MAX_DEADLINE_MIN:  # NaN fails this too
                errors.append({"index": i, "field": "deadline", "message": f"must be more than 0 and at most {MAX_DEADLINE_MIN:g} minutes after submission; got {deadline:g}"})
            elif duration is not None and deadline < duration:
                errors.append({"index": i, "field": "deadline", "message": f"deadline ({deadline:g} min after submission) is before submission + duration_min ({duration:g} min): fields deadline and duration_min"})
    return errors


def _booleans_as_numbers(jobs: list[Any]) -> list[dict[str, Any]]:
    """pydantic's lax floats take true/false as 1.0/0.0; a job's numbers must be numbers. (A Python
    validator on the fields would cost 0.8 us per job on every batch, booleans or not.)"""
    return [
        {"index": i, "field": "cpu" if key == "cpu_util" else "memory" if key == "mem" else key, "message": f"must be a number, not {str(job[key]).lower()}"}
        for i, job in enumerate(jobs) if isinstance(job, dict)
        for key in _NUMBER_FIELDS if isinstance(job.get(key), bool)
    ]  # fmt: skip


def parse_job(payload: Any) -> JobBatch:
    """Validate one job object; errors carry index 0."""
    return parse_jobs([payload])


def parse_csv(data: bytes) -> JobBatch:
    """Parse a job CSV (header row required); errors name the file row (the header is row 1)."""
    return parse_csv_rows(data)[0]


def parse_csv_rows(data: bytes) -> tuple[JobBatch, list[int]]:
    """parse_csv, and the file row of each job (so later checks can name rows too)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JobValidationError([{"row": None, "field": None, "message": f"file is not UTF-8 text ({exc.reason} at byte {exc.start})"}]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise JobValidationError([{"row": 1, "field": None, "message": f"unreadable CSV header: {exc}"}]) from None
    problems = _check_header(header)
    if problems:
        raise JobValidationError(problems)
    rows: list[dict[str, Any]] = []
    row_numbers: list[int] = []
    errors: list[dict[str, Any]] = []
    while True:
        row = reader.line_num + 1  # a record starts on the line after the previous one ended
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
            raise JobValidationError([*errors, {"row": row, "field": None, "message": f"unreadable CSV: {exc}"}]) from None
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            errors.append({"row": row, "field": None, "message": f"row has {len(cells)} cells; the header has {len(header)} columns"})
            continue
        job = {k: v.strip() for k, v in zip(header, cells) if v.strip() != "" or k in CSV_REQUIRED}
        if "job_id" in job:
            job["job_id"] = csv_client_id(job["job_id"])
        rows.append(job)
        row_numbers.append(row)
    try:
        batch = parse_jobs(rows)
    except JobValidationError as exc:
        errors += [{"row": row_numbers[e.pop("index")], **e} for e in exc.errors]
    if errors:
        raise JobValidationError(sorted(errors, key=lambda e: (e["row"] or 0)))
    if not row_numbers:
        raise JobValidationError([{"row": None, "field": None, "message": "the file has a header but no job rows"}])
    return batch, row_numbers


def _check_header(header: list[str]) -> list[dict[str, Any]]:
    if not header:
        return [{"row": 1, "field": None, "message": "the file is empty; expected a header row: priority,latency,cpu,memory"}]
    errors = [{"row": 1, "field": c, "message": f"required column {c!r} is missing"} for c in CSV_REQUIRED if c not in header and not (c == "cpu" and "cpu_util" in header) and not (c == "memory" and "mem" in header)]
    allowed = set(CSV_COLUMNS) | {"cpu_util", "mem"}
    errors += [{"row": 1, "field": c, "message": f"unknown column {c!r}; allowed: {', '.join(CSV_COLUMNS)}"} for c in header if c not in allowed]
    if len(set(header)) != len(header):
        errors.append({"row": 1, "field": None, "message": "duplicate column names in the header"})
    return errors


def _job_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """pydantic's errors as {index, field, message}; a bad job_id (an int-or-string union, which pydantic
    reports once per member) is one error."""
    out, bad_ids = [], set()
    for error in errors:
        loc = error["loc"]
        if len(loc) < 2 or loc[1] != "job_id" or not isinstance(loc[0], int):
            out.append(_indexed(error))
        elif loc[0] not in bad_ids:
            bad_ids.add(loc[0])
            out.append({"index": loc[0], "field": "job_id", "message": f"{CLIENT_ID_RULE}; got {_short(error['input'])}"})
    return out


def _indexed(error: dict[str, Any]) -> dict[str, Any]:
    """A pydantic error as {index, field, message}; the message names the bad value."""
    loc = error["loc"]
    index = loc[0] if loc and isinstance(loc[0], int) else None
    field = ".".join(str(p) for p in loc[1:]) if index is not None else ".".join(str(p) for p in loc) or None
    message = error["msg"]
    if error["type"] == "string_pattern_mismatch":
        allowed = TIERS if field == "priority" else URGENCIES if field == "urgency" else LATENCIES
        message = f"must be one of {', '.join(allowed)}"
    if "input" in error and error["type"] not in ("missing", "list_type", "model_type", "json_invalid"):
        message += f"; got {_short(error['input'])}"
    return {"index": index, "field": field or None, "message": message}


_TIER_CODE = {t: i for i, t in enumerate(TIERS)}
_LATENCY_CODE = {l: i for i, l in enumerate(LATENCIES)}
_URGENCY_CODE = {u: i for i, u in enumerate(URGENCIES)}


def _to_batch(jobs: list[JobIn], present: tuple[str, ...] = _SCANNED) -> JobBatch:
    """The validated jobs as arrays; optional fields not in `present` are NaN (or the default) for every job."""
    tier, latency, n = _TIER_CODE, _LATENCY_CODE, len(jobs)
    deadlines = [_deadline(j.get("deadline")) for j in jobs] if "deadline" in present else []
    return JobBatch(
        # Exact spellings hit the dict directly; others (" Green") are normalised first.
        tier=np.array([tier[p] if p in tier else tier[p.strip().lower()] for p in [j["priority"] for j in jobs]], np.int8),
        latency=np.array(
            [-1 if x is None else latency[x] if x in latency else latency[x.strip().lower()] for x in [j.get("latency") for j in jobs]], np.int8
        ),
        cpu=np.array([j["cpu"] for j in jobs], np.float64),
        memory=np.array([j["memory"] for j in jobs], np.float64),
        **{field: _optional(jobs, field) if field in present else np.full(n, np.nan) for field in _OPTIONAL},
        deadline_min=np.array([d if isinstance(d, float) else np.nan for d in deadlines], np.float64) if deadlines else np.full(n, np.nan),
        urgency=np.array([_URGENCY_CODE[(u or "normal").strip().lower()] for u in [j.get("urgency") for j in jobs]], np.int8)
        if "urgency" in present else np.full(n, _URGENCY_CODE["normal"], np.int8),
        interruptible=np.array([bool(j.get("interruptible")) for j in jobs], np.bool_) if "interruptible" in present else np.zeros(n, np.bool_),
        deadline_at=np.array([d if isinstance(d, np.datetime64) else np.datetime64("NaT") for d in deadlines], "datetime64[m]")
        if deadlines else np.full(n, np.datetime64("NaT"), "datetime64[m]"),
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


def to_dicts(batch: JobBatch) -> list[dict[str, Any]]:
    """The jobs as a client would send them: priority, latency, cpu, memory, urgency, and the optional
    fields given (a deadline as minutes after submission or as the UTC time it was given as). The client's
    own job_id, where given, is `client_job_id`, as in every answer (`job_id` is TaskPilot's)."""
    optional = [getattr(batch, f).tolist() for f in _OPTIONAL]
    ids = [None] * len(batch) if batch.client_job_id is None else batch.client_job_id.tolist()
    return [
        {"priority": TIERS[t], "latency": None if lat < 0 else LATENCIES[lat], "cpu": c, "memory": m, "urgency": URGENCIES[u],
         **{f: v for f, v in zip(_OPTIONAL, extra) if v == v},  # NaN (not given) is left out
         **({"deadline": d} if d is not None else {}), **({"interruptible": True} if stop else {}),
         **({"client_job_id": cid} if cid is not None else {})}
        for t, lat, c, m, u, d, stop, cid, *extra in zip(
            batch.tier.tolist(), batch.latency.tolist(), batch.cpu.tolist(), batch.memory.tolist(), batch.urgency.tolist(),
            _deadline_texts(batch), batch.interruptible.tolist(), ids, *optional,
        )
    ]  # fmt: skip


def _deadline_texts(batch: JobBatch) -> list[float | str | None]:
    return [
        f"{at}Z" if not np.isnat(at) else None if math.isnan(minutes) else minutes  # as the client gave it
        for minutes, at in zip(batch.deadline_min.tolist(), batch.deadline_at)
    ]


def to_csv(batch: JobBatch) -> str:
    """The batch as a job CSV that parse_csv reads back to the same batch (a client id that is text
    reads back as a number when it is written like one, and without surrounding spaces: cells are untyped)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    optional = np.column_stack([getattr(batch, f) for f in _OPTIONAL]) if len(batch) else np.empty((0, len(_OPTIONAL)))
    ids = [None] * len(batch) if batch.client_job_id is None else batch.client_job_id.tolist()
    timing = zip(batch.urgency.tolist(), _deadline_texts(batch), batch.interruptible.tolist(), ids)
    for t, l, c, m, extra, (u, d, stop, cid) in zip(batch.tier, batch.latency, batch.cpu, batch.memory, optional, timing):
        numbers = ("" if np.isnan(x) else repr(float(x)) for x in extra)
        when = (URGENCIES[u], "" if d is None else d, "true" if stop else "")
        writer.writerow([TIERS[t], "" if l < 0 else LATENCIES[l], repr(float(c)), repr(float(m)), *numbers, *when, "" if cid is None else cid])
    return out.getvalue()
