"""`python -m scheduler train-dqn --out WEIGHTS.npz`: pre-train the `dqn` placement policy offline.

CleanRL's shape: the options are one dataclass (`TrainArgs`), and the loop is flat: for each training
run, build a simulator problem (a workload, the grid clock at a training hour, the region map), run the
event loop with the learning policy (scheduler/sim/dqn_policy.py: episodes are windows of jobs, the
reward is the scored objective), print the run's figures, go on with the same agent. Then save.

Training never sees an evaluation's inputs: its runs take seeds from TRAIN_SEED_BASE up and clock starts
in 2022 (TRAIN_HOURS), where `python -m scheduler evaluate` runs start at hour 0 (2021-01-01) by default
and the study in docs/simulator.md uses seeds 1..10. Deterministic: the same arguments give the same
weights, bit for bit (tests/scheduler/sim/test_dqn_policy.py).
"""

import argparse
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from rl.dqn import DQNConfig
from scheduler.core.energy import build_machines
from scheduler.core.errors import DatasetError
from scheduler.placement.grid_features import feature_names
from scheduler.placement.world import build_world
from scheduler.settings import ROOT
from scheduler.sim.config import EvaluationConfig
from scheduler.sim.dqn_policy import DEFAULT_EPISODE_JOBS, DEFAULT_LAMBDA, REWARD_SCALE_G, DQNPlacement, fresh_agent, pool_width
from scheduler.sim.metrics import summarise
from scheduler.sim.simulator import build_problem, simulate
from scheduler.studies.placement import DATA_DIR, build_clock, build_workload, grid_inputs, seed_streams

TRAIN_SEED_BASE = 1_000_000
"""Training run i uses seed TRAIN_SEED_BASE + seed x 1,000 + i: never one of the small seeds studies use."""
TRAIN_HOURS = (8_760, 17_520)
"""Clock starts of training runs: hours of 2022 in the grid series (evaluations default to 2021-01-01)."""


@dataclass(frozen=True)
class TrainArgs:
    out: Path
    """Where the weights file goes (.npz)."""
    seed: int = 0
    """Seed of the agent (initial weights, exploration, replay) and of the training runs' workloads."""
    runs: int = 16
    """Training runs (simulations), each of `jobs` jobs; the workloads alternate."""
    jobs: int = 10_000
    workloads: tuple[str, ...] = ("task", "gaia-azure")
    lam: float = DEFAULT_LAMBDA
    """g CO2 per minute of completion in the reward."""
    episode_jobs: int = DEFAULT_EPISODE_JOBS
    regions: Path | None = None
    """server,zone CSV (default: the data directory's regions.csv)."""
    data_dir: Path = DATA_DIR


def dqn_config(total_steps: int) -> DQNConfig:
    """The agent's hyper-parameters for a training of `total_steps` placements: exploration decays over
    the first 40 % of them, as CleanRL's exploration_fraction does."""
    return DQNConfig(
        hidden=(64, 64),
        learning_rate=5e-4,
        gamma=0.9,
        buffer_size=50_000,
        batch_size=64,
        learning_starts=2_000,
        train_frequency=4,
        target_network_frequency=250,
        start_e=1.0,
        end_e=0.02,
        exploration_steps=int(0.4 * total_steps),
    )


