"""The large-DAG benchmark (issue 13): a random 10,000-task workflow of depth 50, validated and planned in
this process as POST /workflows does it before storing anything.

The workflow is drawn from `np.random.default_rng(SEED)`: 50 layers of 200 tasks; every task after the
first layer depends on 1 to 3 tasks of the layer just above it (so the depth is exactly 50) and, with
probability 1/2, on one more task of any earlier layer; each is a `sleep` of 1 to 30 minutes with random
cpu and memory, and the workflow has a deadline 1.5 x its critical path. One measured run is
`parse_workflow` (shape, limits, graph with its cycle search, kinds and params, job fields, critical path and
latest starts, layers) then the placement (scheduler.service.workflows: the session's agents decide every
task's server, `placements_of`, and `build_records` turns the plan into the stored records). A fresh session
per run; one warm-up run first. The JSON is decoded beforehand (decoding is not timed).
"""

import asyncio
import time
from typing import Any

import numpy as np

from bench.inprocess import default_settings, lifespan_world
from bench.report import Figure, Target
from bench.sizes import Plan

SEED = 20_241_206
TASKS, DEPTH = 10_000, 50
TARGET_S = 1.0


def large_dag(plan: Plan) -> list[Figure]:
    from scheduler.execution.admit import build_records
    from scheduler.execution.builtin_kinds import load_kinds
    from scheduler.execution.spec import parse_workflow
    from scheduler.service.sessions import Session, derive_seed
    from scheduler.service.task_placement import placements_of
    from scheduler.service.workflows import _place

    load_kinds(None)
    settings = default_settings()
    world = asyncio.run(lifespan_world(settings))
    body = dag_body(np.random.default_rng(SEED))
    total = Figure("workflow_dag.total_s", "s", Target("<=", TARGET_S), f"{TASKS:,} tasks, depth {DEPTH}: validated and planned")
    validate = Figure("workflow_dag.validate_s", "s", note="parse_workflow: validation, cycle search, critical path, layers")
    place = Figure("workflow_dag.plan_s", "s", note="the session's placement of every task, and the records to store")
    for run in range(plan.repeats + 1):
        session_id = f"bench-dag-{run}"
        session = Session(session_id, derive_seed(settings.seed, session_id), world, created=0.0, last_used=0.0)
        started = time.perf_counter()
        spec = parse_workflow(body, TASKS, settings.max_params_bytes)
        parsed = time.perf_counter()
        record = _place(session, spec)
        placements = placements_of(world, record, np.arange(len(record) - TASKS, len(record)))
        _, tasks, _ = build_records(spec, placements, session_id, 0.0, settings.clock_scale, 7)
        ended = time.perf_counter()
        if max(spec.layers) != DEPTH - 1 or len(tasks) != TASKS:
            raise RuntimeError(f"the workflow drawn has depth {max(spec.layers) + 1} and {len(tasks)} tasks")
        if run > 0:  # run 0 warms up
            validate.samples.append(parsed - started)
            place.samples.append(ended - parsed)
            total.samples.append(ended - started)
    return [total, validate, place]


def dag_body(rng: np.random.Generator) -> dict[str, Any]:
    width = TASKS // DEPTH
    tasks: list[dict[str, Any]] = []
    durations = rng.integers(1, 31, TASKS)
    finish = np.zeros(TASKS)
    for i in range(TASKS):
        layer = i // width
        parents: set[int] = set()
        if layer > 0:
            above = range((layer - 1) * width, layer * width)
            parents.update(int(p) for p in rng.choice(above, size=int(rng.integers(1, 4)), replace=False))
            if rng.random() < 0.5:
                parents.add(int(rng.integers(0, layer * width)))
        finish[i] = durations[i] + max((finish[p] for p in parents), default=0.0)
        task = {"id": f"t{i}", "kind": "sleep", "duration_min": int(durations[i]), "cpu": int(rng.integers(1, 101)),
                "memory": int(rng.integers(1, 101))}  # fmt: skip
        if parents:
            task["depends_on"] = [f"t{p}" for p in sorted(parents)]
        tasks.append(task)
    return {"name": "large dag", "deadline": float(finish.max()) * 1.5, "tasks": tasks}
