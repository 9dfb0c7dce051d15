"""`python -m scheduler evaluate --study gpu-fraction`: the GPU-fraction study (scheduler/studies/gpu_fraction.py).

    python -m scheduler evaluate --study gpu-fraction --tasks 20000 --seed 1 --seeds 5 --out DIR

writes DIR/results.json, DIR/results.csv and DIR/report.html (self-contained) and prints the policy table,
the goals and the win/loss matrix of time. It has flags of its own: cli/evaluate.py hands it the whole
command line when --study names it, so the other studies' flags are refused here by argparse.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

STUDY = "gpu-fraction"


def requested(argv: Sequence[str]) -> bool:
    """Whether the command line asks for this study (`--study gpu-fraction` or `--study=gpu-fraction`)."""
    argv = list(argv)
    return any(a == f"--study={STUDY}" or (a == "--study" and argv[i + 1 : i + 2] == [STUDY]) for i, a in enumerate(argv))


def main(argv: list[str] | None = None) -> int:
    from scheduler.sim.gpu_workload import MAX_SEEDS, MAX_TASKS, POLICY_NAMES, GpuFractionConfig

    defaults = GpuFractionConfig()
    parser = argparse.ArgumentParser(
        prog="python -m scheduler evaluate",
        description="Split tasks between one CPU and four GPUs: round robin, random, greedy, hybrid_ml, dqn against the oracle.",
    )
    parser.add_argument("--study", choices=(STUDY,), required=True)
    parser.add_argument("--tasks", type=int, default=defaults.tasks, help=f"tasks per seed (100..{MAX_TASKS:,})")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="first seed")
    parser.add_argument(
        "--seeds", type=int, default=defaults.seeds, help=f"runs with seeds seed, seed+1, ... (1..{MAX_SEEDS}): means and 95 %% CIs"
    )
    parser.add_argument("--load", type=float, default=defaults.load, help="offered work as a share of what the CPU alone could do")
    parser.add_argument("--policies", default="all", help=f"all, or a comma list of {','.join(POLICY_NAMES)} (the oracle always runs)")
    parser.add_argument("--warmup", type=int, default=defaults.warmup, help="tasks left out of the efficiencies and win/loss")
    parser.add_argument("--dqn-episodes", type=int, default=defaults.dqn_episodes, help="the DQN's pre-training episodes (500 tasks each)")
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json, results.csv, report.html")
    parser.add_argument("--markdown", action="store_true", help="print the table in markdown (as docs/gpu-fraction.md quotes it)")
    parser.add_argument("--progress", action="store_true", help="show progress even when stderr is not a terminal")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    fields = {k: getattr(args, k) for k in ("tasks", "seed", "seeds", "load", "policies", "warmup", "dqn_episodes")}
    try:
        config = GpuFractionConfig(**fields)
    except ValidationError as exc:
        parser.error("; ".join(f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in exc.errors(include_url=False)))

    from scheduler.studies import gpu_fraction_report as report
    from scheduler.studies.gpu_fraction import run_study

    show = args.progress or sys.stderr.isatty()
    document = run_study(
        config, (lambda done, total, name: print(f"{done:,} of {total:,} task runs; now {name}", file=sys.stderr)) if show else None
    )
    report.write_outputs(document, args.out)
    seeds = document["seeds"]
    print(f"GPU-fraction study: {config.tasks:,} tasks x {len(seeds)} seed(s) ({', '.join(map(str, seeds))}), load {config.load}")
    print(report.format_markdown(document) if args.markdown else report.format_table(document))
    goals = document["goals"]
    if "hybrid_met" in goals:
        verdict = "met" if goals["hybrid_met"] else "missed"
        print(f"goal: hybrid_ml at {goals['hybrid_efficiency_time']:.1%} of the oracle's time efficiency (target 95 %): {verdict}")
    if "dqn_beats_greedy" in goals:
        print(f"goal: dqn {'ahead of' if goals['dqn_beats_greedy'] else 'behind'} greedy on mean completion time")
    print(report.format_matrix(document, "time"))
    print(f"studied in {document['elapsed_s']:.1f} s; wrote {args.out}/results.json, results.csv, report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
