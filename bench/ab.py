"""`python -m bench.ab --base REV`: the benchmarks on two revisions, interleaved, and the ratio of each figure.

The base revision (and --head REV, if given; otherwise this working tree as it is, uncommitted changes
included) is checked out with `git worktree add --detach` into a temporary folder, removed afterwards.
Each tree is measured by its own `python -m bench --only NAME ... --out FILE` (or, with --inprocess, its
own bench/ab_inprocess.py), so a base from before a module move still runs; only the command line and
results.json's figures must be common to both. Runs alternate between the trees, in ABBA order, after
an untimed warm-up round that fills each tree's data and kernel caches: this machine's speed drifts by up
to a third over minutes, which only pairs of runs taken side by side cancel. `head/base` is the median
over rounds of each round's ratio; for a throughput above 1 is faster, for a time or a size below 1 is
smaller. Nothing is written to bench/results.json.
"""

import argparse
import ast
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.live import ROOT
from bench.report import show_number

DEFAULT_CASES = ("engine", "run_full", "run_compact")
Measure = Callable[[Path], dict[str, tuple[float, str]]]
"""A tree -> {figure name: (value, unit)}, one run."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    measure = _inprocess(args.grid) if args.inprocess else _cases(args.only or list(DEFAULT_CASES), args.quick)
    added: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="taskpilot-ab-") as tmp:
        try:
            trees = {"base": _worktree(args.base, Path(tmp) / "base", added)}
            trees["head"] = ROOT if args.head is None else _worktree(args.head, Path(tmp) / "head", added)
            print(f"base: {_describe(trees['base'])}\nhead: {_describe(trees['head'])}", flush=True)
            rounds = _interleave(trees, measure, args.rounds, args.warmup)
        finally:
            for tree in added:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
            subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)  # whatever remove could not
    print(format_comparison(rounds))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the revision to compare against (a commit, tag or branch)")
    parser.add_argument("--head", help="the revision measured against it (default: this working tree as it is)")
    parser.add_argument("--only", action="append", metavar="NAME", help=f"a benchmark (repeatable; default {' '.join(DEFAULT_CASES)})")
    parser.add_argument("--quick", action="store_true", help="pass --quick to each run (smaller batches, 1 repeat)")
    parser.add_argument("--rounds", type=int, default=4, help="measured rounds, each one run per tree (default 4)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1: caches, kernel build)")
    parser.add_argument("--inprocess", action="store_true", help="run bench/ab_inprocess.py in each tree instead of the cases")
    parser.add_argument("--grid", action="store_true", help="with --inprocess: its --grid figures")
    return parser


def _cases(names: list[str], quick: bool) -> Measure:
    def measure(tree: Path) -> dict[str, tuple[float, str]]:
        with tempfile.TemporaryDirectory(prefix="taskpilot-ab-run-") as tmp:
            out = Path(tmp) / "results.json"
            only = [arg for name in names for arg in ("--only", name)]
            _run(tree, ["-m", "bench", *only, *(["--quick"] if quick else []), "--out", str(out)])
            figures = json.loads(out.read_text())["figures"]
        return {f["name"]: (f["median"], f["unit"]) for f in figures}

    return measure


def _inprocess(grid: bool) -> Measure:
    def measure(tree: Path) -> dict[str, tuple[float, str]]:
        if not (tree / "bench" / "ab_inprocess.py").exists():
            raise SystemExit(f"{tree} has no bench/ab_inprocess.py")
        stdout = _run(tree, ["bench/ab_inprocess.py", ".", *(["--grid"] if grid else [])])
        return {name: (value, "ms") for name, value in ast.literal_eval(stdout.strip().splitlines()[-1]).items()}

    return measure


def _interleave(trees: dict[str, Path], measure: Measure, rounds: int, warmup: int) -> list[dict[str, dict[str, tuple[float, str]]]]:
    """Per measured round, each side's figures; the order of the two sides flips every round (ABBA)."""
    measured = []
    for r in range(warmup + rounds):
        order = ("base", "head") if r % 2 == 0 else ("head", "base")
        label = f"warm-up {r + 1}/{warmup}" if r < warmup else f"round {r - warmup + 1}/{rounds}"
        print(f"[ab] {label}: {' then '.join(order)}", file=sys.stderr, flush=True)
        figures = {side: measure(trees[side]) for side in order}
        if r >= warmup:
            measured.append(figures)
    return measured


def format_comparison(rounds: list[dict[str, dict[str, tuple[float, str]]]]) -> str:
    """One line per figure: median of each side over the rounds, and the median of the per-round ratios."""
    names = list(dict.fromkeys(name for r in rounds for side in ("base", "head") for name in r[side]))
    rows = [("figure", "unit", "base", "head", "head/base", "ratio min..max")]
    for name in names:
        pairs = [(r["base"][name][0], r["head"][name][0]) for r in rounds if name in r["base"] and name in r["head"]]
        unit = next(r[side][name][1] for r in rounds for side in ("base", "head") if name in r[side])
        if not pairs:  # a figure only one tree has
            rows.append((name, unit, "-", "-", "-", "only in one tree"))
            continue
        ratios = [h / b for b, h in pairs if b]
        base, head = statistics.median(b for b, _ in pairs), statistics.median(h for _, h in pairs)
        spread = f"{min(ratios):.3f}..{max(ratios):.3f}" if ratios else "-"
        ratio = f"{statistics.median(ratios):.3f}" if ratios else "-"
        rows.append((name, unit, show_number(base), show_number(head), ratio, spread))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([*lines, f"({len(rounds)} rounds, ABBA order)"])


def _worktree(rev: str, path: Path, added: list[Path]) -> Path:
    """`rev` checked out at `path` (detached); appended to `added` so the caller removes it."""
    commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    _git("worktree", "add", "--detach", "--quiet", str(path), commit)
    added.append(path)
    if not (path / "bench" / "__main__.py").exists():
        raise SystemExit(f"{rev} has no bench/ (python -m bench): nothing to compare with")
    return path


def _describe(tree: Path) -> str:
    commit = _git("rev-parse", "--short", "HEAD", cwd=tree).strip()
    dirty = _git("status", "--porcelain", "--untracked-files=no", cwd=tree).strip()
    return f"{tree} at {commit}" + (" plus uncommitted changes" if dirty else "")


def _run(tree: Path, args: list[str]) -> str:
    """`python ARGS` in `tree` (so `tree`'s own packages are imported); its stdout, or an error with its stderr."""
    done = subprocess.run([sys.executable, *args], cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"`python {' '.join(args)}` failed in {tree} (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _git(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"`git {' '.join(args)}` failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


if __name__ == "__main__":
    sys.exit(main())
