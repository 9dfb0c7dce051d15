"""Memory at the caps, on the default settings (rate limits off, so that filling is not refused).

Stages (STAGES): TASKPILOT_MAX_SESSIONS empty sessions; one /run of TASKPILOT_MAX_BATCH_JOBS jobs with the
full answer, in a grid session; TASKPILOT_MAX_TOTAL_JOBS scheduled jobs in grid sessions (the costlier
kind), each loopback address 127.0.0.N filling its TASKPILOT_MAX_CLIENT_JOBS share in sessions of
TASKPILOT_MAX_SESSION_JOBS; the simulation slots, a GPU-fraction study of every policy as large as the limits
admit, which runs alone (run_simulations), until it ends; both plan workers at once on a year of
one-minute slots (the TASKPILOT_MAX_PLAN_SLOTS default) for TASKPILOT_MAX_PLAN_JOBS jobs; a workflow keeping
every worker process (TASKPILOT_WORKERS_FAST + TASKPILOT_WORKERS_ECO) busy with the largest analytics task.

Each stage runs alone on a fresh server (its cost: peak above idle), then every cap at once on one server
(all_at_once: the sessions and jobs held, then the other stages in flight together); `sum` adds idle and
every cost, a bound that no run of these can pass. Memory is the process tree's (tree_mb: the server and the workflow executor's worker
processes), sampled every SAMPLE_S while a stage runs: an instance's memory limit applies to the tree.
"""

import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.live import REQUEST_TIMEOUT_S, LiveServer, live_server
from bench.report import Figure, Target
from bench.server import UNLIMITED, post_run
from bench.sizes import Plan
from bench.workload import job_body
from scheduler.settings import Settings

SAMPLE_S = 0.2
INSTANCE_MB = 512
"""The instance the README recommends (Render's free plan): the worst case must fit in it."""


def tree_mb(pid: int) -> float:
    """What the process tree costs an instance, in MB (10^6 bytes): the server's resident memory plus the
    private memory of every process below it (the workflow executor's workers), whose shared library pages
    the server's figure already counts. (PSS would split shared pages with unrelated processes on this
    machine, and so undercount.)"""
    total, todo = status_kb(pid, "VmRSS"), children(pid)
    while todo:
        p = todo.pop()
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()
        except OSError:  # a process that ended while we looked
            continue
        total += sum(int(line.split()[1]) for line in rollup if line.startswith(("Private_Clean:", "Private_Dirty:")))
        todo += children(p)
    return total * 1024 / 1e6


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def children(pid: int) -> list[int]:
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    except OSError:
        return []


