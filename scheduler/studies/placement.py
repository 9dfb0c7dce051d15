"""Evaluate placement policies in the simulator: one config, one seed, every policy on the same jobs and clock.

`run_evaluation` is what POST /simulate and the CLI (`python -m scheduler.evaluate`) call; the result
becomes results.json, results.csv and a self-contained report.html (placement_report.py). Randomness comes
from one seed: the workload and each policy get their own stream spawned from it, so a policy's result
does not depend on which other policies ran, and the tier agents are pre-trained from it too
(`pretrain_tier_agents`), so nothing of the server's world but its data enters a run. A seed that was
not given is drawn and reported, so any run can be replayed bit for bit, in the CLI or over HTTP.
`check_config` refuses, cheaply and up front, a config whose data is not there.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rl.agent import AgentConfig, TierAgent
from scheduler.core import units
from scheduler.core.energy import build_machines
from scheduler.core.errors import EvaluationCancelled
from scheduler.core.states import TIERS
from scheduler.data import workloads
from scheduler.data.grid import GridSeries
from scheduler.data.power_curves import load_power_curve
from scheduler.placement.engine import World
from scheduler.placement.pretrain import pretrain_agents
from scheduler.placement.scenario import GridScenario
from scheduler.placement.world import WORLD_STREAMS
from scheduler.settings import ROOT
from scheduler.sim import metrics as sim_metrics
from scheduler.sim.config import POLICIES, EvaluationConfig, resolve_seed
from scheduler.sim.policies import TierAgents, make_policy
from scheduler.sim.reference import NAME as REFERENCE_NAME
from scheduler.sim.reference import Reference, constrained_reference
from scheduler.sim.signal_clock import Clock, grid_clock, reference_clock
from scheduler.sim.simulator import Problem, Run, build_problem, simulate
from scheduler.studies.placement_report import EvaluationResult

DATA_DIR = ROOT / "dataset_rl"
SHARED_GAIA_DIR = ROOT.parent / "shared" / "data" / "workloads" / "gaia"
"""Full GAIA traces, used when more jobs are asked for than the shipped 10,000-row samples hold."""


@dataclass(frozen=True)
class Streams:
    """The independent random streams of one evaluation, all spawned from its seed."""

    workload: np.random.Generator
    policies: dict[str, np.random.Generator]


def pretrain_tier_agents(world: World, seed: int, episodes: int) -> tuple[TierAgent, ...]:
    """The tier agents of a run with this seed: pre-trained on the reference scenario from the stream
    build_world takes for the same seed (its first child), with the default AgentConfig, so the CLI
    (whose world is built from the run's seed) and a server (built from its own TASKPILOT_SEED) run the
    same agents. Tests check this against build_world."""
    reference_stream = np.random.SeedSequence(seed).spawn(WORLD_STREAMS)[0]
    return pretrain_agents(world.fleet, world.signals, episodes, np.random.default_rng(reference_stream), AgentConfig())


def seed_streams(seed: int) -> Streams:
    """The workload's and each policy's stream: children of `seed` after the ones build_world takes."""
    workload, policies = np.random.SeedSequence(seed).spawn(WORLD_STREAMS + 2)[WORLD_STREAMS:]
    return Streams(
        np.random.default_rng(workload),
        {name: np.random.default_rng(s) for name, s in zip(POLICIES, policies.spawn(len(POLICIES)))},
    )


def run_evaluation(
    world: World,
    grid: GridSeries | None,
    config: EvaluationConfig,
    *,
    regions: np.ndarray | None = None,
    data_dir: Path = DATA_DIR,
    workload: workloads.Workload | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> EvaluationResult:
    """Simulate config.policies on one workload and clock; grid and regions (zone per server) are needed
    for the grid scenario. `workload` overrides config.workload (the CLI's CSV files). progress(done,
    total, policy) is called between chunks of jobs; cancel() returning True stops with EvaluationCancelled."""
    seed = resolve_seed(config.seed)
    config = config.model_copy(update={"seed": seed})
    streams = seed_streams(seed)
    fleet = world.fleet
    wl = workload if workload is not None else build_workload(config, world, streams.workload, data_dir)
    clock = build_clock(config, world, grid, regions)
    curve = load_power_curve(data_dir) if config.power_curve == "specpower" else None
    problem = build_problem(fleet, build_machines(fleet, curve), clock, wl)
    pretrained = pretrain_tier_agents(world, seed, config.pretrain_episodes) if "tier_agents" in config.policies else ()
    total, done = len(wl) * config.job_runs(), 0
    runs: dict[str, Run] = {}
    agent_reward, elapsed = None, {}
    # least_loaded's mean completion is the reference's constraint: run (not reported) when it is not listed.
    extra = ("least_loaded",) if config.reference and "least_loaded" not in config.policies else ()
    for name in (*config.policies, *extra):
        policy = make_policy(name, problem, streams.policies[name], pretrained)

        def on_chunk(jobs: int, name: str = name, before: int = done) -> None:
            if cancel is not None and cancel():
                raise EvaluationCancelled(f"cancelled during {name} after {before + jobs} of {total} job runs")
            if progress is not None:
                progress(before + jobs, total, name)

        started = time.perf_counter()
        runs[name] = simulate(problem, policy, on_chunk)
        elapsed[name] = time.perf_counter() - started
        done += len(wl)
        if isinstance(policy, TierAgents):
            agent_reward = np.asarray(policy.rl_reward)
    reference = None
    if config.reference:

        def search_chunk(step: int, jobs: int, before: int = done) -> None:
            what = f"{REFERENCE_NAME} (search run {step + 1})"
            if cancel is not None and cancel():
                raise EvaluationCancelled(f"cancelled during {what} after {before + step * len(wl) + jobs} of {total} job runs")
            if progress is not None:
                progress(before + step * len(wl) + jobs, total, what)

        started = time.perf_counter()
        reference = constrained_reference(problem, runs, config.starvation_min, search_chunk)
        elapsed[REFERENCE_NAME] = time.perf_counter() - started
        if progress is not None:  # the search may stop early (no run meets the target): the work is done
            progress(total, total, REFERENCE_NAME)
    for name in extra:
        del runs[name]
    return _result(config, seed, problem, runs, agent_reward, elapsed, reference)


def build_workload(config: EvaluationConfig, world: World, rng: np.random.Generator, data_dir: Path = DATA_DIR) -> workloads.Workload:
    fleet, n = world.fleet, config.jobs
    if config.workload == "task":
        return workloads.task_trace(data_dir, n, fleet, rng, config.load)
    if config.workload == "poisson":
        return workloads.poisson(n, fleet, rng, config.load)
    if config.workload == "file":
        raise ValueError("workload 'file' needs the Workload passed to run_evaluation(workload=...)")
    check_config(config, data_dir)
    return workloads.gaia(config.workload, n, fleet, rng, data_dir, SHARED_GAIA_DIR)


def check_config(config: EvaluationConfig, data_dir: Path = DATA_DIR) -> None:
    """ValueError, naming the problem, when a run of `config` would fail on data that is not there: a
    GAIA run past the shipped 10,000-row sample needs the full trace in SHARED_GAIA_DIR, which a deployed
    image does not have. Cheap (file checks and a line count): POST /simulate calls it before accepting
    a run; build_workload calls it again. The EvaluationConfig model has checked everything else."""
    if config.workload not in workloads.GAIA_TRACES:
        return
    trace = workloads.GAIA_TRACES[config.workload]
    sample = data_dir / workloads.WORKLOAD_DIR / f"{trace}-10k.csv"
    if not sample.is_file():
        raise ValueError(f"{config.workload} needs {workloads.WORKLOAD_DIR}/{sample.name} in the data directory, which is absent")
    if config.jobs <= workloads.GAIA_SAMPLE_ROWS:
        return
    full = SHARED_GAIA_DIR / f"{trace}-100k.csv"
    shown = Path("..", *full.relative_to(ROOT.parent).parts) if full.is_relative_to(ROOT.parent) else full
    if not full.is_file():
        raise ValueError(f"{config.workload} ships {workloads.GAIA_SAMPLE_ROWS:,} jobs; more need {shown}, which is absent")
    with full.open("rb") as f:
        rows = sum(1 for line in f if line.strip()) - 1  # less the header; ~10 ms for 100,000 rows
    if config.jobs > rows:
        raise ValueError(f"{config.workload} has {rows:,} jobs in {shown}; asked for {config.jobs:,}")


def build_clock(config: EvaluationConfig, world: World, grid: GridSeries | None, regions: np.ndarray | None) -> Clock:
    """The run's clock; ValueError when config.start_hour is outside the scenario's carbon series (the
    grid's 2021-2023 hours, the reference proxy's year). The price series (2,000 hours) wraps, as all do."""
    if config.scenario == "reference":
        clock = reference_clock(world.signals, world.fleet.n_servers, float(config.start_hour))
    elif grid is None or regions is None:
        raise ValueError("the grid scenario needs the grid series and the zone of each server (regions)")
    else:
        clock = grid_clock(grid, regions, world.signals.energy_price, config.basis, float(config.start_hour))
    hours = min(len(series.values) for series in clock.carbon)
    if not 0 <= config.start_hour < hours:
        raise ValueError(
            f"start_hour must be 0..{hours - 1}, the hours of the {config.scenario} scenario's carbon series; got {config.start_hour}"
        )
    return clock


def grid_inputs(world: World, scenario: str) -> tuple[GridSeries | None, np.ndarray | None]:
    """run_evaluation's grid and regions: the world's grid scenario's series and zone of each server (the
    scenario is built on first use), or (None, None) for the reference. The API and the CLI both call it."""
    if scenario != "grid":
        return None, None
    grid = world.runtime("grid").scenario
    assert isinstance(grid, GridScenario)
    return grid.grid, grid.server_zone


def _result(
    config: EvaluationConfig,
    seed: int,
    problem: Problem,
    runs: dict[str, Run],
    agent_reward: np.ndarray | None,
    elapsed: dict[str, float],
    reference: Reference | None = None,
) -> EvaluationResult:
    wl, fleet, clock = problem.workload, problem.fleet, problem.clock
    rows = np.arange(len(wl))
    summaries = [sim_metrics.summarise(problem, run, config.starvation_min) for run in runs.values()]
    quality = {name: sim_metrics.learning_curve(problem.quality[rows, run.server], config.windows) for name, run in runs.items()}
    learning = {
        "window_jobs": int(np.ceil(len(wl) / min(config.windows, len(wl)))),
        "quality": quality,
        "agent_reward": None if agent_reward is None else sim_metrics.learning_curve(agent_reward, config.windows),
    }
    horizon = {name: max(run.horizon_min, 1e-12) for name, run in runs.items()}
    return EvaluationResult(
        config=config,
        seed=seed,
        workload={
            "name": wl.name,
            "jobs": len(wl),
            "span_h": float(wl.arrival_min[-1] - wl.arrival_min[0]) / 60.0,
            "offered_load": dict(zip(TIERS, workloads.offered_load(wl, fleet).tolist())),
            "tier_jobs": dict(zip(TIERS, np.bincount(wl.tier, minlength=len(TIERS)).tolist())),
            "notes": list(wl.notes),
        },
        clock={
            "scenario": config.scenario,
            "carbon_kind": clock.carbon_kind,
            "start_hour": clock.start_h,
            "server_zone": {name: clock.zones[z] for name, z in zip(fleet.names, clock.server_zone.tolist())},
        },
        summaries=summaries,
        lower_bound_co2_kg=units.kg(float(sim_metrics.co2_lower_bound_g(problem).sum())),
        learning=learning,
        win_loss={"metric": "co2_g", "policies": list(runs), "wins": sim_metrics.win_loss({n: r.co2_g for n, r in runs.items()})},
        server_utilisation={name: (run.busy_core_min / (fleet.cores * horizon[name])).tolist() for name, run in runs.items()},
        reference=reference,
        elapsed_s=elapsed,
    )
