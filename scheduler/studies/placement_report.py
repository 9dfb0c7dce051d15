"""The placement evaluation's output: its result (`EvaluationResult`: results.json's document and
results.csv), the table a terminal shows (`format_table`) and the three files (`write_outputs`, report.html
from report_template.html). placement.py runs the policies and builds the result.
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scheduler.core.states import LATENCIES
from scheduler.sim import metrics as sim_metrics
from scheduler.sim.config import EvaluationConfig
from scheduler.sim.reference import NAME as REFERENCE_NAME
from scheduler.sim.reference import Reference
from scheduler.studies import report_html
from scheduler.studies.report_html import CHART_JS

SCHEMA_VERSION = 1
UNITS = {
    "energy": "kWh",
    "co2": "kg CO2eq (per-job arrays in g)",
    "time": "minutes",
    "throughput": "jobs per hour",
    "cost": "price x kWh, in the reference price series' unitless currency",
}
LOWER_BOUND_HOLDS_FOR = "any non-preemptive schedule of these jobs on their pools, any start >= arrival, ignoring capacity"
TABLE_COLUMNS = (
    ("policy", "policy", "s"),
    ("energy_kwh", "energy kWh", ",.1f"),
    ("co2_kg", "CO2 kg", ",.2f"),
    ("co2_with_idle_kg", "CO2+idle kg", ",.1f"),
    ("cost", "cost", ",.1f"),
    ("completion_mean_min", "compl. min", ",.1f"),
    ("completion_p95_min", "p95 min", ",.1f"),
    ("wait_mean_min", "wait min", ",.1f"),
    ("throughput_per_h", "jobs/h", ",.2f"),
    ("utilisation", "util", ".3f"),
    ("starved", "starved", ",d"),
    ("slo_miss", "SLO miss", ".3f"),
    ("quality_mean", "quality", ".3f"),
)


@dataclass
class EvaluationResult:
    config: EvaluationConfig
    seed: int
    workload: dict[str, Any]
    clock: dict[str, Any]
    summaries: list[sim_metrics.Summary]
    lower_bound_co2_kg: float
    learning: dict[str, Any]
    win_loss: dict[str, Any]
    server_utilisation: dict[str, list[float]]
    reference: Reference | None = None  # config.reference: the constrained reference and each policy's gap to it
    elapsed_s: dict[str, float] = field(default_factory=dict)  # wall time per policy; kept out of to_json

    def to_json(self) -> dict[str, Any]:
        """Everything but wall times: the same seed gives the same document, bit for bit."""
        return {
            "schema_version": SCHEMA_VERSION,
            "config": self.config.model_dump(mode="json"),
            "seed": self.seed,
            "workload": self.workload,
            "clock": self.clock,
            "units": UNITS,
            "slo_stretch": dict(zip(LATENCIES, sim_metrics.SLO_STRETCH)),
            "policies": [s.as_dict() for s in self.summaries],
            "lower_bound": {"co2_kg": self.lower_bound_co2_kg, "holds_for": LOWER_BOUND_HOLDS_FOR},
            "learning_curve": self.learning,
            "win_loss": self.win_loss,
            "server_utilisation": self.server_utilisation,
            "reference": None if self.reference is None else self.reference.to_json(self.summaries),
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        rows = [s.as_dict() for s in self.summaries]
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()


def format_table(result: EvaluationResult) -> str:
    """The per-policy table people read in a terminal; lower is better except jobs/h, util, quality. With the
    constrained reference: its row, and each policy's gap to it on CO2+idle ("slower": the policy's mean
    completion is over the reference's target, least_loaded's)."""
    ref = result.reference
    rows = [*result.summaries, *([ref.summary] if ref else [])]
    head = [label for _, label, _ in TABLE_COLUMNS] + (["gap to ref"] if ref else [])
    body = [[format(s.as_dict()[key], spec) for key, _, spec in TABLE_COLUMNS] for s in rows]
    if ref:
        for cells, gap in zip(body, ref.gaps(rows)):
            cells.append(f"{gap['percent']:+.1f} %" + ("" if gap["meets_completion"] else " slower"))
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if ref:
        found = (
            "the hindsight search" if ref.weight_g_per_min is None else f"the hindsight search (weight {ref.weight_g_per_min:.4g} g/min)"
        )
        found = f"{ref.source}'s own schedule" if ref.weight_g_per_min is None else found
        lines.append(
            f"{REFERENCE_NAME}: least CO2+idle found with hindsight at a mean completion <= least_loaded's "
            f"{ref.target_completion_mean_min:,.1f} min, from {found}; a heuristic reference, not a bound"
        )
        lines.append(
            f"lower bound at that completion (Lagrangian relaxation, capacity relaxed): {ref.lower_bound_kg:,.1f} kg CO2+idle; "
            f"no schedule meeting the target emits less, so the reference is at most "
            f"{100.0 * (ref.summary.co2_with_idle_kg / ref.lower_bound_kg - 1.0):.1f} % above the best one"
        )
    if any(s.policy == "oracle" for s in result.summaries):
        lines.append("oracle: the job-CO2 oracle (least CO2 per job with hindsight); it ignores completion")
    lines.append(f"hindsight lower bound on CO2 (any policy, ignores capacity): {result.lower_bound_co2_kg:,.2f} kg")
    return "\n".join(lines)


def write_outputs(result: EvaluationResult, out_dir: Path) -> None:
    """results.json, results.csv and report.html (report_html.py)."""
    report_html.write_files(out_dir, result.to_json(), result.to_csv(), TEMPLATE)


TEMPLATE = Path(__file__).with_name("report_template.html")


def render_html(document: dict[str, Any], chart_js: Path = CHART_JS) -> str:
    """report.html: the placement template with the results and Chart.js inlined (scheduler/studies/report_html.py)."""
    return report_html.render(TEMPLATE, document, chart_js)
