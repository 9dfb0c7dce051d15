"""In-process benchmark `dqn_run`: a grid session's Session.run placed by the DQN against the tier agents.

The issue's speed target: placing with the DQN (TASKPILOT_GRID_POLICY=dqn) keeps /run within 2x of the
tier agents' time. Both worlds are built as the server builds them (create_app's lifespan, default
settings but the policy); each repeat runs the same parsed batch on a fresh grid session of each, in
turn, after one warm-up run each. The HTTP and JSON work of /run is the same for both policies, so the
ratio of whole /run requests is closer to 1 than this ratio of the placement work.
"""

import asyncio
import time

from bench.inprocess import default_settings, lifespan_world
from bench.report import Figure, Target
from bench.sizes import Plan
from bench.workload import job_body


def dqn_run(plan: Plan) -> list[Figure]:
    from scheduler.core.jobs import parse_jobs
    from scheduler.service.sessions import Session

    base = default_settings()
    worlds = {name: asyncio.run(lifespan_world(base.model_copy(update={"grid_policy": name}))) for name in ("tier_agents", "dqn")}
    jobs = parse_jobs(job_body(plan.batch_jobs))
    note = f"grid session, Session.run, {plan.batch_jobs} jobs"
    figures = {name: Figure(f"dqn_run.{name}_decisions_per_s", "decisions/s", note=note) for name in worlds}
    ratio = Figure("dqn_run.time_ratio", "x", Target("<=", 2.0), note="DQN time / tier agents' time, same batch, same repeat")
    for run in range(plan.repeats + 1):
        elapsed = {}
        for name, world in worlds.items():
            session = Session(f"bench-dqn-{name}-{run}", 1, world, created=0.0, last_used=0.0, scenario="grid")
            started = time.perf_counter()
            session.run(jobs)
            elapsed[name] = time.perf_counter() - started
        if run > 0:  # run 0 warms up (and builds the grid scenario)
            for name, seconds in elapsed.items():
                figures[name].samples.append(plan.batch_jobs / seconds)
            ratio.samples.append(elapsed["dqn"] / elapsed["tier_agents"])
    return [*figures.values(), ratio]
