"""A/B of the reference /run path without HTTP: `python bench/ab_inprocess.py ROOT` times parse_jobs,
Session.run and encode_compact of the same 10,000 reference jobs on the code under ROOT (this tree, or an
older commit checked out with `git worktree add /tmp/old REV`), median of 15. Run it alternately on two
roots: HTTP benchmarks on a shared 2-core machine drift more than the differences they are asked about.
"""

import sys
import time
from pathlib import Path


def main(root: Path) -> dict[str, float]:
    sys.path.insert(0, str(root))
    import numpy as np
    import orjson

    from scheduler import decisions
    from scheduler.jobs import parse_jobs
    from scheduler.sessions import Session
    from scheduler.settings import Settings
    from scheduler.world import build_world

    world = build_world(Settings(pretrain_episodes=50, data_dir=root / "dataset_rl", cache_dir=None))
    rng = np.random.default_rng(1)
    tiers = ("green", "balanced", "performance")
    body = orjson.dumps([{"priority": tiers[i % 3], "latency": "low", "cpu": float(rng.integers(1, 100)), "memory": float(rng.integers(1, 100))} for i in range(10_000)])
    times: dict[str, list[float]] = {"parse_ms": [], "run_ms": [], "encode_ms": []}
    for _ in range(15):
        session = Session("ab", 1, world, 0.0, 0.0)
        t0 = time.perf_counter()
        jobs = parse_jobs(body)
        t1 = time.perf_counter()
        record = session.run(jobs)
        t2 = time.perf_counter()
        decisions.encode_compact(world, record, 0, len(record))
        t3 = time.perf_counter()
        for key, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[key].append(seconds * 1000)
    return {key: round(float(np.median(v)), 2) for key, v in times.items()}


if __name__ == "__main__":
    print(main(Path(sys.argv[1]).resolve()))