def while_sampling(server: LiveServer, work: Callable[[], Any]) -> tuple[Any, float]:
    """Run `work`, sampling the tree's memory meanwhile; returns its result and the largest sample."""
    peak, done = [tree_mb(server.pid)], threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_S):
            peak.append(tree_mb(server.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    return result, max([*peak, tree_mb(server.pid)])


def client_at(server: LiveServer, n: int) -> httpx.Client:
    """A client whose connections come from 127.0.0.n: one more client, as the server counts them."""
    transport = httpx.HTTPTransport(local_address=f"127.0.0.{n}")
    return httpx.Client(base_url=server.base_url, transport=transport, trust_env=False, timeout=REQUEST_TIMEOUT_S)


def fill_jobs(server: LiveServer, s: Settings) -> None:
    """s.max_total_jobs scheduled jobs in grid sessions: each address its full share, each session full."""
    left, address = s.max_total_jobs, 1
    while left > 0:
        address += 1
        with client_at(server, address) as client:
            share = min(s.max_client_jobs, left)
            left -= share
            while share > 0:
                sid = client.get("/session", params={"scenario": "grid"}).raise_for_status().json()["session_id"]
                room = min(s.max_session_jobs, share)
                share -= room
                while room > 0:
                    n = min(s.max_batch_jobs, room)
                    room -= n
                    post_run(client, job_body(n), "compact", sid)


def start_largest(client: httpx.Client, config: dict[str, Any], size: str = "jobs") -> tuple[str | None, int]:
    """Start `config` with the most jobs (or tasks: `size`) the server's limits admit (halved from max_sim_jobs
    at each 413); no location when the server refuses it a slot (429)."""
    while True:
        response = client.post("/simulate", json=config)
        if response.status_code == 429:
            return None, config[size]
        if response.status_code != 413 or config[size] == 1:
            return response.raise_for_status().headers["location"], config[size]
        config = {**config, size: config[size] // 2}


def run_simulations(server: LiveServer, s: Settings) -> list[str]:
    """The simulation slots, each run as large as the limits admit, from addresses of their own, in this order:
    a GPU-fraction study of every policy (its child process, with scikit-learn, is the costliest run), a
    placement run of every policy, a deferral study. The service runs a GPU-fraction study alone, so the others
    are refused (429) while it runs: that is the costliest way to fill the slots (a placement run and a
    deferral study together cost +43 MB)."""
    configs = [
        {"study": "gpu-fraction", "tasks": s.max_sim_jobs, "seed": 1},  # every policy, the DQN's default pre-training
        {"workload": "poisson", "jobs": s.max_sim_jobs, "seed": 1, "scenario": "grid"},  # every policy
        {"study": "deferral", "jobs": s.max_sim_jobs, "seed": 1},
    ]
    ends, outcomes = [], []
    for n, config in enumerate(configs[: s.max_sim_runs]):
        size = "tasks" if "tasks" in config else "jobs"
        with client_at(server, 100 + n) as client:
            location, count = start_largest(client, config, size)
        what = f"{config.get('study', 'placement')} of {count} {size}: "
        if location is None:
            outcomes.append(what + "refused (429)")
            continue
        ends.append((len(outcomes), location))
        outcomes.append(what)
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=REQUEST_TIMEOUT_S) as client:
        for n, location in ends:
            while (status := client.get(location).json()["status"]) in ("queued", "running"):
                time.sleep(1.0)  # polling interval: the sampler measures meanwhile
            outcomes[n] += status
    return outcomes


def run_plans(server: LiveServer, s: Settings) -> list[int]:
    jobs = [{"job_id": f"j{i}", "submit_time": f"2023-{1 + i % 12:02d}-10T00:00Z", "duration_min": 60 + i % 240,
             "deadline": 24 * 60, "power_w": 300} for i in range(s.max_plan_jobs)]  # fmt: skip
    body = {"zone": "ES", "start": "2023-01-01T00:00Z", "end": "2024-01-01T00:00Z", "step_min": 1, "jobs": jobs, "forecasts": ["perfect"]}

    def one(n: int) -> int:
        with client_at(server, 150 + n) as client:
            return client.post("/plan", json=body).status_code

    with ThreadPoolExecutor(s.plan_workers) as pool:
        return list(pool.map(one, range(s.plan_workers)))


def fill_sessions(server: LiveServer, s: Settings) -> str:
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=REQUEST_TIMEOUT_S) as client:
        for _ in range(s.max_sessions):
            client.get("/session").raise_for_status()
    return f"{s.max_sessions} empty sessions"


def one_big_run(server: LiveServer, s: Settings) -> str:
    with client_at(server, 200) as client:
        sid = client.get("/session", params={"scenario": "grid"}).raise_for_status().json()["session_id"]
        size = post_run(client, job_body(s.max_batch_jobs), "full", sid)
        client.post("/reset", headers={"X-Session-ID": sid}).raise_for_status()
    return f"one /run of {s.max_batch_jobs} jobs in a grid session, detail=full ({size / 1e6:.0f} MB answer), then reset"


def run_workflow(server: LiveServer, s: Settings) -> str:
    """Every worker process busy with the largest analytics task a workflow may ask for, until all end."""
    from scheduler.core.states import WORKFLOW_FINAL

    workers = s.workers_fast + s.workers_eco
    tasks = [{"id": f"t{i}", "kind": "analytics", "params": {"rows": 2_000_000}, "priority": ("green", "performance")[i % 2]}
             for i in range(2 * workers)]  # fmt: skip
    with client_at(server, 210) as client:
        sid = {"X-Session-ID": "bench-caps-workflow"}
        workflow = client.post("/workflows", json={"name": "caps", "tasks": tasks}, headers=sid).raise_for_status().json()
        while (state := client.get(f"/workflows/{workflow['workflow_id']}", headers=sid).json()["state"]) not in WORKFLOW_FINAL:
            time.sleep(0.5)  # polling interval: the sampler measures meanwhile
    return f"a workflow of {len(tasks)} analytics tasks of 2,000,000 rows on {workers} worker processes ({state})"


STAGES: dict[str, Callable[[LiveServer, Settings], Any]] = {
    "sessions": fill_sessions,
    "run": one_big_run,  # before the jobs: with every job held, a /run is refused (503)
    "jobs": lambda server, s: (fill_jobs(server, s), f"{s.max_total_jobs} scheduled jobs in grid sessions")[1],
    "simulations": lambda server, s: "the simulation slots: " + "; ".join(run_simulations(server, s)),
    "workflows": run_workflow,
    "plans": lambda server,
    s: f"{s.plan_workers} plan(s) at once (TASKPILOT_PLAN_WORKERS), {s.max_plan_jobs} jobs on a year of 1-minute slots "
    f"(HTTP {run_plans(server, s)})",
}
"""Each cap, filled by the client(s) it allows; the jobs stay held, the rest is over when the stage ends."""


TRANSIENT = ("run", "simulations", "plans", "workflows")
"""The stages whose memory is over when they end: in the all-at-once run they go together, the jobs held."""


def all_at_once(server: LiveServer, s: Settings) -> None:
    """Every cap at once: the sessions, then the jobs held (all but one batch, so that the /run still fits), then
    the big /run, both simulations, both plans and the workflow, all in flight together."""
    fill_sessions(server, s)
    room = s.max_batch_jobs + 2 * (s.workers_fast + s.workers_eco)  # the /run's jobs and the workflow's tasks
    fill_jobs(server, s.model_copy(update={"max_total_jobs": s.max_total_jobs - room}))
    with ThreadPoolExecutor(len(TRANSIENT)) as pool:
        for done in [pool.submit(STAGES[stage], server, s) for stage in TRANSIENT]:
            done.result()


def caps(plan: Plan, overrides: dict[str, str] | None = None) -> list[Figure]:
    """Each stage alone on a fresh server (what that cap costs), then every cap at once on one server (what an
    instance must hold). `overrides`: TASKPILOT_* settings to try instead of the defaults."""
    env = {**UNLIMITED, **(overrides or {})}
    tried = {k.removeprefix("TASKPILOT_").lower(): v for k, v in (overrides or {}).items()}
    s = Settings.model_validate({**Settings.model_construct().model_dump(), **tried})  # the defaults, whatever this process's environment
    figures: list[Figure] = []
    with live_server(env) as server:
        idle = tree_mb(server.pid)
    figures.append(Figure("caps.idle_tree_mb", "MB", note="a fresh server, idle (its worker processes start with a first workflow)",
                          samples=[idle]))  # fmt: skip
    for stage, fill in STAGES.items():
        with live_server(env) as server:
            before = tree_mb(server.pid)
            what, peak = while_sampling(server, lambda fill=fill, server=server: fill(server, s))
        figures.append(Figure(f"caps.{stage}_mb", "MB", note=f"peak memory above idle, alone on a fresh server: {what}",
                              samples=[peak - before]))  # fmt: skip
        print(f"[bench] caps: {stage}: +{peak - before:.0f} MB ({what})", file=sys.stderr, flush=True)
    with live_server(env) as server:
        _, peak = while_sampling(server, lambda: all_at_once(server, s))
        hwm = server.status_mb("VmHWM")
    figures.append(Figure("caps.all_at_once_mb", "MB", Target("<=", INSTANCE_MB), "peak memory of the process tree with every "
                          f"cap full at once: the sessions and jobs held, then {', '.join(TRANSIENT)} together", [peak]))  # fmt: skip
    figures.append(Figure("caps.all_at_once_server_hwm_mb", "MB", note="the same run: the server process's VmHWM", samples=[hwm]))
    costs = sum(f.samples[0] for f in figures if f.name.removeprefix("caps.").removesuffix("_mb") in STAGES)
    figures.append(Figure("caps.sum_mb", "MB", note="idle plus every stage's own cost: a bound no run of these can pass",
                          samples=[idle + costs]))  # fmt: skip
    print(f"[bench] caps: all at once: {peak:.0f} MB (server VmHWM {hwm:.0f} MB); sum {idle + costs:.0f} MB", file=sys.stderr, flush=True)
    return figures
