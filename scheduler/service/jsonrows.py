"""JsonRows: encode n JSON objects of one layout at once, with numpy instead of per-object Python.

A 10,000-job /run answers with 1.5 million numbers; building a dict per job and a float object per
number costs about 90 us per job on this project's machines, ten times the budget. Every decision
object has the same layout, so we describe it once (literal text, number fields, strings picked from a
table, free text) and fill it column-wise: each field gets a fixed width, padded with spaces, which JSON
allows between tokens. Numbers print in fixed point with trailing zeros trimmed to one decimal
("0.65", "1.0"), the values of Python's round(x, decimals). `tests/scheduler/service/test_jsonrows.py` checks
the output against orjson on plain dicts.
"""

from collections.abc import Sequence

import numpy as np
import orjson

_SPACE, _ZERO, _DOT, _MINUS = 32, 48, 46, 45
_MAX_ABS = 1e12
"""Numbers beyond this (never reached by scores, kWh or loads) are printed one by one with orjson."""


class JsonRows:
    """Layout of one JSON object, filled for n rows; encode() returns the n texts joined by commas."""

    def __init__(self, n: int):
        self.n = n
        # Each part: literal bytes, (n, width) uint8 cells, or a _Number formatted at encode() time
        # together with every other number of the same precision (one numpy pass per precision).
        self._parts: list[np.ndarray | bytes | _Number] = []

    def lit(self, text: str | bytes) -> None:
        """Text that is the same in every row (keys, braces, constants)."""
        data = text.encode() if isinstance(text, str) else text
        if self._parts and isinstance(self._parts[-1], bytes):
            self._parts[-1] += data
        else:
            self._parts.append(data)

    def num(self, values: np.ndarray, decimals: int, present: np.ndarray | None = None) -> None:
        """Finite numbers, rounded half-to-even to `decimals` (0 prints integers). Rows where
        `present` is False get blank space instead (the caller blanks the key too)."""
        values = np.asarray(values, dtype=np.float64)
        if present is not None:
            values = np.where(present, values, 0.0)
        assert values.shape == (self.n,) and np.isfinite(values).all(), "JsonRows.num needs finite (n,) values"
        if self.n and np.abs(values).max() >= _MAX_ABS:
            cells = _cells([orjson.dumps(round(v, decimals) if decimals else int(v)) for v in values.tolist()])
            if present is not None:
                cells[~present] = _SPACE
            self._parts.append(cells)
        else:
            self._parts.append(_Number(values, decimals, present))

    def exact(self, values: np.ndarray) -> None:
        """A client's own numbers, unrounded: the fixed-point path when 6 decimals hold them exactly
        (the usual case: integers, a few decimals), else Python's shortest round-trip text per value."""
        values = np.asarray(values, dtype=np.float64)
        if np.array_equal(np.round(values, 6), values) and (self.n == 0 or np.abs(values).max() < _MAX_ABS):
            self.num(values, 6)
        else:
            self._parts.append(_cells([orjson.dumps(v) for v in values.tolist()]))

    def pick(self, table: Sequence[bytes], codes: np.ndarray) -> None:
        """One of a few JSON fragments per row, e.g. a server name, `true`/`false`, `null`."""
        width = max(len(t) for t in table)
        cells = np.frombuffer(b"".join(t.ljust(width) for t in table), np.uint8).reshape(len(table), width)
        self._parts.append(cells[np.asarray(codes, dtype=np.intp)])

    def text(self, strings: Sequence[str]) -> None:
        """Free text per row, JSON-escaped."""
        self._parts.append(_cells([orjson.dumps(s) for s in strings]))

    def fragments(self, fragments: Sequence[bytes]) -> None:
        """One ready JSON value per row (e.g. a string or null, a small array)."""
        self._parts.append(_cells(list(fragments)))

    def _format_numbers(self) -> dict[int, np.ndarray]:
        """Cells of every pending number column, by id: one _fixed call per precision."""
        groups: dict[int, list[_Number]] = {}
        for p in self._parts:
            if isinstance(p, _Number):
                groups.setdefault(p.decimals, []).append(p)
        out = {}
        for decimals, numbers in groups.items():
            stacked = np.stack([x.values for x in numbers], axis=1)  # (n, k)
            cells = _fixed(stacked.ravel(), decimals).reshape(self.n, len(numbers), -1)
            for j, x in enumerate(numbers):
                column = cells[:, j, :]
                if x.present is not None:
                    column = column.copy()
                    column[~x.present] = _SPACE
                out[id(x)] = column
        return out

    def encode(self) -> bytes | memoryview:
        """The rows' JSON texts separated by commas (no enclosing brackets). A view of the numpy buffer,
        not a copy: a 1,000-job full chunk is about 4 MB."""
        if self.n == 0:
            return b""
        formatted = self._format_numbers()
        cells = [formatted[id(p)] if isinstance(p, _Number) else p for p in self._parts]
        widths = [len(c) if isinstance(c, bytes) else c.shape[1] for c in cells]
        # One template row holds every literal; copying it into all rows is a fast contiguous fill,
        # after which only the variable columns are written.
        template = np.zeros(sum(widths) + 1, np.uint8)
        template[-1] = ord(",")
        offsets = np.cumsum([0, *widths])
        for c, start in zip(cells, offsets):
            if isinstance(c, bytes):
                template[start : start + len(c)] = np.frombuffer(c, np.uint8)
        out = np.empty((self.n, len(template)), np.uint8)
        out[:] = template
        for c, start, width in zip(cells, offsets, widths):
            if not isinstance(c, bytes):
                out[:, start : start + width] = c
        return memoryview(out.reshape(-1))[:-1]


