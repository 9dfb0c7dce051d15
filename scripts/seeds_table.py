"""Means over seeds, with 95 % confidence intervals, of placement runs' results.json (docs/simulator.md, issue 14).

    for S in 1 2 3 4 5; do
        .venv/bin/python -m scheduler evaluate --scenario grid --policies all --jobs 10000 --seed $S --out /tmp/i14/seed$S
    done
    .venv/bin/python scripts/seeds_table.py /tmp/i14/seed*/results.json

prints a markdown table: one row per policy (in the runs' order) and the constrained reference, each
figure's mean over the runs ± the half-width of its 95 % confidence interval (Student's t, n - 1 degrees
of freedom), the gap to the reference on CO2 incl. idle, and in how many runs the policy's mean completion
met the reference's target (least_loaded's); then the relaxation's lower bound at that target. Every run
must have the same policies and the reference.
"""

import argparse
import json
import sys
from pathlib import Path

from scheduler.core.stats import mean_ci

COLUMNS = (("co2_kg", "job CO2 kg", ",.2f"), ("co2_with_idle_kg", "CO2 incl. idle kg", ",.1f"),
           ("completion_mean_min", "mean completion min", ",.1f"), ("quality_mean", "quality", ".3f"))  # fmt: skip


def table(docs: list[dict]) -> str:
    names = [p["policy"] for p in docs[0]["policies"]]
    if any([p["policy"] for p in d["policies"]] != names or d.get("reference") is None for d in docs):
        raise SystemExit("every run needs the same policies, in the same order, and the constrained reference")
    head = ["policy", *(label for _, label, _ in COLUMNS), "gap to reference", "met the target"]
    rows = [f"| {' | '.join(head)} |", "|---|" + "--:|" * (len(head) - 1)]
    for name in [*names, "constrained_reference"]:
        summaries = [
            d["reference"]["summary"] if name == "constrained_reference" else next(p for p in d["policies"] if p["policy"] == name)
            for d in docs
        ]
        cells = []
        for key, _, spec in COLUMNS:
            mean, half = mean_ci([s[key] for s in summaries])
            cells.append(f"{mean:{spec}} ± {half:{spec}}")
        gaps = [100.0 * (s["co2_with_idle_kg"] / d["reference"]["summary"]["co2_with_idle_kg"] - 1.0) for s, d in zip(summaries, docs)]
        mean, half = mean_ci(gaps)
        met = sum(s["completion_mean_min"] <= d["reference"]["target_completion_mean_min"] for s, d in zip(summaries, docs))
        rows.append(f"| {name} | {' | '.join(cells)} | {mean:+.1f} ± {half:.1f} % | {met} of {len(docs)} |")
    bound = mean_ci([d["reference"]["lower_bound"]["co2_with_idle_kg"] for d in docs])
    above = mean_ci(
        [100.0 * (d["reference"]["summary"]["co2_with_idle_kg"] / d["reference"]["lower_bound"]["co2_with_idle_kg"] - 1.0) for d in docs]
    )
    rows.append(
        f"\nLower bound on CO2 incl. idle at least_loaded's mean completion (Lagrangian relaxation): {bound[0]:,.1f} ± {bound[1]:,.1f} kg; "
        f"the reference is {above[0]:.1f} ± {above[1]:.1f} % above it."
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="results.json of runs with different seeds")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    docs = [json.loads(path.read_text()) for path in args.results]
    print(f"{len(docs)} runs, seeds {', '.join(str(d['seed']) for d in docs)}: mean ± 95 % CI\n")
    print(table(docs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
