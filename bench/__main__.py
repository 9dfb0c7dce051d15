"""`python -m bench [--quick] [--only NAME] [--out PATH]`: run the benchmarks, print the table, write JSON.

A full run (no --quick, no --only) writes bench/results.json, the committed record. A quick or partial
run writes only where --out points, so it never overwrites the record with smoke figures.
"""

import argparse
import sys
import time
from pathlib import Path

from bench import workload
from bench.cases import BENCHMARKS
from bench.live import ROOT
from bench.machine import describe_code, describe_machine
from bench.report import Figure, format_table, write_results
from bench.sizes import FULL, QUICK

RESULTS = Path(__file__).with_name("results.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="TaskPilot benchmarks (see bench/README.md).")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 repeat, smaller batches (under a minute)")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--out", type=Path, help="write results here (default: bench/results.json for a full run, nowhere otherwise)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    names = args.only or list(BENCHMARKS)
    out = args.out or (RESULTS if not args.quick and not args.only else None)

    figures: list[Figure] = []
    for name in names:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        figures += BENCHMARKS[name](plan)
        print(f"[bench] {name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    print(format_table(figures))
    if out is not None:
        context = {
            "mode": "quick" if args.quick else "full",
            "benchmarks": names,
            "plan": plan.as_dict(),
            "commit": describe_code(ROOT),
            "machine": describe_machine(),
            "workload": {"seed": workload.SEED, "description": workload.DESCRIPTION},
        }
        write_results(out, figures, context)
        print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
