"""Jobs: the accepted fields, validation with indexed errors, CSV parsing, and the array form.

A job needs `priority` (green | balanced | performance, any case), `cpu` and `memory` (numbers or numeric
strings, 0..100; aliases `cpu_util`, `mem`); `latency` (low | medium | high), `estimated_kwh` and `co2_kg`
are optional, and so is the work the grid scenario's energy model reads (`duration_min`, or the Hybrid ML
seed's `size` and `intensity`; see scheduler/energy.py). Unknown fields are errors, so a typo is caught rather than ignored. A batch is all or
nothing: `JobValidationError` lists every problem as {index or row, field, message}.
"""

import csv
import io
from dataclasses import dataclass
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

from scheduler.fleet import TIERS

LATENCIES: tuple[str, str, str] = ("low", "medium", "high")
CSV_REQUIRED = ("priority", "cpu", "memory")
CSV_COLUMNS = ("priority", "latency", "cpu", "memory", "estimated_kwh", "co2_kg", "duration_min", "size", "intensity")

_Priority = Annotated[str, StringConstraints(pattern=r"^\s*(?i:green|balanced|performance)\s*$")]
_Latency = Annotated[str, StringConstraints(pattern=r"^\s*(?i:low|medium|high)\s*$")]
_Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
_Amount = Annotated[float | None, Field(ge=0, allow_inf_nan=False)]
_Minutes = Annotated[float | None, Field(gt=0, le=10_080, allow_inf_nan=False)]  # up to a week
_Size = Annotated[float | None, Field(gt=0, le=1_000_000, allow_inf_nan=False)]
_Fraction = Annotated[float | None, Field(ge=0, le=1, allow_inf_nan=False)]
_NUMBER_FIELDS = ("cpu", "cpu_util", "memory", "mem", "estimated_kwh", "co2_kg", "duration_min", "size", "intensity")


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


_JOB = TypeAdapter(JobIn)
_JOB_LIST = TypeAdapter(list[JobIn])
JOB_SCHEMA = _JOB.json_schema()
"""JSON schema of one job, for the OpenAPI description of the raw-body endpoints."""


class JobValidationError(ValueError):
    """A batch was rejected; `errors` holds {index|row, field, message} for every problem."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


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

    def __len__(self) -> int:
        return len(self.tier)

    def take(self, rows: slice | np.ndarray) -> "JobBatch":
        """The jobs at `rows` (a slice or an index array)."""
        return JobBatch(*(getattr(self, f)[rows] for f in _FIELDS))

    @classmethod
    def empty(cls) -> "JobBatch":
        return concat([])


_FIELDS = ("tier", "latency", "cpu", "memory", "estimated_kwh", "co2_kg", "duration_min", "size", "intensity")
_DTYPES = (np.int8, np.int8, *(np.float64,) * 7)
_OPTIONAL = _FIELDS[4:]


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
    if errors:
        raise JobValidationError(sorted(errors, key=lambda e: -1 if e["index"] is None else e["index"]))
    return _to_batch(jobs, _optional_fields_in(payload))


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
    return batch


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
        allowed = TIERS if field == "priority" else LATENCIES
        message = f"must be one of {', '.join(allowed)}"
    if "input" in error and error["type"] not in ("missing", "list_type", "model_type", "json_invalid"):
        message += f"; got {_short(error['input'])}"
    return {"index": index, "field": field or None, "message": message}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_TIER_CODE = {t: i for i, t in enumerate(TIERS)}
_LATENCY_CODE = {l: i for i, l in enumerate(LATENCIES)}


def _to_batch(jobs: list[JobIn], present: tuple[str, ...] = _OPTIONAL) -> JobBatch:
    """The validated jobs as arrays; optional fields not in `present` are NaN for every job."""
    tier, latency = _TIER_CODE, _LATENCY_CODE
    return JobBatch(
        # Exact spellings hit the dict directly; others (" Green") are normalised first.
        tier=np.array([tier[p] if p in tier else tier[p.strip().lower()] for p in [j["priority"] for j in jobs]], np.int8),
        latency=np.array(
            [-1 if x is None else latency[x] if x in latency else latency[x.strip().lower()] for x in [j.get("latency") for j in jobs]], np.int8
        ),
        cpu=np.array([j["cpu"] for j in jobs], np.float64),
        memory=np.array([j["memory"] for j in jobs], np.float64),
        **{field: _optional(jobs, field) if field in present else np.full(len(jobs), np.nan) for field in _OPTIONAL},
    )


def _optional_fields_in(payload: bytes | list[Any]) -> tuple[str, ...]:
    """The optional fields that may occur in `payload`. Reading one from every job costs ~1.5 ms per
    10,000 jobs, and most batches carry none of them; a key absent from the raw JSON text cannot be in
    any job, unless it is spelled with escapes (then all are read)."""
    if not isinstance(payload, bytes) or b"\\u" in payload:
        return _OPTIONAL
    return tuple(f for f in _OPTIONAL if b'"' + f.encode() + b'"' in payload)


def _optional(jobs: list[JobIn], field: str) -> np.ndarray:
    """An optional number per job, NaN where absent."""
    values = [j.get(field) for j in jobs]  # type: ignore[misc]
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def to_dicts(batch: JobBatch) -> list[dict[str, Any]]:
    """The jobs as a client would send them: priority, latency, cpu, memory, and the optional fields given."""
    optional = [getattr(batch, f).tolist() for f in _OPTIONAL]
    return [
        {"priority": TIERS[t], "latency": None if lat < 0 else LATENCIES[lat], "cpu": c, "memory": m,
         **{f: v for f, v in zip(_OPTIONAL, extra) if v == v}}  # NaN (not given) is left out
        for t, lat, c, m, *extra in zip(batch.tier.tolist(), batch.latency.tolist(), batch.cpu.tolist(), batch.memory.tolist(), *optional)
    ]  # fmt: skip


def to_csv(batch: JobBatch) -> str:
    """The batch as a job CSV that parse_csv reads back to the same batch."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    optional = np.column_stack([getattr(batch, f) for f in _OPTIONAL]) if len(batch) else np.empty((0, len(_OPTIONAL)))
    for t, l, c, m, extra in zip(batch.tier, batch.latency, batch.cpu, batch.memory, optional):
        writer.writerow([TIERS[t], "" if l < 0 else LATENCIES[l], repr(float(c)), repr(float(m)), *("" if np.isnan(x) else repr(float(x)) for x in extra)])
    return out.getvalue()
