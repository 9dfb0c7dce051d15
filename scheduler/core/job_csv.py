"""Jobs as CSV: parsing a job file (each error names its file row; the header is row 1) and writing a
batch back as a file the parser reads to the same batch.
"""

import csv
import io
from collections.abc import Iterator
from typing import Any

import numpy as np

from scheduler.core.client_fields import csv_client_id
from scheduler.core.errors import MAX_ERRORS, JobValidationError, Problems, cut, quote
from scheduler.core.job_batch import OPTIONAL, JobBatch, concat, deadline_texts
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


CHUNK_ROWS = 10_000
"""Rows validated at a time: a file's jobs are held as arrays, never all as dicts at once."""


def parse_csv(data: bytes, max_errors: int = MAX_ERRORS) -> JobBatch:
    """Parse a job CSV (header row required); errors name the file row (the header is row 1)."""
    return parse_csv_rows(data, max_errors)[0]


def parse_csv_rows(data: bytes, max_errors: int = MAX_ERRORS) -> tuple[JobBatch, list[int]]:
    """parse_csv, and the file row of each job (so later checks can name rows too). JobValidationError
    lists the first `max_errors` problems in row order and counts the rest."""
    reader = csv.reader(io.StringIO(_text(data), newline=""))
    header = _header(reader)
    found = Problems(max_errors)
    batches: list[JobBatch] = []
    row_numbers: list[int] = []
    for rows, numbers, problems in _chunks(reader, header):
        room = max(0, found.limit - len(found.items))
        try:
            batch = parse_jobs(rows, max(1, room))
        except JobValidationError as exc:
            problems += [{"row": numbers[e.pop("index")], **e} for e in exc.errors]
            found.more += exc.omitted
        else:
            batches.append(batch)
        # This chunk's problems in row order (each kind capped at `room` already), the first `room` listed.
        problems.sort(key=lambda e: e["row"])
        found.items += problems[:room]
        found.more += max(0, len(problems) - room)
        if found:
            batches.clear()  # nothing will be queued: keep only the count going
        row_numbers += numbers
    if found:
        raise found.error(JobValidationError, "row")
    if not row_numbers:
        raise JobValidationError([{"row": None, "field": None, "message": "the file has a header but no job rows"}])
    return concat(batches), row_numbers


_EXCEL = ((b"PK\x03\x04", "a ZIP archive: an Excel workbook (.xlsx) or another spreadsheet"),
          (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"))  # fmt: skip
_COLUMNS_HINT = f"the columns are {', '.join(CSV_COLUMNS)} (cpu_util and mem are accepted for cpu and memory)"
_SAVE_AS_CSV = "open it in the spreadsheet and save it as 'CSV UTF-8 (Comma delimited) (*.csv)', then upload that file"


def _text(data: bytes) -> str:
    """The file as text; a spreadsheet or text that is not UTF-8 is one problem, saying how to export CSV."""
    kind = next((what for magic, what in _EXCEL if data.startswith(magic)), None)
    if kind is None and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        kind = "UTF-16 text (Excel's 'Unicode Text')"
    if kind is not None:
        raise JobValidationError(
            [{"row": None, "field": None, "message": f"the file is {kind}, not CSV text (UTF-8)", "hint": _SAVE_AS_CSV}]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JobValidationError(
            [{"row": None, "field": None, "message": f"file is not UTF-8 text ({exc.reason} at byte {exc.start})", "hint": _SAVE_AS_CSV}]
        ) from None


def _header(reader: Any) -> list[str]:
    """The header row, lower case; every problem with it raised at once (one, for a file that is
    separated by another character than the comma)."""
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise JobValidationError([{"row": 1, "field": None, "message": f"unreadable CSV header: {exc}"}]) from None
    found = Problems()
    found.add(_delimiter_problem(header))
    if not found:
        found.add(_check_header(header))
    if found:
        raise found.error(JobValidationError, "row")
    return header


_DELIMITERS = ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars"))


def _delimiter_problem(header: list[str]) -> list[dict[str, Any]]:
    """A one-column header that names the job's columns when split on `;` (a spreadsheet's export in a
    locale whose decimal mark is the comma), a tab or `|`: one problem saying so, rather than a missing
    column for each required one and an unknown one for the whole line."""
    if len(header) != 1:
        return []
    for sep, name in _DELIMITERS:
        names = [h.strip() for h in header[0].split(sep)]
        if len(names) > 1 and set(names) & {*CSV_COLUMNS, "cpu_util", "mem"}:
            return [{"row": 1, "field": None, "message": f"the columns are separated by {name}, not commas",
                     "hint": f"detected {sep!r} delimiter: export the file with commas between the columns (and a dot as the "
                             f"decimal mark), e.g. as 'CSV UTF-8 (Comma delimited)', or replace each {sep!r} by ','"}]  # fmt: skip
    return []


def _chunks(reader: Any, header: list[str]) -> Iterator[tuple[list[dict[str, Any]], list[int], list[dict[str, Any]]]]:
    """The file's job rows CHUNK_ROWS at a time: (jobs as dicts, their file rows, the rows' own problems)."""
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    problems: list[dict[str, Any]] = []
    while True:
        row = reader.line_num + 1  # a record starts on the line after the previous one ended
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
            problems.append({"row": row, "field": None, "message": f"unreadable CSV: {exc}"})
            break
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            problems.append({"row": row, "field": None, "message": f"row has {len(cells)} cells; the header has {len(header)} columns"})
        else:
            job = {k: v.strip() for k, v in zip(header, cells) if v.strip() != "" or k in CSV_REQUIRED}
            if "job_id" in job:
                job["job_id"] = csv_client_id(job["job_id"])
            rows.append(job)
            numbers.append(row)
        if len(rows) + len(problems) >= CHUNK_ROWS:
            yield rows, numbers, problems
            rows, numbers, problems = [], [], []
    if rows or problems:
        yield rows, numbers, problems


def _check_header(header: list[str]) -> Iterator[dict[str, Any]]:
    if not header:
        yield {"row": 1, "field": None, "message": "the file is empty; expected a header row: priority,latency,cpu,memory"}
        return
    for c in CSV_REQUIRED:
        if c not in header and not (c == "cpu" and "cpu_util" in header) and not (c == "memory" and "mem" in header):
            yield {"row": 1, "field": c, "message": f"required column {c!r} is missing"}
    allowed = set(CSV_COLUMNS) | {"cpu_util", "mem"}
    for c in header:
        if c not in allowed:
            yield {"row": 1, "field": cut(c), "message": f"unknown column {quote(c)}", "hint": _COLUMNS_HINT}
    if len(set(header)) != len(header):
        yield {"row": 1, "field": None, "message": "duplicate column names in the header"}


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
