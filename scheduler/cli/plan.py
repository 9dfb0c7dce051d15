"""`python -m scheduler plan` (also `taskpilot plan`, and the older `python -m scheduler.plan`): plan when
jobs run against a carbon series, from files, and print or write the document of
scheduler/timeshift/requests.py.

    python -m scheduler plan --carbon SERIES.csv --jobs JOBS.csv [--forecast perfect,noisy,persistence,issued]
        [--forecast-file ISSUED.csv] [--forecast-error 0.05] [--seeds 10] [--seed 0] [--step-min 30]
        [--capacity N] [--column NAME] [--unit g_per_kwh|lbs_per_mwh] [--out plan.json | -]

Bad input is reported on stderr, one line per problem, with exit status 2 (as argparse does).
"""

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from scheduler.cli.flags import refuse_unread
from scheduler.data.carbon_csv import read_issued_forecasts, read_series_csv
from scheduler.data.carbon_series import UNITS, check_step
from scheduler.timeshift.forecast import FORECASTS
from scheduler.timeshift.inputs import PlanInputError, describe, read_jobs_csv
from scheduler.timeshift.requests import plan_request


def figure(x: float, digits: int = 6) -> str:
    """A kg figure for a terminal: `digits` significant digits, never in scientific notation (a 1 W job's
    grams read 0.0000141, not 1.41e-05)."""
    return np.format_float_positional(x, precision=digits, unique=False, fractional=False, trim="-")


def format_table(result: dict[str, Any]) -> str:
    """The strategies' summary for a terminal: one row each, run_now first."""
    lines = [f"{'strategy':<12} {'runs':>4} {'emissions_kg':>14} {'± std':>10} {'saved_kg':>12} {'saved_%':>8} {'delay_min':>10}"]
    for name, s in result["strategies"].items():
        std = figure(s["emissions_kg_std"], 4) if "emissions_kg_std" in s else ""
        figures = (
            f"{figure(s['emissions_kg']):>14} {std:>10} {figure(s['saved_kg']):>12} {s['saved_pct']:>8.2f} {s['mean_delay_min']:>10.1f}"
        )
        lines.append(f"{name:<12} {s['runs']:>4} {figures}")
    series = result["series"]
    every = f"{series['start']} .. {series['end']} every {series['step_min']} min ({series['column']})"
    head = f"{result['jobs']:,} jobs ({result['flexible_jobs']:,} flexible), {every}"
    return "\n".join([head, *lines])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scheduler plan",
        description="Choose job start times that minimise forecast carbon emissions.",
        epilog="run_now (the baseline) and perfect (the bound) are always planned.",
    )
    add = parser.add_argument
    add("--carbon", type=Path, required=True, metavar="SERIES.csv")
    add("--jobs", type=Path, required=True, metavar="JOBS.csv")
    add("--column", help="intensity column (default: the first numeric one)")
    add("--unit", default="g_per_kwh", choices=tuple(UNITS))
    add("--forecast", default="perfect", help=f"comma list of {','.join(FORECASTS)}; run_now and perfect are planned whatever it says")
    add("--forecast-file", type=Path, metavar="ISSUED.csv", help="the issued forecasts (with --forecast issued only)")
    add("--forecast-error", type=float, default=0.05, help="noisy: std / mean (with --forecast noisy only)")
    add("--seeds", type=int, default=10, help="noisy: runs, one stream each (with --forecast noisy only)")
    add("--seed", type=int, default=0, help="noisy: root seed of the streams (with --forecast noisy only)")
    add("--step-min", type=int, help="planning step (default: the series' own)")
    add("--capacity", type=int, help="at most N jobs running in any slot")
    add("--out", help="JSON file ('-': stdout); without it, the table only")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.forecast.split(",") if k.strip()]
    unknown = ", ".join(sorted(set(kinds) - set(FORECASTS)))
    if unknown:
        parser.error(f"--forecast: unknown {unknown}; known: {', '.join(FORECASTS)}")
    if "issued" in kinds and args.forecast_file is None:
        parser.error("--forecast issued needs --forecast-file")
    # A flag of a forecast not asked for would change nothing: refused, so the run is the one described.
    if "issued" not in kinds:
        refuse_unread(parser, argv, ["forecast_file"], "read by --forecast issued only; add issued to --forecast")
    if "noisy" not in kinds:
        refuse_unread(parser, argv, ["forecast_error", "seeds", "seed"], "the noisy forecast's; add noisy to --forecast")
    if min(args.seeds, args.capacity or 1) < 1 or min(args.seed, args.forecast_error) < 0:
        parser.error("--seeds and --capacity must be >= 1; --seed, --forecast-error >= 0")
    try:
        if args.step_min is not None:
            check_step(args.step_min)
        series = read_series_csv(args.carbon, args.column, args.unit)
        table = read_jobs_csv(args.jobs)
        issued = read_issued_forecasts(args.forecast_file, unit=args.unit) if args.forecast_file else None
        result = plan_request(
            series,
            table,
            kinds,
            step_min=args.step_min,
            error=args.forecast_error,
            seeds=args.seeds,
            seed=args.seed,
            capacity=args.capacity,
            issued=issued,
            source_unit=args.unit,
        )
    except PlanInputError as exc:
        for e in exc.errors:
            print(f"error: {args.jobs.name}: {describe(e)}", file=sys.stderr)
        return 2
    except ValueError as exc:  # SeriesError and bad settings
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    document = orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n"
    if args.out == "-":
        sys.stdout.write(document.decode())
        return 0
    if args.out:
        try:
            Path(args.out).write_bytes(document)
        except OSError as exc:
            print(f"error: cannot write {args.out} ({exc})", file=sys.stderr)
            return 2
    print(format_table(result))
    if args.out:
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
