"""Figures, the printed table and results.json.

A figure is one measured quantity with its samples (one per repeat); min, median and max are taken over
the samples, and a target, when there is one, is judged on the median. results.json keeps the same
structure from run to run: schema version, date, mode, plan, machine, workload, figures, summary.
"""

import datetime as dt
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Target:
    op: str  # ">=" or "<="
    value: float

    def met(self, x: float) -> bool:
        return x >= self.value if self.op == ">=" else x <= self.value


@dataclass
class Figure:
    name: str  # "<benchmark>.<quantity>"
    unit: str
    target: Target | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def passed(self) -> bool | None:
        return None if self.target is None else self.target.met(self.median)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "benchmark": self.name.split(".")[0],
            "unit": self.unit,
            "target": None if self.target is None else {"op": self.target.op, "value": self.target.value},
            "pass": self.passed,
            "repeats": len(self.samples),
            "median": _round(self.median),
            "min": _round(min(self.samples)),
            "max": _round(max(self.samples)),
            "samples": [_round(x) for x in self.samples],
            "note": self.note,
        }


def write_results(path: Path, figures: list[Figure], context: dict[str, Any]) -> None:
    """results.json: the context (mode, plan, machine, workload), then every figure and a pass count."""
    judged = [f.passed for f in figures if f.passed is not None]
    document = {
        "schema_version": SCHEMA_VERSION,
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        **context,
        "figures": [f.as_dict() for f in figures],
        "summary": {"passed": sum(judged), "failed": len(judged) - sum(judged), "untargeted": len(figures) - len(judged)},
    }
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")


def format_table(figures: list[Figure]) -> str:
    header = ("figure", "median", "min", "max", "unit", "n", "target", "pass")
    rows = [header] + [
        (
            f.name,
            show_number(f.median),
            show_number(min(f.samples)),
            show_number(max(f.samples)),
            f.unit,
            str(len(f.samples)),
            "" if f.target is None else f"{f.target.op} {show_number(f.target.value)}",
            {True: "PASS", False: "FAIL", None: "-"}[f.passed],
        )
        for f in figures
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    right = {1, 2, 3, 5, 6}
    lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _round(x: float) -> float:
    """Four significant digits: enough for a benchmark, and small diffs in the committed file."""
    return float(f"{x:.4g}")


def show_number(x: float) -> str:
    """A figure as the table prints it: thousands separated above 1,000, three significant digits below 100."""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"
