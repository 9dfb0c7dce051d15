"""In-process timings of the /run path, without HTTP: `python bench/ab_inprocess.py ROOT [--grid]`.

Without --grid: parse_jobs, Session.run and encode_compact of the same 10,000 reference jobs on the code
under ROOT, median of 15. `python -m bench.ab --base REV --inprocess [--grid]` runs it alternately in this
tree and in REV checked out beside it (each tree with its own copy of this file): HTTP benchmarks on a
shared 2-core machine drift more than the differences they are asked about.
With --grid: Session.run plus compact and full encoding of 10,000 jobs in a grid session, for plain jobs
and for all-flexible ones with deadlines (half interruptible), median of 7: what the when-policy costs.
"""

import sys
import time
from pathlib import Path
from typing import Any

TIERS = ("green", "balanced", "performance")
JOBS = 10_000


def main(root: Path, grid: bool) -> dict[str, float]:
    sys.path.insert(0, str(root))  # the code under ROOT, whichever tree this file was started from
    import numpy as np

    from scheduler.placement.world import build_world
    from scheduler.settings import Settings

    world = build_world(Settings(pretrain_episodes=50, data_dir=root / "dataset_rl", cache_dir=None))
    rng = np.random.default_rng(1)
    return _grid(world, rng) if grid else _plain(world, rng)


def _plain(world: Any, rng: Any) -> dict[str, float]:
    """parse, run and compact encoding of JOBS reference jobs in a plain session, median ms of 15."""
    import numpy as np
    import orjson

    from scheduler.core.jobs import parse_jobs
    from scheduler.service import decisions
    from scheduler.service.sessions import Session

    jobs = [
        {"priority": TIERS[i % 3], "latency": "low", "cpu": float(rng.integers(1, 100)), "memory": float(rng.integers(1, 100))}
        for i in range(JOBS)
    ]
    body = orjson.dumps(jobs)
    times: dict[str, list[float]] = {"parse_ms": [], "run_ms": [], "encode_ms": []}
    for _ in range(15):
        session = Session("ab", 1, world, 0.0, 0.0)
        t0 = time.perf_counter()
        parsed = parse_jobs(body)
        t1 = time.perf_counter()
        record = session.run(parsed)
        t2 = time.perf_counter()
        decisions.encode_compact(world, record, 0, len(record))
        t3 = time.perf_counter()
        for key, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[key].append(seconds * 1000)
    return {key: round(float(np.median(v)), 2) for key, v in times.items()}


def _grid(world: Any, rng: Any) -> dict[str, float]:
    """run, compact and full encoding in a grid session, plain jobs and all-flexible ones, median ms of 7."""
    import numpy as np
    import orjson

    from scheduler.core.jobs import parse_jobs

    cpu = rng.integers(1, 100, JOBS).astype(float).tolist()
    memory = rng.integers(1, 100, JOBS).astype(float).tolist()
    plain = [{"priority": TIERS[i % 3], "cpu": cpu[i], "memory": memory[i], "duration_min": 30 + 15 * (i % 5)} for i in range(JOBS)]
    flexible = [{**job, "urgency": "flexible", "deadline": 60 * (2 + i % 48), "interruptible": bool(i % 2)} for i, job in enumerate(plain)]
    out = {}
    for name, jobs in (("plain", parse_jobs(orjson.dumps(plain))), ("flexible", parse_jobs(orjson.dumps(flexible)))):
        times = _grid_times(world, jobs)
        out |= {f"{name}_{key}": round(float(np.median(v)), 1) for key, v in times.items()}
    return out


def _grid_times(world: Any, jobs: Any) -> dict[str, list[float]]:
    from scheduler.service import decisions
    from scheduler.service.sessions import Session

    times: dict[str, list[float]] = {"run_ms": [], "compact_ms": [], "full_ms": []}
    for _ in range(7):
        session = Session("ab", 1, world, 0.0, 0.0, scenario="grid")
        t0 = time.perf_counter()
        record = session.run(jobs)
        t1 = time.perf_counter()
        decisions.encode_compact(world, record, 0, len(record))
        t2 = time.perf_counter()
        for start in range(0, len(record), 1000):  # the chunks /run streams
            decisions.encode_full(world, record, start, min(start + 1000, len(record)))
        t3 = time.perf_counter()
        for key, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[key].append(seconds * 1000)
    return times


if __name__ == "__main__":
    print(main(Path(sys.argv[1]).resolve(), "--grid" in sys.argv[2:]))
