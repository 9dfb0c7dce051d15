"""POST /simulate starts a simulator run comparing placement policies, the deferral study's when-to-run
strategies (`"study": "deferral"`) or the GPU-fraction study (`"study": "gpu-fraction"`); GET /simulate/{id}
follows it."""

import math
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from scheduler.core.errors import quote
from scheduler.placement.engine import World
from scheduler.settings import Settings
from scheduler.sim.config import DeferralConfig, EvaluationConfig
from scheduler.sim.gpu_workload import DQN_EPISODE_TASKS, GpuFractionConfig
from web.body_guard import decode_object
from web.deps import SettingsDep, WorldDep
from web.errors import LimitExceeded
from web.params import RunId
from web.ratelimit import client_key
from web.responses import ORJSONResponse, errors, links
from web.schemas.simulate import SimulationOut, SimulationStartedOut
from web.simulations import SimulationRunner, TooManySimulations

router = APIRouter(tags=["simulate"])
ConfigT = TypeVar("ConfigT", EvaluationConfig, DeferralConfig, GpuFractionConfig)
STUDIES = ("placement", "deferral", "gpu-fraction")


def _runner(request: Request) -> SimulationRunner:
    return request.app.state.simulations


# anyOf, not oneOf: {} (every default) is a valid config of both studies, and is the placement one.
_BODY_SCHEMA = {"anyOf": [EvaluationConfig.model_json_schema(), DeferralConfig.model_json_schema(), GpuFractionConfig.model_json_schema()]}
_EXAMPLES = {
    "placement": {
        "value": {"workload": "poisson", "jobs": 300, "seed": 5, "policies": ["round_robin", "lowest_carbon"], "scenario": "grid"}
    },
    "deferral": {
        "value": {"study": "deferral", "jobs": 200, "seed": 3, "seeds": 2, "regions": ["ES", "NO"], "forecasts": ["perfect", "noisy"]}
    },
    "gpu-fraction": {"value": {"study": "gpu-fraction", "tasks": 2000, "seed": 1, "seeds": 2, "policies": ["hybrid_ml", "greedy"]}},
}


@router.post(
    "/simulate",
    status_code=202,
    response_model=SimulationStartedOut,
    responses={
        **errors(400, 413, 422, 429, 503),
        **links(202, get_simulation={"run_id": "$response.body#/id"}, cancel_simulation={"run_id": "$response.body#/id"}),
    },
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA, "examples": _EXAMPLES}}}},
)
async def start_simulation(request: Request, response: Response, world: WorldDep, settings: SettingsDep) -> dict[str, Any]:
    """Start a simulation (same options as `python -m scheduler.evaluate`); poll GET /simulate/{id}.
    `"study": "deferral"` runs the deferral study (DeferralConfig); `"study": "gpu-fraction"` the GPU-fraction
    study (GpuFractionConfig, in a child process: docs/gpu-fraction.md); absent or "placement", the placement one.

    Bounded by TASKPILOT_MAX_SIM_JOBS, its work (jobs x (policies + the constrained reference's search runs),
    TASKPILOT_MAX_SIM_JOB_RUNS, and so are a GPU-fraction study's tasks (by TASKPILOT_MAX_SIM_JOBS) and its
    tasks x seeds x policies plus the DQN's training tasks (dqn_episodes x 500 x seeds); a deferral study's
    job plans x window slots, TASKPILOT_MAX_DEFERRAL_WORK: 413)
    and TASKPILOT_MAX_SIM_RUNS running at once, a GPU-fraction study alone (429)."""
    # The body is decoded off the event loop (FastAPI would decode it on the loop: ~100 ms for 16 MB).
    payload = await run_in_threadpool(decode_object, await request.body())
    return await run_in_threadpool(_start, request, response, world, settings, payload)


def _start(request: Request, response: Response, world: World, settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    jobs = payload.get("jobs")
    if isinstance(jobs, int) and not isinstance(jobs, bool) and jobs > settings.max_sim_jobs:  # a size bound, checked before the schema's
        raise LimitExceeded(f"jobs={jobs} is over the limit of {settings.max_sim_jobs} per simulation (TASKPILOT_MAX_SIM_JOBS)")
    study = payload.get("study", "placement")
    if study not in STUDIES:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "study"),
                    "msg": f"study must be placement, deferral or gpu-fraction; got {quote(study)}",
                    "type": "value_error",
                }
            ]
        )
    config: EvaluationConfig | DeferralConfig | GpuFractionConfig
    if study == "gpu-fraction":
        config = _validated(GpuFractionConfig, payload)
    else:
        config = _deferral_config(payload, settings) if study == "deferral" else _placement_config(payload, world, settings)
    _check_work(config, settings)
    try:
        run = _runner(request).start(config, client_key(request.scope))
    except TooManySimulations as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": "10"}) from None
    response.headers["Location"] = f"/simulate/{run.id}"
    return {"id": run.id, "status": run.status, "poll": f"/simulate/{run.id}"}


SHIPPED_STEP_MIN, FINEST_STEP_MIN = 60, 5
"""The shipped zones' step; regions read from ../shared/data are counted at the finest step of any (WattTime's)."""


