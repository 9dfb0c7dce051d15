"""Placement of a grid session's jobs by the pre-trained DQN (TASKPILOT_GRID_POLICY=dqn), instead of the tier agents.

The service has no queue model: a session's jobs are planned (when and how, scheduler.timeshift), never
held back by the jobs before them, so each job sees every pool server free (wait 0, no jobs in system)
and a batch's states are all known before the first choice. The DQN then ranks a job's pool servers by
what it learned in the simulator about their grid now, their grid over the job's run (the scenario's
intensity_g_per_kwh: the mean over the hours the job runs there), the job's runtime and core share
there and its dynamic CO2: one matrix product per tier, greedy, with the session's deadline mask. It does
not learn online (its training is offline, `python -m scheduler train-dqn`), so it draws no randomness.
"""

import numpy as np

from rl.dqn import DQNAgent
from rl.dqn_net import predict
from scheduler.core import energy
from scheduler.core.job_batch import JobBatch
from scheduler.placement.grid_features import dynamic_kwh, grid_states
from scheduler.placement.scenario import GridScenario, StepMetrics

TRAINING_FIELDS = ("seed", "runs", "jobs", "workloads", "lam", "episode_jobs", "regions")
"""The training arguments GET /agents shows (not where the file was written or read from)."""


def server_figures(scenario: GridScenario, step: StepMetrics, jobs: JobBatch) -> dict[str, np.ndarray]:
    """Each job's per-server figures, (n, n_servers): intensity now and over the run, runtime, core share, dynamic kWh."""
    machines = scenario.machines
    work = energy.job_work(jobs.cpu, jobs.memory, jobs.duration_min, jobs.size, jobs.intensity)
    share = np.minimum(work.cores[:, None], machines.cores[None, :]) / machines.cores[None, :]
    now = np.empty_like(step.runtime_min)
    for z, series in enumerate(scenario.zone_series):
        servers = np.flatnonzero(scenario.server_zone == z)
        if servers.size:
            now[:, servers] = series.at(step.hour)[:, None]
    dyn = np.maximum(dynamic_kwh(step.metrics.energy_kwh, step.runtime_min, share, machines.p_idle_w[None, :]), 0.0)
    return {"now": now, "forecast": step.intensity_g_per_kwh, "runtime": step.runtime_min, "share": share, "dynamic": dyn}


def place(
    agent: DQNAgent,
    figures: dict[str, np.ndarray],
    rows: np.ndarray,
    pool: np.ndarray,
    tier: int,
    pool_width: int,
    allowed: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(actions (m,) pool indices, Q-values (m, pool size)) for one tier's rows: the allowed server with the
    highest Q, the lowest index on ties (argmax keeps the first)."""
    cols = np.ix_(rows, pool)
    zeros = np.zeros((len(rows), len(pool)))
    x = grid_states(tier, pool_width, figures["now"][cols], figures["forecast"][cols], zeros, zeros, figures["runtime"][cols],
                    figures["share"][cols], figures["dynamic"][cols])  # fmt: skip
    q = predict(agent.params, x)[:, : len(pool)]
    masked = q if allowed is None else np.where(allowed, q, -np.inf)
    return masked.argmax(axis=1), q


def describe(agent: DQNAgent) -> dict[str, object]:
    """What GET /agents shows of the DQN a grid session is placed by: its inputs, its size, how it was trained."""
    meta = agent.meta
    return {
        "features": list(meta.get("features", [])),
        "actions": "position in the job's pool",
        "hidden": list(agent.config.hidden),
        "lam_g_per_min": meta.get("lam_g_per_min"),
        "trained_steps": agent.steps,
        "trained_on": {k: v for k, v in meta.get("trained_on", {}).items() if k in TRAINING_FIELDS},
    }
