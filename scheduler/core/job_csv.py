"""Jobs as CSV: parsing a job file (each error names its file row; the header is row 1) and writing a
batch back as a file the parser reads to the same batch.
"""

import csv
import io
from typing import Any

import numpy as np

from scheduler.core.client_fields import csv_client_id
from scheduler.core.errors import JobValidationError
from scheduler.core.job_batch import OPTIONAL, JobBatch, deadline_texts
from scheduler.core.jobs import parse_jobs
from scheduler.core.states import LATENCIES, TIERS, URGENCIES

CSV_REQUIRED = ("priority", "cpu", "memory")
CSV_COLUMNS = (
    "priority",
    "latency",
    "cpu",
    "memory",
    "estimated_kwh",
    "co2_kg",
    "duration_min",
    "size",
    "intensity",
    "power_w",
    "urgency",
    "deadline",
    "interruptible",
    "job_id",
)


def parse_csv(data: bytes) -> JobBatch:
    """Parse a job CSV (header row required); errors name the file row (the header is row 1)."""
    return parse_csv_rows(data)[0]


def parse_csv_rows(data: bytes) -> tuple[JobBatch, list[int]]:
    """parse_csv, and the file row of each job (so later checks can name rows too)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JobValidationError(
            [{"row": None, "field": None, "message": f"file is not UTF-8 text ({exc.reason} at byte {exc.start})"}]
        ) from None
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
    errors = [
        {"row": 1, "field": c, "message": f"required column {c!r} is missing"}
        for c in CSV_REQUIRED
        if c not in header and not (c == "cpu" and "cpu_util" in header) and not (c == "memory" and "mem" in header)
    ]
    allowed = set(CSV_COLUMNS) | {"cpu_util", "mem"}
    errors += [
        {"row": 1, "field": c, "message": f"unknown column {c!r}; allowed: {', '.join(CSV_COLUMNS)}"} for c in header if c not in allowed
    ]
    if len(set(header)) != len(header):
        errors.append({"row": 1, "field": None, "message": "duplicate column names in the header"})
    return errors


def to_csv(batch: JobBatch) -> str:
    """The batch as a job CSV that parse_csv reads back to the same batch (a client id that is text
    reads back as a number when it is written like one, and without surrounding spaces: cells are untyped)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    optional = np.column_stack([getattr(batch, f) for f in OPTIONAL]) if len(batch) else np.empty((0, len(OPTIONAL)))
    ids = [None] * len(batch) if batch.client_job_id is None else batch.client_job_id.tolist()
    timing = zip(batch.urgency.tolist(), deadline_texts(batch), batch.interruptible.tolist(), ids)
    for t, lat, c, m, extra, (u, d, stop, cid) in zip(batch.tier, batch.latency, batch.cpu, batch.memory, optional, timing):
        numbers = ("" if np.isnan(x) else repr(float(x)) for x in extra)
        when = (URGENCIES[u], "" if d is None else d, "true" if stop else "")
        writer.writerow(
            [TIERS[t], "" if lat < 0 else LATENCIES[lat], repr(float(c)), repr(float(m)), *numbers, *when, "" if cid is None else cid]
        )
    return out.getvalue()
