"""Evaluate placement policies in the simulator: `run_evaluation` for the API, `python -m scheduler.evaluate` for people.

    python -m scheduler.evaluate --workload task --scenario grid --policies all --jobs 10000 --seed 7 --out DIR

writes DIR/results.json, DIR/results.csv and DIR/report.html (self-contained: Chart.js is inlined, so it
opens offline) and prints the table. Every policy runs on the same jobs and the same clock. Randomness
comes from one seed: the workload, each policy and the agents' pre-training each get their own stream
spawned from it, so a policy's result does not depend on which other policies ran. Without --seed one
is drawn and reported, so any run can be replayed bit for bit.
"""

import argparse
import csv
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scheduler import sim_metrics, workloads
from scheduler.energy import build_machines, load_power_curve
from scheduler.engine import World
from scheduler.fleet import TIERS
from scheduler.grid import GridSeries
from scheduler.jobs import LATENCIES
from scheduler.policies import POLICIES, TierAgents, make_policy
from scheduler.settings import ROOT
from scheduler.simulator import Clock, Problem, Run, build_problem, grid_clock, reference_clock, simulate

DATA_DIR = ROOT / "dataset_rl"
SHARED_GAIA_DIR = ROOT.parent / "shared" / "data" / "workloads" / "gaia"
"""Full GAIA traces, used when more jobs are asked for than the shipped 10,000-row samples hold."""
MAX_JOBS = 200_000
"""Jobs per evaluation at most: peak memory is about 1.8 KB per job (177 MB traced for 100,000)."""
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
    ("policy", "policy", "s"), ("energy_kwh", "energy kWh", ",.1f"), ("co2_kg", "CO2 kg", ",.2f"), ("co2_with_idle_kg", "CO2+idle kg", ",.1f"), ("cost", "cost", ",.1f"),
    ("completion_mean_min", "compl. min", ",.1f"), ("completion_p95_min", "p95 min", ",.1f"), ("wait_mean_min", "wait min", ",.1f"),
    ("throughput_per_h", "jobs/h", ",.2f"), ("utilisation", "util", ".3f"), ("starved", "starved", ",d"),
    ("slo_miss", "SLO miss", ".3f"), ("quality_mean", "quality", ".3f"),
)  # fmt: skip


class EvaluationCancelled(Exception):
    """The caller's cancel() returned True between two chunks of jobs."""


