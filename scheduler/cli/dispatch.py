"""`python -m scheduler dispatch train|evaluate`: the learned dispatcher's pre-training and its study (docs/dispatch.md).

    python -m scheduler dispatch train --seed 1 --out scheduler/dispatch/weights/dispatcher.npz
    python -m scheduler dispatch evaluate --weights scheduler/dispatch/weights/dispatcher.npz --seed 2026 --seeds 10 --out DIR
    python -m scheduler dispatch online --start fresh --seed 1 --instances 200 --out W.npz

`train` writes the weights (.npz, what TASKPILOT_DISPATCHER_WEIGHTS loads) and the learning curve beside
them (NAME_curve.csv); the same seed writes the same file. `evaluate` prints the table of every dispatcher
on `--seeds` instances drawn from `--seed`, and with --out writes results.json. `online` runs the executor's
feedback loop (rl.dispatcher.OnlineLearner) on a stream of instances, from a fresh policy or a weights file,
prints its learning curve and writes the weights it ends with (scheduler/dispatch/online.py).
"""

import argparse
import csv
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from rl.dispatcher import Dispatcher, OnlineLearner
from scheduler.dispatch.online import learn_online
from scheduler.dispatch.study import format_table, run_study, summary
from scheduler.dispatch.train import MAIN, TrainConfig, heuristic_rates, train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler dispatch", description="Train and evaluate the learned dispatcher.")
    sub = parser.add_subparsers(dest="action", required=True)
    tr = sub.add_parser("train", help="pre-train the dispatcher in the simulator and write its weights")
    tr.add_argument("--seed", type=int, required=True)
    tr.add_argument("--out", type=Path, required=True, help="the weights file (.npz); the curve goes beside it")
    tr.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    ev = sub.add_parser("evaluate", help="compare FIFO, priority, EDF, SJF and the learned dispatcher")
    ev.add_argument("--weights", type=Path, required=True)
    ev.add_argument("--seed", type=int, required=True, help="root seed of the instances")
    ev.add_argument("--seeds", type=int, default=10, help="instances (each its own stream of the root seed)")
    ev.add_argument("--load", type=float, default=MAIN.load)
    ev.add_argument("--workers", type=int, default=MAIN.workers)
    ev.add_argument("--out", type=Path, help="folder for results.json")
    on = sub.add_parser("online", help="the executor's online feedback loop on a stream of simulated instances")
    on.add_argument("--start", required=True, help="fresh, or a weights file to keep learning from")
    on.add_argument("--seed", type=int, required=True)
    on.add_argument("--instances", type=int, default=200)
    on.add_argument("--out", type=Path, required=True, help="the weights it ends with (.npz)")
    on.add_argument("--lr", type=float, default=OnlineLearner.lr, help="Adam's step size online (the executor's default)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.action == "train":
        return _train(args)
    if args.action == "online":
        return _online(parser, args)
    return _evaluate(parser, args)


def _online(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.instances < 1 or not 0 < args.lr < 1:
        parser.error(f"need --instances >= 1 (got {args.instances}) and 0 < --lr < 1 (got {args.lr})")
    try:
        policy = Dispatcher.fresh(np.random.default_rng(args.seed)) if args.start == "fresh" else Dispatcher.load(Path(args.start))
    except ValueError as exc:
        print(f"error: --start: {exc}", file=sys.stderr)
        return 2
    curve = learn_online(policy, args.seed, args.instances, every=max(1, args.instances // 10), lr=args.lr)
    print("| instances | updates | greedy miss rate % (validation) |\n|--:|--:|--:|")
    for point in curve:
        print(f"| {point['instance']:.0f} | {point['updates']:.0f} | {100 * point['miss_rate']:.1f} |")
    policy.save(args.out)
    print(f"wrote {args.out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    if args.epochs < 1:
        print(f"error: --epochs must be at least 1, got {args.epochs}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    trained = train(TrainConfig(epochs=args.epochs), args.seed, lambda p: print(
        f"epoch {p['epoch']:3.0f}  greedy miss rate {100 * p['miss_rate']:5.1f} %  sampled {100 * p['sampled_miss_rate']:5.1f} %",
        file=sys.stderr))  # fmt: skip
    trained.policy.save(args.out)
    curve = args.out.with_name(args.out.stem + "_curve.csv")
    with curve.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["epoch", "miss_rate", "sampled_miss_rate"])
        writer.writeheader()
        writer.writerows(trained.curve)
    print(f"wrote {args.out} (best epoch {trained.best_epoch}) and {curve} in {time.perf_counter() - started:.0f} s")
    rates = ", ".join(f"{name} {100 * rate:.1f} %" for name, rate in heuristic_rates(args.seed).items())
    print(f"the heuristics' miss rates on the same validation instances: {rates}")
    return 0


def _evaluate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.seeds < 2 or args.workers < 1 or not 0 < args.load <= 2:
        parser.error(f"need --seeds >= 2 (got {args.seeds}), --workers >= 1 (got {args.workers}), 0 < --load <= 2 (got {args.load})")
    try:
        policy = Dispatcher.load(args.weights)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: --weights {args.weights}: {exc}", file=sys.stderr)
        return 2
    result = run_study(policy, args.seed, args.seeds, replace(MAIN, load=args.load, workers=args.workers))
    print(format_table(result))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        doc = {"seed": args.seed, "seeds": args.seeds, "weights": str(args.weights), "workload": asdict(result.workload),
               "table": summary(result), "best_baseline": result.best_baseline, "reduction": result.reduction,
               "throughput_ratio": result.throughput_ratio, "edf_check": result.edf_check}  # fmt: skip
        (args.out / "results.json").write_text(json.dumps(doc, indent=1))
    return 0
