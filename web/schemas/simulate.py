"""Answers of the simulation routes (web/routes/simulate.py); the bodies are scheduler/sim/config.py's models."""

from typing import Any, Literal

from pydantic import Field

from scheduler.sim.config import DeferralConfig, EvaluationConfig
from scheduler.sim.gpu_workload import GpuFractionConfig
from web.schemas.common import Out

RunStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class SimulationStartedOut(Out):
    id: str
    status: RunStatus = Field(description="Usually queued or running; a small run may be done (or failed) already.")
    poll: str


class ProgressOut(Out):
    done: int
    total: int
    fraction: float = Field(ge=0, le=1)
    policy: str | None


class SimulationOut(Out):
    id: str
    status: RunStatus
    config: EvaluationConfig | DeferralConfig | GpuFractionConfig
    progress: ProgressOut
    elapsed_s: float | None
    error: str | None
    result: dict[str, Any] | None = Field(description="When done: the results document, as the CLI's results.json.")