class EvaluationConfig(BaseModel):
    """What to evaluate; the API can take it as its request body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload: Literal["task", "poisson", "gaia-azure", "gaia-pai", "file"] = "task"
    """A named workload; "file" means the caller passes the Workload itself (the CLI's PATH.csv)."""
    scenario: Literal["grid", "reference"] = "grid"
    policies: tuple[str, ...] = POLICIES
    jobs: int = Field(10_000, ge=1, le=MAX_JOBS, strict=True)  # strict: true/false or "12" are not job counts
    seed: int | None = Field(None, ge=0, le=2**63 - 1, strict=True)
    load: float = Field(workloads.DEFAULT_LOAD, gt=0, le=2)
    """Offered load of the busiest pool, for the task and poisson workloads (GAIA keeps its real times)."""
    start_hour: int = Field(0, ge=0)
    """Hour of the carbon series (from 2021-01-01 00:00 UTC in the grid scenario) at simulation time 0."""
    basis: Literal["direct", "lca"] = "direct"
    power_curve: Literal["linear", "specpower"] = "linear"
    starvation_min: float = Field(sim_metrics.DEFAULT_STARVATION_MIN, gt=0)
    windows: int = Field(20, ge=1, le=1000)
    """Windows of jobs in the learning curve."""

    @field_validator("policies", mode="before")
    @classmethod
    def _policies(cls, value: Any) -> Any:
        if isinstance(value, str):
            names = [p.strip() for p in value.split(",")]
        elif isinstance(value, (list, tuple)) and all(isinstance(p, str) for p in value):
            names = list(value)
        else:
            raise ValueError(f"policies must be 'all', a comma-separated string or a list of names; got {value!r}")
        names = list(POLICIES) if names == ["all"] else names
        unknown = [p for p in names if p not in POLICIES]
        if unknown or not names or len(set(names)) != len(names):
            raise ValueError(f"policies must be 'all' or distinct names from {', '.join(POLICIES)}; got {value!r}")
        return tuple(names)


@dataclass(frozen=True)
class Streams:
    """The independent random streams of one evaluation, all spawned from its seed."""

    workload: np.random.Generator
    pretrain: np.random.Generator
    policies: dict[str, np.random.Generator]


def resolve_seed(seed: int | None) -> int:
    """`seed`, or a fresh one from the OS's entropy (63 bits, so JSON carries it exactly) to report."""
    return seed if seed is not None else int(np.random.SeedSequence().entropy) % 2**63  # type: ignore[operator]


def seed_streams(seed: int) -> Streams:
    workload, pretrain, policies = np.random.SeedSequence(seed).spawn(3)
    return Streams(
        np.random.default_rng(workload), np.random.default_rng(pretrain),
        {name: np.random.default_rng(s) for name, s in zip(POLICIES, policies.spawn(len(POLICIES)))},
    )  # fmt: skip


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
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        rows = [s.as_dict() for s in self.summaries]
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()


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
    total, done = len(wl) * len(config.policies), 0
    runs: dict[str, Run] = {}
    agent_reward, elapsed = None, {}
    for name in config.policies:
        policy = make_policy(name, problem, streams.policies[name], world.pretrained)

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
    return _result(config, seed, problem, runs, agent_reward, elapsed)


def build_workload(config: EvaluationConfig, world: World, rng: np.random.Generator, data_dir: Path = DATA_DIR) -> workloads.Workload:
    fleet, n = world.fleet, config.jobs
    if config.workload == "task":
        return workloads.task_trace(data_dir, n, fleet, rng, config.load)
    if config.workload == "poisson":
        return workloads.poisson(n, fleet, rng, config.load)
    if config.workload == "file":
        raise ValueError("workload 'file' needs the Workload passed to run_evaluation(workload=...)")
    return workloads.gaia(config.workload, n, fleet, rng, data_dir, SHARED_GAIA_DIR)


def build_clock(config: EvaluationConfig, world: World, grid: GridSeries | None, regions: np.ndarray | None) -> Clock:
    if config.scenario == "reference":
        return reference_clock(world.signals, world.fleet.n_servers, float(config.start_hour))
    if grid is None or regions is None:
        raise ValueError("the grid scenario needs the grid series and the zone of each server (regions)")
    return grid_clock(grid, regions, world.signals.energy_price, config.basis, float(config.start_hour))


def _result(
    config: EvaluationConfig, seed: int, problem: Problem, runs: dict[str, Run], agent_reward: np.ndarray | None, elapsed: dict[str, float]
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
            "name": wl.name, "jobs": len(wl), "span_h": float(wl.arrival_min[-1] - wl.arrival_min[0]) / 60.0,
            "offered_load": dict(zip(TIERS, workloads.offered_load(wl, fleet).tolist())),
            "tier_jobs": dict(zip(TIERS, np.bincount(wl.tier, minlength=len(TIERS)).tolist())),
        },
        clock={
            "scenario": config.scenario, "carbon_kind": clock.carbon_kind, "start_hour": clock.start_h,
            "server_zone": {name: clock.zones[z] for name, z in zip(fleet.names, clock.server_zone.tolist())},
        },
        summaries=summaries,
        lower_bound_co2_kg=float(sim_metrics.co2_lower_bound_g(problem).sum()) / 1000.0,
        learning=learning,
        win_loss={"metric": "co2_g", "policies": list(runs), "wins": sim_metrics.win_loss({n: r.co2_g for n, r in runs.items()})},
        server_utilisation={name: (run.busy_core_min / (fleet.cores * horizon[name])).tolist() for name, run in runs.items()},
        elapsed_s=elapsed,
    )


def format_table(result: EvaluationResult) -> str:
    """The per-policy table people read in a terminal; lower is better except jobs/h, util, quality."""
    head = [label for _, label, _ in TABLE_COLUMNS]
    body = [[format(s.as_dict()[key], spec) for key, _, spec in TABLE_COLUMNS] for s in result.summaries]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"hindsight lower bound on CO2 (any policy, ignores capacity): {result.lower_bound_co2_kg:,.2f} kg")
    return "\n".join(lines)