class _Number:
    """A number column waiting to be formatted with the others of its precision."""

    __slots__ = ("values", "decimals", "present")

    def __init__(self, values: np.ndarray, decimals: int, present: np.ndarray | None):
        self.values, self.decimals, self.present = values, decimals, present


def _cells(fragments: list[bytes]) -> np.ndarray:
    """(n, width) uint8 of JSON fragments padded with spaces."""
    width = max(map(len, fragments), default=1)
    cells = np.array(fragments, dtype=f"S{width}").view(np.uint8).reshape(len(fragments), width)
    cells[cells == 0] = _SPACE  # numpy pads with NUL; orjson escapes any NUL inside a string
    return cells


def _fixed(values: np.ndarray, decimals: int) -> np.ndarray:
    """Right-aligned fixed-point text of each value, trailing fraction zeros blanked (one kept)."""
    scale = 10**decimals
    scaled = np.rint(np.abs(values) * scale).astype(np.int64)
    negative = (values < 0) & (scaled > 0)
    whole, frac = np.divmod(scaled, scale)
    frac = frac.astype(np.int32)  # < 10**6: 32-bit division is about twice as fast
    if whole.max(initial=0) < 2**31:
        whole = whole.astype(np.int32)
    n_int = max(1, len(str(int(whole.max())))) if len(values) else 1
    sign = 1 if negative.any() else 0
    width = sign + n_int + (decimals + 1 if decimals else 0)
    out = np.full((len(values), width), _SPACE, np.uint8)
    rest = whole
    first = np.full(len(values), sign + n_int - 1)  # column of the leading digit
    for j in range(n_int):
        col = sign + n_int - 1 - j
        digit_present = (rest > 0) | (j == 0)
        rest, digit = np.divmod(rest, 10)
        out[:, col] = np.where(digit_present, _ZERO + digit, _SPACE)
        first = np.where(digit_present, col, first)
    if sign:
        rows = np.flatnonzero(negative)
        out[rows, first[rows] - 1] = _MINUS
    if decimals:
        base = sign + n_int
        out[:, base] = _DOT
        trailing = np.ones(len(values), bool)  # still inside the run of trailing zeros
        for j in range(decimals - 1, -1, -1):
            frac, digit = np.divmod(frac, 10)
            trailing &= (digit == 0) & (j > 0)
            out[:, base + 1 + j] = np.where(trailing, _SPACE, _ZERO + digit)
    return out
