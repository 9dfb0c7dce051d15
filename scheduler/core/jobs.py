"""Jobs: the accepted fields, validation with indexed errors, CSV parsing, and the array form.

A job needs `priority` (green | balanced | performance, any case), `cpu` and `memory` (numbers or numeric
strings, 0..100; aliases `cpu_util`, `mem`); `latency` (low | medium | high), `estimated_kwh` and `co2_kg`
are optional, and so is the work the grid scenario's energy model reads (`duration_min`, or the Hybrid ML
seed's `size` and `intensity`; see scheduler/core/energy.py). When a job may run is optional too (see
scheduler/timeshift/policy.py): `urgency` (critical | normal | flexible, default normal), `deadline` (an ISO time,
or minutes after submission), `interruptible` (default false) and the job's own `power_w`. Unknown fields
are errors, so a typo is caught rather than ignored. A batch is all or nothing: `JobValidationError`
lists every problem as {index or row, field, message}.
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

from scheduler.core.errors import JobValidationError
from scheduler.core.states import LATENCIES, TIERS, URGENCIES

CSV_REQUIRED = ("priority", "cpu", "memory")
CSV_COLUMNS = (
    "priority", "latency", "cpu", "memory", "estimated_kwh", "co2_kg", "duration_min", "size", "intensity",
    "power_w", "urgency", "deadline", "interruptible",
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

    def __len__(self) -> int:
        return len(self.tier)

    def take(self, rows: slice | np.ndarray) -> "JobBatch":
        """The jobs at `rows` (a slice or an index array)."""
        return JobBatch(*(getattr(self, f)[rows] for f in _FIELDS))

    @classmethod
    def empty(cls) -> "JobBatch":
        return concat([])

    @classmethod
    def of(cls, tier: np.ndarray, latency: np.ndarray, cpu: np.ndarray, memory: np.ndarray, **optional: np.ndarray) -> "JobBatch":
        """A batch from its required columns; optional ones not given take their "not given" value."""
        n = len(tier)
        unknown = set(optional) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown JobBatch fields: {sorted(unknown)}")
        defaults = {f: np.full(n, np.nan) for f in _OPTIONAL + ("deadline_min",)}
        defaults |= {"urgency": np.full(n, 1, np.int8), "interruptible": np.zeros(n, np.bool_), "deadline_at": np.full(n, np.datetime64("NaT"), "datetime64[m]")}
        columns = {"tier": tier, "latency": latency, "cpu": cpu, "memory": memory, **defaults, **optional}
        return cls(*(np.asarray(columns[f]).astype(d, copy=False) for f, d in zip(_FIELDS, _DTYPES)))


_FIELDS = (
    "tier", "latency", "cpu", "memory", "estimated_kwh", "co2_kg", "duration_min", "size", "intensity", "power_w",
    "deadline_min", "urgency", "interruptible", "deadline_at",
)  # fmt: skip
_DTYPES = (np.int8, np.int8, *(np.float64,) * 9, np.int8, np.bool_, "datetime64[m]")
_OPTIONAL = _FIELDS[4:10]
"""Optional numbers, NaN when absent."""
_TIMING = ("urgency", "deadline", "interruptible")


def concat(batches: list[JobBatch]) -> JobBatch:
    return JobBatch(
        *(np.concatenate([getattr(b, f) for b in batches] or [np.empty(0, d)]).astype(d, copy=False) for f, d in zip(_FIELDS, _DTYPES))
    )


def parse_jobs(payload: bytes | list[Any]) -> JobBatch:
    """Validate a JSON array of jobs (raw bytes or already decoded); raises JobValidationError."""
    errors: list[dict[str, Any]] = []
    if isinstance(payload, bytes) and (b"true" in payload or b"false" in payload):
        try:  # only then can a boolean hide in a number field: decode to look (rare, slower)
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass  # validate_json reports it
    if isinstance(payload, list):
        errors = _booleans_as_numbers(payload)
    try:
        jobs = _JOB_LIST.validate_json(payload) if isinstance(payload, bytes) else _JOB_LIST.validate_python(payload)
    except ValidationError as exc:
        errors += [_indexed(e) for e in exc.errors(include_url=False)]
    present = _optional_fields_in(payload)
    if not errors and "deadline" in present:
        errors = _check_deadlines(jobs)
    if errors:
        raise JobValidationError(sorted(errors, key=lambda e: -1 if e["index"] is None else e["index"]))
    return _to_batch(jobs, present)


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
        rows.append({k: v.strip() for k, v in zip(header, cells) if v.strip() != "" or k in CSV_REQUIRED})
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


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_TIER_CODE = {t: i for i, t in enumerate(TIERS)}
_LATENCY_CODE = {l: i for i, l in enumerate(LATENCIES)}
_URGENCY_CODE = {u: i for i, u in enumerate(URGENCIES)}


def _to_batch(jobs: list[JobIn], present: tuple[str, ...] = _OPTIONAL + _TIMING) -> JobBatch:
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
    )


def _optional_fields_in(payload: bytes | list[Any]) -> tuple[str, ...]:
    """The optional fields that may occur in `payload`. Reading one from every job costs ~1.5 ms per
    10,000 jobs, and most batches carry none of them; a key absent from the raw JSON text cannot be in
    any job, unless it is spelled with escapes (then all are read)."""
    if not isinstance(payload, bytes) or b"\\u" in payload:
        return _OPTIONAL + _TIMING
    return tuple(f for f in _OPTIONAL + _TIMING if b'"' + f.encode() + b'"' in payload)


def _optional(jobs: list[JobIn], field: str) -> np.ndarray:
    """An optional number per job, NaN where absent."""
    values = [j.get(field) for j in jobs]  # type: ignore[misc]
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def to_dicts(batch: JobBatch) -> list[dict[str, Any]]:
    """The jobs as a client would send them: priority, latency, cpu, memory, urgency, and the optional
    fields given (a deadline as minutes after submission or as the UTC time it was given as)."""
    optional = [getattr(batch, f).tolist() for f in _OPTIONAL]
    return [
        {"priority": TIERS[t], "latency": None if lat < 0 else LATENCIES[lat], "cpu": c, "memory": m, "urgency": URGENCIES[u],
         **{f: v for f, v in zip(_OPTIONAL, extra) if v == v},  # NaN (not given) is left out
         **({"deadline": d} if d is not None else {}), **({"interruptible": True} if stop else {})}
        for t, lat, c, m, u, d, stop, *extra in zip(
            batch.tier.tolist(), batch.latency.tolist(), batch.cpu.tolist(), batch.memory.tolist(), batch.urgency.tolist(),
            _deadline_texts(batch), batch.interruptible.tolist(), *optional,
        )
    ]  # fmt: skip


def _deadline_texts(batch: JobBatch) -> list[float | str | None]:
    return [
        f"{at}Z" if not np.isnat(at) else None if math.isnan(minutes) else minutes  # as the client gave it
        for minutes, at in zip(batch.deadline_min.tolist(), batch.deadline_at)
    ]


def to_csv(batch: JobBatch) -> str:
    """The batch as a job CSV that parse_csv reads back to the same batch."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    optional = np.column_stack([getattr(batch, f) for f in _OPTIONAL]) if len(batch) else np.empty((0, len(_OPTIONAL)))
    timing = zip(batch.urgency.tolist(), _deadline_texts(batch), batch.interruptible.tolist())
    for t, l, c, m, extra, (u, d, stop) in zip(batch.tier, batch.latency, batch.cpu, batch.memory, optional, timing):
        numbers = ("" if np.isnan(x) else repr(float(x)) for x in extra)
        writer.writerow([TIERS[t], "" if l < 0 else LATENCIES[l], repr(float(c)), repr(float(m)), *numbers, URGENCIES[u], "" if d is None else d, "true" if stop else ""])
    return out.getvalue()
