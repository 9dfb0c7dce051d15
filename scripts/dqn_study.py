"""The dqn policy against the baselines over seeds, workloads and region maps (docs/simulator.md, issue 14).

    .venv/bin/python scripts/dqn_study.py --seeds 1-10 --out /tmp/dqn-study

runs `python -m scheduler evaluate` (the grid scenario, 10,000 jobs, its defaults otherwise) once per seed,
workload and region map with the policies below and the constrained reference, keeps each run's
results.json under --out, and prints a markdown table per workload and map: each policy's mean over
the seeds with a 95 % confidence interval (Student's t over the seeds), its CO2 incl. idle and mean
completion relative to least_loaded's in the same run, and its gap to the constrained reference; then the
reference's lower bound (scheduler/sim/reference_bound.py) where the runs give one. --persistence adds,
per workload and map, the same weights with the reading at arrival in place of the perfect forecast.
"""

import argparse
import json
import sys
from pathlib import Path

from scheduler.cli import evaluate
from scheduler.core.stats import mean_ci

POLICIES = ("least_loaded", "greenest_free", "round_robin", "tier_agents", "dqn")
WORKLOADS = ("task", "gaia-azure")
MAPS = {"default": None, "europe": "dataset_rl/regions-europe.csv"}


def seeds_of(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def run(seed: int, workload: str, regions: str | None, jobs: int, out: Path) -> dict:
    target = out / f"{workload}-{'default' if regions is None else Path(regions).stem}-{seed}"
    if not (target / "results.json").is_file():
        argv = ["--workload", workload, "--policies", ",".join(POLICIES), "--jobs", str(jobs), "--seed", str(seed), "--out", str(target)]
        argv += [] if regions is None else ["--regions", regions]
        if evaluate.main(argv) != 0:
            raise SystemExit(f"evaluate failed: {' '.join(argv)}")
    return json.loads((target / "results.json").read_text())


def table(docs: list[dict]) -> str:
    rows = [
        "| policy | CO2+idle kg | vs least_loaded | mean completion min | vs least_loaded | gap to reference |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    names = [*POLICIES, "constrained_reference"]
    for name in names:
        co2, compl, rel_co2, rel_compl, gap = [], [], [], [], []
        for d in docs:
            by = {p["policy"]: p for p in d["policies"]}
            ref = d["reference"]["summary"]
            s = ref if name == "constrained_reference" else by[name]
            ll = by["least_loaded"]
            co2.append(s["co2_with_idle_kg"])
            compl.append(s["completion_mean_min"])
            rel_co2.append(100.0 * (s["co2_with_idle_kg"] / ll["co2_with_idle_kg"] - 1.0))
            rel_compl.append(100.0 * (s["completion_mean_min"] / ll["completion_mean_min"] - 1.0))
            gap.append(100.0 * (s["co2_with_idle_kg"] / ref["co2_with_idle_kg"] - 1.0))
        cells = [mean_ci(x) for x in (co2, rel_co2, compl, rel_compl, gap)]
        rows.append(
            f"| {name} | {cells[0][0]:,.1f} ± {cells[0][1]:,.1f} | {cells[1][0]:+.1f} ± {cells[1][1]:.1f} % | "
            f"{cells[2][0]:,.1f} ± {cells[2][1]:,.1f} | {cells[3][0]:+.1f} ± {cells[3][1]:.1f} % | "
            f"{cells[4][0]:+.1f} ± {cells[4][1]:.1f} % |"
        )
    bound = [d["reference"]["lower_bound"]["co2_with_idle_kg"] for d in docs if d["reference"].get("lower_bound")]
    if len(bound) == len(docs):
        refs = [d["reference"]["summary"]["co2_with_idle_kg"] for d in docs]
        (mean, half), (gap, gap_half) = mean_ci(bound), mean_ci([100.0 * (b / r - 1.0) for b, r in zip(bound, refs)])
        label = "lower bound (no schedule meeting the target emits less)"
        rows.append(f"| {label} | {mean:,.1f} ± {half:,.1f} | | | | {gap:+.1f} ± {gap_half:.1f} % |")
    return "\n".join(rows)


def persistence_run(seed: int, workload: str, regions: str | None, jobs: int) -> dict:
    """The shipped dqn with a persistence forecast in its state (scheduler/sim/dqn_policy.py FORECASTS) on the
    very problem `evaluate` builds for this seed, workload and map: its summary, as results.json has them."""
    from scheduler.core.energy import build_machines
    from scheduler.placement.grid_features import load_dqn
    from scheduler.placement.world import build_world
    from scheduler.sim.config import EvaluationConfig
    from scheduler.sim.dqn_policy import DQNPlacement
    from scheduler.sim.metrics import summarise
    from scheduler.sim.simulator import build_problem, simulate
    from scheduler.studies.placement import build_clock, build_workload, grid_inputs, seed_streams

    config = EvaluationConfig(workload=workload, jobs=jobs, seed=seed)
    world = build_world(evaluate.world_settings(argparse.Namespace(data_dir=evaluate.DATA_DIR, regions=regions), config))
    grid, zones = grid_inputs(world, "grid")
    wl = build_workload(config, world, seed_streams(seed).workload)
    problem = build_problem(world.fleet, build_machines(world.fleet), build_clock(config, world, grid, zones), wl)
    agent = load_dqn()
    run = simulate(problem, DQNPlacement(problem, agent, agent.meta["lam_g_per_min"], forecast="persistence"))
    return summarise(problem, run).as_dict()


def forecast_table(docs: list[dict], persistence: list[dict]) -> str:
    """dqn with its perfect forecast (the evaluate runs) against the same weights with persistence, per seed."""
    rows = ["| policy | CO2+idle kg | vs least_loaded | mean completion min | vs least_loaded |", "|---|--:|--:|--:|--:|"]
    for name in ("least_loaded", "greenest_free", "dqn", "dqn (persistence forecast)"):
        co2, compl, rel_co2, rel_compl = [], [], [], []
        for d, p in zip(docs, persistence):
            by = {x["policy"]: x for x in d["policies"]}
            s, ll = (p if name.startswith("dqn (") else by[name]), by["least_loaded"]
            co2.append(s["co2_with_idle_kg"])
            compl.append(s["completion_mean_min"])
            rel_co2.append(100.0 * (s["co2_with_idle_kg"] / ll["co2_with_idle_kg"] - 1.0))
            rel_compl.append(100.0 * (s["completion_mean_min"] / ll["completion_mean_min"] - 1.0))
        c = [mean_ci(x) for x in (co2, rel_co2, compl, rel_compl)]
        rows.append(
            f"| {name} | {c[0][0]:,.1f} ± {c[0][1]:,.1f} | {c[1][0]:+.1f} ± {c[1][1]:.1f} % | "
            f"{c[2][0]:,.1f} ± {c[2][1]:,.1f} | {c[3][0]:+.1f} ± {c[3][1]:.1f} % |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-10", help="a seed or a range, e.g. 1-10")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--maps", default=",".join(MAPS), help=f"comma list of {', '.join(MAPS)}")
    parser.add_argument("--out", type=Path, required=True, help="folder for each run's results (runs already there are reused)")
    parser.add_argument("--persistence", action="store_true", help="also the dqn with a persistence forecast in its state")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    for workload in args.workloads.split(","):
        for label in args.maps.split(","):
            docs = [run(seed, workload, MAPS[label], args.jobs, args.out) for seed in seeds_of(args.seeds)]
            print(f"\n{workload}, {label} map, {len(docs)} seeds ({args.seeds}), {args.jobs:,} jobs: mean ± 95 % CI\n")
            print(table(docs))
            if args.persistence:
                seeds = seeds_of(args.seeds)
                persistence = [persistence_run(seed, workload, MAPS[label], args.jobs) for seed in seeds]
                print(f"\n{workload}, {label} map: dqn with a persistence forecast in its state, same weights and runs\n")
                print(forecast_table(docs, persistence))
    return 0


if __name__ == "__main__":
    sys.exit(main())
