"""How many rows a request body holds, counted before it is parsed: a body over the row limit is refused
(413) for the price of a scan, not of parsing and validating every row (a valid 16 MB CSV was parsed for
13-19 s, at 1.3-1.7 GB, before its row count answered 413).

Both counts are exact for well-formed input and never below the rows a parser would find, so nothing
that fits is refused: a CSV row is a line holding more than spaces (a quoted cell spanning lines would
count more than once), a JSON array's items are the commas at its top level, outside strings, plus one
when it holds anything.
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from scheduler.core.errors import JobValidationError
from scheduler.core.job_batch import JobBatch, concat
from web.errors import LimitExceeded

BLOCK = 1 << 20
"""Bytes scanned at once: the scan's arrays stay a few MB whatever the body."""
QUOTE, BACKSLASH, COMMA = 34, 92, 44


def csv_rows(data: bytes) -> int:
    """Rows below the header: lines with something other than spaces, tabs and CRs, less one."""
    if data.count(b"\n") < 2:
        return 0 if not data.strip() else max(len(data.strip().splitlines()) - 1, 0)
    text = data.translate(None, b" \t\r")
    newline = np.frombuffer(text, dtype=np.uint8) == ord("\n")
    lines = int(newline.sum()) + (not text.endswith(b"\n"))
    blank = int(np.count_nonzero(newline[1:] & newline[:-1])) + bool(newline[0])
    return max(lines - blank - 1, 0)


def json_items(body: bytes) -> int:
    """Items of a JSON array at the body's top level (0 for an empty body or array). A scan in blocks of BLOCK
    bytes that looks only at quotes, backslashes, commas and brackets, carrying the string, escape and
    depth state from one block to the next."""
    data = np.frombuffer(body, dtype=np.uint8)
    state = _State()
    for lo in range(0, len(data), BLOCK):
        state.scan(data[lo : lo + BLOCK], lo)
    if state.commas:
        return state.commas + 1
    text = body.strip()
    return int(text[:1] == b"[" and text[1:-1].strip() != b"")  # "[x]" holds one item, "[]" none


class _State:
    def __init__(self, keep: bool = False) -> None:
        self.depth, self.in_string, self.escapes, self.commas = 0, 0, 0, 0
        self.keep, self.at = keep, []  # with `keep`, the top-level commas' offsets in the body, block by block

    def scan(self, b: np.ndarray, offset: int) -> None:
        quotes = self._real_quotes(b)
        comma = np.flatnonzero(b == COMMA)
        bracket = np.flatnonzero((b == ord("[")) | (b == ord("{")) | (b == ord("]")) | (b == ord("}")))
        # Outside a string: an even number of real quotes before it (or odd, when the block starts inside one).
        comma = comma[(np.searchsorted(quotes, comma) + self.in_string) % 2 == 0]
        bracket = bracket[(np.searchsorted(quotes, bracket) + self.in_string) % 2 == 0]
        level = self.depth + np.cumsum(np.where((b[bracket] == ord("[")) | (b[bracket] == ord("{")), 1, -1))
        before = np.searchsorted(bracket, comma)  # brackets before each comma
        at = np.where(before > 0, level[np.maximum(before - 1, 0)], self.depth) if len(level) else np.full(len(comma), self.depth)
        self.commas += int(np.count_nonzero(at == 1))
        if self.keep:
            self.at.append(comma[at == 1] + offset)
        self.in_string = (self.in_string + len(quotes)) % 2
        self.depth = int(level[-1]) if len(level) else self.depth

    def _real_quotes(self, b: np.ndarray) -> np.ndarray:
        """Positions of the quotes not escaped: not after an odd run of backslashes (a run may come from the last block)."""
        quotes, slash = np.flatnonzero(b == QUOTE), np.flatnonzero(b == BACKSLASH)
        carried, self.escapes = self.escapes, 0
        if not len(slash):
            return quotes[1:] if carried % 2 and len(quotes) and quotes[0] == 0 else quotes
        first = np.r_[True, np.diff(slash) != 1]  # runs of consecutive backslashes
        starts, ends = slash[first], slash[np.r_[first[1:], True]]
        length = ends - starts + 1 + np.where(starts == 0, carried, 0)
        if ends[-1] == len(b) - 1:
            self.escapes = int(length[-1])
        after = np.searchsorted(ends, quotes - 1)  # the run that ends just before each quote, if any
        hit = (after < len(ends)) & (ends[np.minimum(after, len(ends) - 1)] == quotes - 1)
        run = np.where(hit, length[np.minimum(after, len(ends) - 1)], 0)
        run = np.where(quotes == 0, carried, run)
        return quotes[run % 2 == 0]


