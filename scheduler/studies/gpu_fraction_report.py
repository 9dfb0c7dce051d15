"""The GPU-fraction study's table (terminal and markdown), CSV and files (results.json, results.csv and a
self-contained report.html from gpu_fraction_template.html), apart from the numbers in gpu_fraction.py."""

import csv
import io
from pathlib import Path
from typing import Any

from scheduler.studies import report_html

COLUMNS = (
    ("time_after_s", "time s", ".2f"),
    ("efficiency_time", "eff. time", ".3f"),
    ("energy_kj", "energy kJ", ",.0f"),
    ("efficiency_energy", "eff. energy", ".3f"),
    ("cost_usd", "cost USD", ",.2f"),
    ("efficiency_cost", "eff. cost", ".3f"),
    ("makespan_s", "makespan s", ",.0f"),
    ("fraction_mean", "GPU share", ".2f"),
    ("split_share", "split", ".2f"),
    ("fraction_r2", "R² vs oracle", ".2f"),
    ("elapsed_s", "run s", ".1f"),
)
"""The table's columns: time is the mean completion (waiting included) after the warm-up; energy, cost and
makespan are totals over every task; 'split' is the share of tasks with 0 < fraction < 1; 'R² vs oracle' is
the fraction's R² against the oracle's fraction for the same task, after the warm-up."""


def _cells(row: dict[str, Any], seeds: int) -> list[str]:
    cells = [row["policy"]]
    for key, _, spec in COLUMNS:
        text = format(row[key], spec)
        if seeds > 1 and key != "elapsed_s":
            text += f" ±{format(row[key + '_ci'], spec.lstrip(','))}"
        cells.append(text)
    return cells


def format_table(document: dict[str, Any]) -> str:
    """Policy x figure for a terminal: means over the seeds, ± the 95 % confidence interval's half-width."""
    head = ["policy", *(label for _, label, _ in COLUMNS)]
    body = [_cells(row, len(document["seeds"])) for row in document["table"]]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_markdown(document: dict[str, Any]) -> str:
    """The same table in markdown, as docs/gpu-fraction.md quotes it."""
    head = ["policy", *(label for _, label, _ in COLUMNS)]
    rows = [_cells(row, len(document["seeds"])) for row in document["table"]]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "--:|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def format_matrix(document: dict[str, Any], metric: str) -> str:
    """The win/loss matrix of one metric (or "metrics_won"), rows beating columns, for a terminal."""
    names, values = document["policies"], document["win_loss"][metric]
    spec = ".1f" if metric == "metrics_won" else ".0%"
    head = [f"{metric}: row beats column", *names]
    body = [[name, *(("–" if i == j else format(v, spec)) for j, v in enumerate(row))] for i, (name, row) in enumerate(zip(names, values))]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in [head, *body])


def to_csv(document: dict[str, Any]) -> str:
    """One row per seed and policy, every figure."""
    rows = [{"seed": s["seed"], "policy": name, **figures} for s in document["per_seed"] for name, figures in s["policies"].items()]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


TEMPLATE = Path(__file__).with_name("gpu_fraction_template.html")


def write_outputs(document: dict[str, Any], out_dir: Path) -> None:
    """results.json, results.csv and report.html (self-contained: report_html.py)."""
    report_html.write_files(out_dir, document, to_csv(document), TEMPLATE)
