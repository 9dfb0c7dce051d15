"""Compare placement policies in the simulator from the command line (the library is scheduler/studies/placement.py).

    python -m scheduler.evaluate --workload task --scenario grid --policies all --jobs 10000 --seed 7 --out DIR

writes DIR/results.json, DIR/results.csv and DIR/report.html (self-contained: Chart.js is inlined, so it
opens offline) and prints the table. The world (fleet, signals, grid scenario) is built by
scheduler.placement.world.build_world, as the server builds it, from the CLI's flags alone; run_evaluation
pre-trains the tier agents from the evaluation's seed, so the seed alone replays a run bit for bit,
here or over POST /simulate. Without --seed one is drawn and reported. --regions picks the server,zone
map of the grid scenario (dataset_rl/regions*.csv).

    python -m scheduler.evaluate --study deferral --regions ES,NO,US-CAL-CISO,BR --jobs 5000 --seed 1 \
        --forecasts perfect,noisy,persistence --seeds 10 --out DIR

runs the deferral study instead (when to run: scheduler/studies/deferral.py): --regions is then a comma list of
regions, and it writes DIR/results.json, DIR/results.csv and DIR/report.html (self-contained too: the
saving per region and strategy, the regions, every figure) and prints the region x strategy table. A flag of the other study is refused
(exit status 2), never silently ignored.
"""

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scheduler.cli import gpu_fraction
from scheduler.cli.flags import refuse_unread
from scheduler.core.errors import DatasetError
from scheduler.core.fleet import build_fleet
from scheduler.core.states import folded
from scheduler.data import workload_files
from scheduler.data.datasets import load_datasets
from scheduler.data.grid import REGIONS_FILE
from scheduler.data.signals import build_signals
from scheduler.data.workloads import DEFAULT_LOAD
from scheduler.placement.world import build_world
from scheduler.settings import ROOT, Settings
from scheduler.sim.config import (
    DEFAULT_PRETRAIN_EPISODES,
    DEFAULT_STARVATION_MIN,
    DEFERRAL_FORECASTS,
    DEFERRAL_REGIONS,
    POLICIES,
    DeferralConfig,
    EvaluationConfig,
    resolve_seed,
)
from scheduler.studies import deferral
from scheduler.studies.placement import DATA_DIR, grid_inputs, run_evaluation, seed_streams
from scheduler.studies.placement_report import format_table, write_outputs


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
    if gpu_fraction.requested(sys.argv[1:] if argv is None else argv):  # a study with flags of its own
        return gpu_fraction.main(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m scheduler evaluate", description="Simulate placement policies (or deferral strategies) and compare them."
    )
    parser.add_argument(
        "--study",
        default="placement",
        choices=("placement", "deferral", gpu_fraction.STUDY),
        help="placement policies (default), when-to-run strategies, or the GPU-fraction study (its own flags: --study gpu-fraction --help)",
    )
    parser.add_argument(
        "--workload",
        default="task",
        help="task | poisson | gaia-azure | gaia-pai | PATH.csv: arrival_min,cpu,memory,priority[,latency,duration_min,size,intensity], "
        "GAIA's arrival_time,length,cpus, or a job CSV as /upload takes it (arrivals drawn at --load) (default task; deferral: task | "
        "gaia-azure)",
    )
    parser.add_argument("--scenario", default="grid", choices=("grid", "reference"), type=folded)
    parser.add_argument("--policies", default="all", help=f"all, or a comma list of {','.join(POLICIES)}")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, help="root seed (drawn and reported when absent)")
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json, results.csv, report.html")
    parser.add_argument("--load", type=float, default=DEFAULT_LOAD, help="offered load of the busiest pool (task, poisson, a job CSV)")
    parser.add_argument("--start-hour", type=int, default=0, help="hour of the carbon series at time 0 (grid: from 2021-01-01 UTC)")
    parser.add_argument("--basis", default="direct", choices=("direct", "lca"))
    parser.add_argument("--power-curve", default="linear", choices=("linear", "specpower"))
    parser.add_argument("--starvation-min", type=float, default=DEFAULT_STARVATION_MIN)
    parser.add_argument("--windows", type=int, default=20, help="windows of jobs in the learning curve")
    parser.add_argument(
        "--pretrain-episodes",
        type=int,
        default=DEFAULT_PRETRAIN_EPISODES,
        help="pre-training episodes per tier agent (reference scenario, from the seed)",
    )
    parser.add_argument(
        "--reference",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the constrained reference (least CO2 incl. idle at least_loaded's mean completion, with hindsight) and each "
        "policy's gap to it (default on; --no-reference skips its search runs)",
    )
    parser.add_argument("--progress", action="store_true", help="show the progress bar even when stderr is not a terminal")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument(
        "--regions",
        help=(
            f"placement: server,zone CSV, each server's grid in the grid scenario (default {REGIONS_FILE} in --data-dir); "
            f"deferral: a comma list of {','.join(DEFERRAL_REGIONS)} or all"
        ),
    )
    add_deferral_arguments(parser)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    # A flag the chosen study does not read would change nothing: refused, so the run is the one described.
    if args.study == "deferral":
        refuse_unread(parser, argv, PLACEMENT_ONLY, "the placement study's; the deferral study does not read them")
        return _run_deferral_cli(parser, args)
    refuse_unread(parser, argv, DEFERRAL_ONLY, "the deferral study's (--study deferral); the placement study does not read them")
    is_file = args.workload.endswith(".csv")
    try:
        config = EvaluationConfig(
            workload="file" if is_file else args.workload,
            scenario=args.scenario,
            policies=args.policies,
            jobs=args.jobs,
            seed=args.seed,
            load=args.load,
            start_hour=args.start_hour,
            basis=args.basis,
            power_curve=args.power_curve,
            starvation_min=args.starvation_min,
            windows=args.windows,
            pretrain_episodes=args.pretrain_episodes,
            reference=args.reference,
        )
    except ValidationError as exc:
        parser.error("; ".join(f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in exc.errors(include_url=False)))
    return _run_cli(args, config, Path(args.workload) if is_file else None)


def _run_cli(args: argparse.Namespace, config: EvaluationConfig, path: Path | None) -> int:
    seed = resolve_seed(config.seed)
    config = config.model_copy(update={"seed": seed})
    started = time.perf_counter()
    try:
        world = build_world(world_settings(args, config))
        grid, regions = grid_inputs(world, config.scenario)
        wl = workload_files.csv_workload(path, world.fleet, seed_streams(seed).workload, config.jobs, config.load) if path else None
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
    print(
        f"{result.workload['name']}: {result.workload['jobs']:,} jobs, {config.scenario} scenario ({result.clock['carbon_kind']}), "
        f"seed {seed}"
    )
    print(format_table(result))
    print(*(f"note: {note}" for note in result.workload["notes"]), sep="\n", end="\n" if result.workload["notes"] else "")
    sim_s = sum(result.elapsed_s.values())
    print(
        f"simulated in {sim_s:.1f} s ({time.perf_counter() - started:.1f} s with loading and pre-training); wrote "
        f"{args.out}/results.json, results.csv, report.html"
    )
    return 0


def world_settings(args: argparse.Namespace, config: EvaluationConfig) -> Settings:
    """What build_world reads, every field given: the server's TASKPILOT_* variables must not change a
    CLI run. No pre-training: run_evaluation pre-trains the agents it runs from the evaluation's seed."""
    default = {name: info.default for name, info in Settings.model_fields.items()}
    return Settings(
        seed=config.seed,
        data_dir=args.data_dir,
        cache_dir=ROOT / ".cache",
        regions_file=None if args.regions is None else Path(args.regions),
        power_curve=config.power_curve,
        grid_basis=config.basis,
        pretrain_episodes=0,
        grid_start=default["grid_start"],
        grid_minutes_per_job=default["grid_minutes_per_job"],
    )


PLACEMENT_ONLY = ("scenario", "policies", "load", "start_hour", "starvation_min", "windows", "pretrain_episodes", "reference")
DEFERRAL_ONLY = (
    "start",
    "span_h",
    "slack_h",
    "urgency_mix",
    "interruptible_share",
    "forecasts",
    "seeds",
    "forecast_error",
    "bands",
    "band_window_h",
    "threshold_forecast",
    "shared_dir",
)


def add_deferral_arguments(parser: argparse.ArgumentParser) -> None:
    """The deferral study's own flags; it shares --workload, --jobs, --seed, --out, --basis, --power-curve,
    --data-dir and --progress with the placement study, and reads --regions as a list of regions."""
    group, defaults = parser.add_argument_group("deferral study (--study deferral)"), DeferralConfig()
    group.add_argument("--start", help="first arrival, ISO UTC (default: each region's series start + the band window)")
    group.add_argument("--span-h", type=int, default=defaults.span_h, help="arrivals spread over this many hours")
    group.add_argument("--slack-h", type=float, default=defaults.slack_h, help="flexible jobs' slack before their deadline")
    group.add_argument("--urgency-mix", default=",".join(map(str, defaults.urgency_mix)), help="critical,normal,flexible shares")
    group.add_argument(
        "--interruptible-share", type=float, default=defaults.interruptible_share, help="share of flexible jobs that may be interrupted"
    )
    group.add_argument(
        "--forecasts", "--forecast", default=",".join(defaults.forecasts), help=f"all, or a comma list of {','.join(DEFERRAL_FORECASTS)}"
    )
    group.add_argument("--seeds", type=int, default=defaults.seeds, help="runs of the noisy forecast")
    group.add_argument(
        "--forecast-error", type=float, default=defaults.forecast_error, help="noisy forecast's error, a fraction of the series mean"
    )
    group.add_argument("--bands", default=defaults.bands, help="threshold bands: 'p33,p67' (percentiles) or '140,260' (gCO2/kWh)")
    group.add_argument("--band-window-h", type=int, default=defaults.band_window_h, help="hours of history the percentile bands use")
    group.add_argument("--threshold-forecast", default=defaults.threshold_forecast, choices=("persistence", "perfect", "noisy"))
    group.add_argument("--shared-dir", type=Path, default=None, help="../shared/data (regions DE, GB, FR, CAISO_NORTH)")


def _run_deferral_cli(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    fields = {
        "regions": args.regions or ",".join(DeferralConfig().regions),
        "workload": args.workload,
        "jobs": args.jobs,
        "seed": args.seed,
        "start": args.start,
        "span_h": args.span_h,
        "slack_h": args.slack_h,
        "urgency_mix": args.urgency_mix,
        "interruptible_share": args.interruptible_share,
        "forecasts": args.forecasts,
        "seeds": args.seeds,
        "forecast_error": args.forecast_error,
        "bands": args.bands,
        "band_window_h": args.band_window_h,
        "threshold_forecast": args.threshold_forecast,
        "basis": args.basis,
        "power_curve": args.power_curve,
    }
    try:
        config = DeferralConfig(**fields)
    except ValidationError as exc:
        parser.error("; ".join(f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in exc.errors(include_url=False)))
    started = time.perf_counter()
    bar = ProgressBar(sys.stderr) if args.progress or sys.stderr.isatty() else None
    try:
        data = load_datasets(args.data_dir, ROOT / ".cache")
        fleet, prices = build_fleet(data.servers), build_signals(data).energy_price
        document = deferral.run_deferral(
            config, fleet, prices, data_dir=args.data_dir, cache_dir=ROOT / ".cache", shared_dir=args.shared_dir, progress=bar
        )
    except (DatasetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if bar is not None:
            bar.close()
    deferral.write_outputs(document, args.out)
    jobs = document["jobs"]
    print(
        f"deferral study: {jobs['count']:,} {config.workload} jobs ({jobs['critical']:,} critical, {jobs['normal']:,} normal, "
        f"{jobs['flexible']:,} flexible), seed {document['seed']}"
    )
    print(deferral.format_table(document))
    print(*(f"note: {note}" for note in document["notes"]), sep="\n")
    print(
        f"studied in {document['elapsed_s']:.1f} s ({time.perf_counter() - started:.1f} s with loading); wrote "
        f"{args.out}/results.json, results.csv, report.html"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