def _check_work(config: EvaluationConfig | DeferralConfig | GpuFractionConfig, settings: Settings) -> None:
    """413 when a run's work, known from its config, is over its setting (checked before it takes a slot)."""
    if isinstance(config, GpuFractionConfig):
        # Its process's peak memory goes with the tasks (184 MB at 10,000, 283 MB at 100,000: docs/gpu-fraction.md).
        if config.tasks > settings.max_sim_jobs:
            raise LimitExceeded(
                f"tasks={config.tasks} is over the limit of {settings.max_sim_jobs} per simulation (TASKPILOT_MAX_SIM_JOBS)"
            )
        # The DQN's pre-training is work too: up to 1,000 episodes of 500 tasks for each seed, before its run.
        training = config.dqn_training_tasks()
        runs = config.tasks * config.seeds * len(config.policies) + training
        if runs > settings.max_sim_job_runs:
            dqn = f" + dqn_episodes ({config.dqn_episodes:,}) x {DQN_EPISODE_TASKS} tasks x seeds ({config.seeds})" if training else ""
            raise LimitExceeded(
                f"tasks ({config.tasks:,}) x seeds ({config.seeds}) x policies ({len(config.policies)}, the oracle included){dqn} = "
                f"{runs:,} task runs; the limit is {settings.max_sim_job_runs:,} (TASKPILOT_MAX_SIM_JOB_RUNS): "
                "fewer tasks, seeds or policies" + (", or fewer dqn_episodes" if training else "")
            )
        return
    if isinstance(config, EvaluationConfig):
        sims = config.job_runs()
        runs = config.jobs * sims
        if runs > settings.max_sim_job_runs:
            extra = sims - len(config.policies)
            what = f"policies ({len(config.policies)})" + (f" + the constrained reference's runs ({extra})" if extra else "")
            raise LimitExceeded(
                f"jobs ({config.jobs:,}) x {what} = {runs:,} job runs; the limit is {settings.max_sim_job_runs:,} "
                '(TASKPILOT_MAX_SIM_JOB_RUNS): fewer jobs or policies, or "reference": false'
            )
        return
    from scheduler.studies.deferral import strategy_runs
    from scheduler.studies.deferral_regions import SOURCES

    def window(region: str) -> int:  # slots a flexible job's plan looks at: its slack, plus one for its run
        step = SHIPPED_STEP_MIN if SOURCES[region].path is None else FINEST_STEP_MIN
        return 1 + math.ceil(config.slack_h * 60 / step)

    per_job = sum(strategy_runs(config, r) * window(r) for r in config.regions)
    if config.jobs * per_job > settings.max_deferral_work:
        raise LimitExceeded(
            f"jobs ({config.jobs:,}) x, summed over {len(config.regions)} region(s), strategy runs (3 + forecasts + seeds - 1 for "
            f"noisy) x window slots (1 + slack_h / the region's step) ({per_job:,}) = {config.jobs * per_job:,}; the limit is "
            f"{settings.max_deferral_work:,} (TASKPILOT_MAX_DEFERRAL_WORK): fewer jobs, seeds, forecasts or regions, or a shorter slack_h"
        )


def _validated(model: type[ConfigT], payload: dict[str, Any]) -> ConfigT:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]) from None


def _placement_config(payload: dict[str, Any], world: World, settings: Settings) -> EvaluationConfig:
    config = _validated(EvaluationConfig, {k: v for k, v in payload.items() if k != "study"})
    if config.workload == "file":
        raise HTTPException(422, "workload 'file' reads a CSV from disk and is only for the CLI; use task, poisson, gaia-azure or gaia-pai")
    world.runtime(config.scenario)  # builds it now, or answers 503 saying why it cannot be built
    from scheduler.studies.placement import (
        check_config,  # the simulator's modules load on the first simulation, not at start-up
    )

    try:
        check_config(config, settings.data_dir)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return config


def _deferral_config(payload: dict[str, Any], settings: Settings) -> DeferralConfig:
    """The deferral study needs no grid scenario (it reads each region's series itself)."""
    config = _validated(DeferralConfig, payload)
    from scheduler.studies.deferral import (
        check_deferral,  # loads the planner on the first deferral run
    )

    try:
        check_deferral(config, settings.data_dir)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return config


# A finished run's view holds its whole results document: orjson sends it as built, SimulationOut documents it.
@router.get("/simulate/{run_id}", response_model=SimulationOut, responses=errors(404, 422))
def get_simulation(request: Request, run_id: RunId) -> ORJSONResponse:
    """Progress while running; the results (as the CLI's results.json) when done."""
    run = _runner(request).get(run_id)
    if run is None:
        raise HTTPException(404, f"no simulation {run_id}: unknown, or dropped after newer ones finished")
    return ORJSONResponse(run.view())


@router.delete("/simulate/{run_id}", response_model=SimulationOut, responses=errors(404, 422))
def cancel_simulation(request: Request, run_id: RunId) -> ORJSONResponse:
    """Ask a queued or running simulation to stop (it stops between two chunks of jobs)."""
    run = _runner(request).cancel(run_id)
    if run is None:
        raise HTTPException(404, f"no simulation {run_id}")
    return ORJSONResponse(run.view())