def train(args: TrainArgs, log=print) -> dict:
    """Run the training loop; returns the meta saved with the weights."""
    rng = np.random.default_rng(args.seed)
    agent, world = None, None
    history = []
    for i in range(args.runs):
        # One training run: a fresh workload and clock, the same learning agent.
        workload = args.workloads[i % len(args.workloads)]
        run_seed = TRAIN_SEED_BASE + args.seed * 1_000 + i
        start_hour = int(rng.integers(*TRAIN_HOURS))
        config = EvaluationConfig(workload=workload, jobs=args.jobs, seed=run_seed, start_hour=start_hour, policies="least_loaded")
        if world is None:
            world = build_world(_settings(args, run_seed))
        grid, regions = grid_inputs(world, "grid")
        wl = build_workload(config, world, seed_streams(run_seed).workload, args.data_dir)
        problem = build_problem(world.fleet, build_machines(world.fleet), build_clock(config, world, grid, regions), wl)
        if agent is None:
            agent = fresh_agent(problem, dqn_config(args.runs * args.jobs), args.seed)
        policy = DQNPlacement(problem, agent, args.lam, learn=True, episode_jobs=args.episode_jobs)
        started = time.perf_counter()
        summary = summarise(problem, simulate(problem, policy))
        row = {
            "run": i,
            "workload": workload,
            "seed": run_seed,
            "start_hour": start_hour,
            "mean_reward": float(np.mean(policy.rewards)),
            "co2_with_idle_kg": summary.co2_with_idle_kg,
            "completion_mean_min": summary.completion_mean_min,
            "epsilon": agent.epsilon(),
        }
        history.append(row)
        log(
            f"run {i + 1}/{args.runs} {workload:<10} hour {start_hour:>5}: mean reward {row['mean_reward']:8.3f}  "
            f"CO2+idle {summary.co2_with_idle_kg:8.1f} kg  completion {summary.completion_mean_min:8.1f} min  "
            f"epsilon {row['epsilon']:.3f}  loss {agent.last_loss:.4f}  {time.perf_counter() - started:.1f} s"
        )
    width = pool_width(problem)
    meta = {
        "policy": "dqn",
        "lam_g_per_min": args.lam,
        "reward_scale_g": REWARD_SCALE_G,
        "episode_jobs": args.episode_jobs,
        "features": list(feature_names(width)),
        "trained_on": {k: (_shown(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v) for k, v in asdict(args).items()},
        "history": history,
    }
    agent.save(args.out, meta)
    return meta


def _shown(path: Path) -> str:
    """A path as the weights file records it: relative to the project, else its name alone (a file that
    ships, and that GET /agents describes, names no directory of the machine it was made on)."""
    absolute = path.resolve()
    return str(absolute.relative_to(ROOT)) if absolute.is_relative_to(ROOT) else path.name


def _settings(args: TrainArgs, seed: int):
    from scheduler.cli.evaluate import world_settings  # the evaluation's world, built the same way

    return world_settings(argparse.Namespace(data_dir=args.data_dir, regions=None if args.regions is None else str(args.regions)),
                          EvaluationConfig(seed=seed))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler train-dqn", description=__doc__.splitlines()[0])
    defaults = {f.name: f.default for f in fields(TrainArgs)}
    parser.add_argument("--out", type=Path, required=True, help="weights file to write (.npz)")
    parser.add_argument("--seed", type=int, default=defaults["seed"])
    parser.add_argument("--runs", type=int, default=defaults["runs"], help="training simulations")
    parser.add_argument("--jobs", type=int, default=defaults["jobs"], help="jobs per training simulation")
    parser.add_argument("--workloads", default=",".join(defaults["workloads"]), help="comma list of task, poisson, gaia-azure, gaia-pai")
    parser.add_argument("--lam", type=float, default=defaults["lam"], help="g CO2 per minute of completion in the reward")
    parser.add_argument("--episode-jobs", type=int, default=defaults["episode_jobs"], help="jobs per episode (window)")
    parser.add_argument("--regions", type=Path, help="server,zone CSV (default: regions.csv in --data-dir)")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    ns = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if ns.runs < 1 or ns.jobs < 1 or ns.episode_jobs < 1 or ns.lam < 0:
        parser.error("--runs, --jobs and --episode-jobs must be >= 1 and --lam >= 0")
    workloads = tuple(w.strip() for w in ns.workloads.split(",") if w.strip())
    args = TrainArgs(ns.out, ns.seed, ns.runs, ns.jobs, workloads, ns.lam, ns.episode_jobs, ns.regions, ns.data_dir)
    started = time.perf_counter()
    try:
        train(args)
    except (DatasetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    shown = args.out.relative_to(ROOT) if args.out.is_absolute() and args.out.is_relative_to(ROOT) else args.out
    print(f"trained in {time.perf_counter() - started:.1f} s; wrote {shown} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
