"""The `budgets` benchmark: what one request at each of its size limits costs the server, in memory and time.

Each request runs alone on a fresh live server with the default settings (rate limits lifted, and
TASKPILOT_MAX_SIM_JOBS at the simulator's own 200,000, so that the simulations' work limits bind), started as
the documented commands start it; the figure is the server's VmHWM (peak RSS) once the request has been
answered (or, for a simulation, has finished), and the wall time from sending it to that point:

- `plan_work`: 2,400 jobs x 744 slots (a month of hourly ES data, deadlines at its end) x 12 forecast runs
  (perfect, persistence, noisy x 10) = 21.4 M slot evaluations, just under TASKPILOT_MAX_PLAN_WORK (25 M);
- `plan_slots`: a year of the ES zone at step_min 1 (525,600 slots, TASKPILOT_MAX_PLAN_SLOTS is 527,040)
  with 100 jobs of one-day windows, perfect + persistence + noisy x 10;
- `plan_pieces`: 900 interruptible six-hour jobs on a series that alternates every 5 minutes, counted at
  197,100 pieces of TASKPILOT_MAX_PLAN_PIECES's 200,000 (73 per job and strategy at most); the perfect and
  noisy forecasts cut each job into 72, persistence keeps it whole: 130,500 runs listed, a 5.7 MB answer;
- `sim_job_runs`: a placement simulation of 200,000 jobs x 7 policies (TASKPILOT_MAX_SIM_JOB_RUNS);
- `deferral_work`: a deferral study of 128,000 jobs over the four shipped zones (99.8 M of
  TASKPILOT_MAX_DEFERRAL_WORK's 100 M);
- `upload_rows`: a CSV of 100,000 valid rows (TASKPILOT_MAX_BATCH_JOBS).
"""

import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.live import live_server
from bench.report import Figure
from bench.sizes import Plan
from bench.workload import jobs_csv

SETTINGS = {
    "TASKPILOT_RATE_LIMIT_CLIENT": "",
    "TASKPILOT_RATE_LIMIT_SESSION": "",
    "TASKPILOT_RATE_LIMIT_NEW_SESSIONS": "",
    "TASKPILOT_DATABASE": ":memory:",
    # The simulator's own cap rather than the 10,000-job default, so that the simulations' work limits are what binds.
    "TASKPILOT_MAX_SIM_JOBS": "200000",
}
MONTH = {"zone": "ES", "start": "2023-01-01T00:00Z", "end": "2023-02-01T00:00Z"}


def _jobs(n: int, deadline: Any, **extra: Any) -> list[dict[str, Any]]:
    return [{"job_id": f"j{i}", "submit_time": "2023-01-01T00:00Z", "duration_min": 120, "deadline": deadline, **extra} for i in range(n)]


def _alternating_month() -> dict[str, Any]:
    """31 days of 5-minute readings alternating 100 and 500 g/kWh: the cheapest slots of a window never touch."""
    start = 1672531200  # 2023-01-01T00:00Z
    times = [time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(start + 300 * k)) for k in range(31 * 288)]
    return {"times": times, "values": [100.0 if k % 2 else 500.0 for k in range(len(times))]}


NOISY = {"forecasts": ["perfect", "noisy", "persistence"], "seeds": 10}
SEVEN = "tier_agents,round_robin,random,greedy,least_loaded,lowest_carbon,oracle"
CASES: dict[str, Callable[[], tuple[str, dict[str, Any]]]] = {
    "plan_work": lambda: ("/plan", {**MONTH, "jobs": _jobs(2_400, "2023-01-31T23:00Z"), **NOISY}),
    "plan_slots": lambda: (
        "/plan",
        {"zone": "ES", "start": "2023-01-01T00:00Z", "end": "2024-01-01T00:00Z", "step_min": 1, "jobs": _jobs(100, 24 * 60), **NOISY},
    ),
    "plan_pieces": lambda: (
        "/plan",
        {
            "carbon": _alternating_month(),
            "jobs": _jobs(900, 12 * 60, duration_min=6 * 60, interruptible=True),
            "forecasts": ["perfect", "persistence", "noisy"],
            "seeds": 1,
        },
    ),
    # The seven policies this case was measured with ("all" is nine now, and the constrained reference adds 12 runs:
    # 200,000 jobs x either is over TASKPILOT_MAX_SIM_JOB_RUNS, a 413 rather than a measure).
    "sim_job_runs": lambda: (
        "/simulate",
        {"workload": "poisson", "jobs": 200_000, "seed": 1, "policies": SEVEN, "reference": False, "scenario": "grid"},
    ),
    "deferral_work": lambda: ("/simulate", {"study": "deferral", "jobs": 128_000, "seed": 1}),
}


def budgets(plan: Plan) -> list[Figure]:
    figures = []
    for name, case in [*CASES.items(), ("upload_rows", None)]:
        rss = Figure(f"budgets.{name}_rss_mb", "MB", note="server VmHWM once answered (or finished)")
        wall = Figure(f"budgets.{name}_wall_s", "s", note="request sent to answer (or finish)")
        with live_server(SETTINGS) as server, server.client() as client:
            started = time.perf_counter()
            if case is None:
                _upload(client)
            else:
                _send(client, *case())
            wall.samples.append(time.perf_counter() - started)
            rss.samples.append(server.status_mb("VmHWM"))
        figures += [rss, wall]
    return figures


def _send(client: httpx.Client, path: str, body: dict[str, Any]) -> None:
    response = client.post(path, json=body)
    if response.status_code not in (200, 202):
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:500]}")
    if path == "/simulate":
        _finish(client, response.headers["location"])


def _finish(client: httpx.Client, location: str) -> None:
    while (view := client.get(location).json())["status"] in ("queued", "running"):
        time.sleep(0.5)  # the polling interval
    if view["status"] != "done":
        raise RuntimeError(f"{location}: {view['status']}: {view['error']}")


def _upload(client: httpx.Client) -> None:
    sid = client.get("/session").json()["session_id"]
    response = client.post("/upload", files={"file": ("jobs.csv", jobs_csv(100_000), "text/csv")}, headers={"X-Session-ID": sid})
    if response.status_code != 200:
        raise RuntimeError(f"/upload: {response.status_code} {response.text[:500]}")