def write_outputs(result: EvaluationResult, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    document = result.to_json()
    (out_dir / "results.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n")
    (out_dir / "results.csv").write_text(result.to_csv(), encoding="utf-8")
    (out_dir / "report.html").write_text(render_html(document), encoding="utf-8")


TEMPLATE = Path(__file__).with_name("report_template.html")
CHART_JS = ROOT / "frontend" / "static" / "vendor" / "chart.umd.min.js"


def render_html(document: dict[str, Any], chart_js: Path = CHART_JS) -> str:
    """report.html: the template, the results as JSON data and Chart.js inlined, so it opens offline.

    All text reaches the page through textContent in the template's script; the JSON is escaped so no
    value can close its <script> element."""
    data = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    library = chart_js.read_text(encoding="utf-8") if chart_js.is_file() else "/* Chart.js not found: tables only */"
    library = library.replace("</", "<\\/")
    page = TEMPLATE.read_text(encoding="utf-8")
    return page.replace("/*CHART_JS*/", library, 1).replace("/*DATA*/null", data, 1)


class ProgressBar:
    """A one-line bar on a terminal stream, redrawn when the whole percentage changes."""

    def __init__(self, stream: Any):
        self.stream, self.last = stream, -1

    def __call__(self, done: int, total: int, policy: str) -> None:
        percent = 100 * done // max(total, 1)
        if percent != self.last:
            self.last = percent
            self.stream.write(f"\r[{'#' * (percent // 4):<25}] {percent:3d}% {policy:<14} {done:,}/{total:,} job runs")
            self.stream.flush()

    def close(self) -> None:
        if self.last >= 0:
            self.stream.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler.evaluate", description="Simulate placement policies and compare them.")
    parser.add_argument("--workload", default="task", help="task | poisson | gaia-azure | gaia-pai | PATH.csv (default task)")
    parser.add_argument("--scenario", default="grid", choices=("grid", "reference"))
    parser.add_argument("--policies", default="all", help=f"all, or a comma list of {','.join(POLICIES)}")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, help="root seed (drawn and reported when absent)")
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json, results.csv, report.html")
    parser.add_argument("--load", type=float, default=workloads.DEFAULT_LOAD, help="offered load of the busiest pool (task, poisson)")
    parser.add_argument("--start-hour", type=int, default=0, help="hour of the carbon series at time 0 (grid: from 2021-01-01 UTC)")
    parser.add_argument("--basis", default="direct", choices=("direct", "lca"))
    parser.add_argument("--power-curve", default="linear", choices=("linear", "specpower"))
    parser.add_argument("--starvation-min", type=float, default=sim_metrics.DEFAULT_STARVATION_MIN)
    parser.add_argument("--windows", type=int, default=20, help="windows of jobs in the learning curve")
    parser.add_argument("--progress", action="store_true", help="show the progress bar even when stderr is not a terminal")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    is_file = args.workload.endswith(".csv")
    try:
        config = EvaluationConfig(
            workload="file" if is_file else args.workload, scenario=args.scenario, policies=args.policies, jobs=args.jobs,
            seed=args.seed, load=args.load, start_hour=args.start_hour, basis=args.basis, power_curve=args.power_curve,
            starvation_min=args.starvation_min, windows=args.windows,
        )  # fmt: skip
    except ValidationError as exc:
        parser.error("; ".join(f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in exc.errors(include_url=False)))
    return _run_cli(args, config, Path(args.workload) if is_file else None)


def _run_cli(args: argparse.Namespace, config: EvaluationConfig, path: Path | None) -> int:
    from rl.pretrain import pretrain_agents
    from scheduler.datasets import DatasetError, load_datasets
    from scheduler.fleet import build_fleet
    from scheduler.grid import REGIONS_FILE, load_grid, load_regions
    from scheduler.settings import Settings
    from scheduler.signals import build_signals

    seed = resolve_seed(config.seed)
    config = config.model_copy(update={"seed": seed})
    streams = seed_streams(seed)
    cache = ROOT / ".cache"
    started = time.perf_counter()
    try:
        data = load_datasets(args.data_dir, cache)
        fleet, signals = build_fleet(data.servers), build_signals(data)
        episodes = Settings.model_fields["pretrain_episodes"].default
        world = World(fleet, signals, pretrain_agents(fleet, signals, episodes, streams.pretrain))
        grid = load_grid(args.data_dir, cache) if config.scenario == "grid" else None
        regions = load_regions(args.data_dir / REGIONS_FILE, fleet.names, grid.zones) if grid is not None else None
        wl = workloads.csv_workload(path, fleet, streams.workload, config.jobs) if path is not None else None
        bar = ProgressBar(sys.stderr) if args.progress or sys.stderr.isatty() else None
        try:
            result = run_evaluation(world, grid, config, regions=regions, data_dir=args.data_dir, workload=wl, progress=bar)
        finally:
            if bar is not None:
                bar.close()
    except (DatasetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_outputs(result, args.out)
    print(f"{result.workload['name']}: {result.workload['jobs']:,} jobs, {config.scenario} scenario ({result.clock['carbon_kind']}), seed {seed}")
    print(format_table(result))
    sim_s = sum(result.elapsed_s.values())
    print(f"simulated in {sim_s:.1f} s ({time.perf_counter() - started:.1f} s with loading and pre-training); wrote {args.out}/results.json, results.csv, report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