def check_json_items(body: bytes, limit: int) -> None:
    """413 when a JSON array body holds more than `limit` items, before any is parsed. Only bodies with
    `limit` commas or more are scanned: fewer commas cannot separate more items."""
    if body.count(b",") >= limit and (items := json_items(body)) > limit:
        raise LimitExceeded(f"{items} jobs in one request (counted before reading them); the limit is {limit} (TASKPILOT_MAX_BATCH_JOBS)")


def check_csv_rows(data: bytes, limit: int) -> None:
    """413 when a CSV file holds more than `limit` rows below its header, before any is parsed."""
    if data.count(b"\n") > limit and (rows := csv_rows(data)) > limit:
        raise LimitExceeded(
            f"{rows} rows below the header (counted before reading them); the limit is {limit} jobs in one request "
            "(TASKPILOT_MAX_BATCH_JOBS)"
        )


SLICE_JOBS = 5_000
"""Jobs validated per call: one call holds the interpreter lock throughout (pydantic-core does not let go
of it), so 100,000 jobs at once kept the event loop, and /health, waiting 105 ms; 10,000 at a time 19 ms."""


def item_slices(body: bytes, per: int) -> list[tuple[int, int]] | None:
    """Byte ranges of the body's top-level array items, `per` items each (commas between items excluded);
    None when the body is not one JSON array."""
    text = body.strip()
    if not (text.startswith(b"[") and text.endswith(b"]")):
        return None
    state = _State(keep=True)
    data = np.frombuffer(body, dtype=np.uint8)
    for lo in range(0, len(data), BLOCK):
        state.scan(data[lo : lo + BLOCK], lo)
    if state.depth != 0 or state.in_string:
        return None
    commas = np.concatenate(state.at) if state.at else np.empty(0, np.int64)
    first, last = body.index(b"[") + 1, body.rindex(b"]")
    cuts = commas[per - 1 :: per].tolist()  # the comma after every per-th item
    starts, ends = [first, *(c + 1 for c in cuts)], [*cuts, last]
    return list(zip(starts, ends))


def in_slices(parse: Callable[[bytes, int], JobBatch]) -> Callable[[bytes, int], JobBatch]:
    """`parse` (scheduler.core.jobs.parse_jobs) on a body of many jobs, SLICE_JOBS at a time, joined. Each
    call holds the interpreter lock for one slice's decoding and validation at most (a 100,000-job body in
    one call held it for 105 ms, and /health waited). A body with problems is refused with its first
    `max_errors` problems in job order, indexes counted from the body's first job, and the rest counted, as
    one call on the whole body answers it."""

    def parse_in_slices(body: bytes, max_errors: int) -> JobBatch:
        ranges = item_slices(body, SLICE_JOBS) if isinstance(body, bytes) and body.count(b",") > SLICE_JOBS else None
        if ranges is None or len(ranges) < 2:
            return parse(body, max_errors)
        batches: list[JobBatch] = []
        shown: list[dict[str, Any]] = []
        more, exact, first = 0, True, 0
        for a, b in ranges:
            try:
                batch = parse(b"[" + body[a:b] + b"]", max_errors)
            except JobValidationError as exc:
                if any(e.get("index") is None for e in exc.errors):
                    return parse(body, max_errors)  # a problem of the whole body (not JSON): named where it is
                found = [{**e, "index": e["index"] + first} for e in exc.errors]
                room = max(0, max_errors - len(shown))
                shown += found[:room]
                more += len(found) - len(found[:room]) + exc.omitted
                exact = exact and exc.exact
            else:
                batches.append(batch)
            first += SLICE_JOBS  # every slice but the last holds SLICE_JOBS items (item_slices)
        if shown or more:
            raise JobValidationError(shown, omitted=more, exact=exact)
        return concat(batches)

    return parse_in_slices
