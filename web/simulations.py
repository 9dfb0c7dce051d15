"""Simulations started over HTTP: run in a small thread pool, bounded in number, size and time.

Any study: placement (scheduler/studies/placement.py), deferral (scheduler/studies/deferral.py) or the GPU
fraction (scheduler/studies/gpu_fraction.py, in a child process of its own), by the config's type.

A run is identified by an unguessable id (uuid4), which is all a client needs to read it: runs do not
belong to sessions, and nothing a run does touches any session. At most `max_sim_runs` are queued or
running at once, and at most `max_client_sims` of them started by one client address (one more is refused,
429), so one client cannot hold every slot, and a GPU-fraction study runs alone (its child process is the
costliest run); a run past `timeout_s` is cancelled between two chunks of jobs
and reported as failed; the newest `keep` finished runs are kept for reading.
"""

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from scheduler.core.errors import EvaluationCancelled
from scheduler.placement.engine import World
from scheduler.settings import Settings
from scheduler.sim.config import DeferralConfig, EvaluationConfig, resolve_seed
from scheduler.sim.gpu_workload import GpuFractionConfig

log = logging.getLogger(__name__)
SimulationConfig = EvaluationConfig | DeferralConfig | GpuFractionConfig
"""A placement run (scheduler/studies/placement.py), a deferral study (scheduler/studies/deferral.py) or a
GPU-fraction study (scheduler/studies/gpu_fraction.py)."""
ACTIVE = ("queued", "running")


class TooManySimulations(RuntimeError):
    """Every simulation slot is taken; the message says how many and when to retry."""


@dataclass
class SimulationRun:
    id: str
    config: SimulationConfig
    created: float
    status: str = "queued"  # queued -> running -> done | failed | cancelled
    done: int = 0
    total: int = 0
    policy: str | None = None
    started: float | None = None
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    cancel_requested: bool = False
    owner: str = ""
    """The client address that started it (its share of the slots); never shown."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def view(self) -> dict[str, Any]:
        with self.lock:
            end = self.finished or time.monotonic()
            fraction = round(self.done / self.total, 4) if self.total else 0.0
            return {
                "id": self.id,
                "status": self.status,
                "config": self.config.model_dump(mode="json"),
                "progress": {"done": self.done, "total": self.total, "fraction": fraction, "policy": self.policy},
                "elapsed_s": None if self.started is None else round(end - self.started, 3),
                "error": self.error,
                "result": self.result,
            }


class SimulationRunner:
    def __init__(self, world: World, settings: Settings):
        self._world = world
        self._settings = settings
        self._runs: OrderedDict[str, SimulationRun] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=settings.max_sim_runs, thread_name_prefix="simulate")

    def start(self, config: SimulationConfig, owner: str = "") -> SimulationRun:
        """Queue a run for client `owner`; TooManySimulations when max_sim_runs are already queued or
        running, or max_client_sims of them are the owner's."""
        with self._lock:
            active = sum(r.status in ACTIVE for r in self._runs.values())
            if active >= self._settings.max_sim_runs:
                raise TooManySimulations(
                    f"{active} simulations are running and at most {self._settings.max_sim_runs} may run at once "
                    "(TASKPILOT_MAX_SIM_RUNS); retry when one finishes"
                )
            # A run its client cancelled stops at its next chunk: it holds a thread until then, not the client's share.
            mine = sum(r.status in ACTIVE and r.owner == owner and not r.cancel_requested for r in self._runs.values())
            if mine >= self._settings.max_client_sims:
                raise TooManySimulations(
                    f"your address has {mine} simulation(s) queued or running and may have {self._settings.max_client_sims} "
                    "at once (TASKPILOT_MAX_CLIENT_SIMS); retry when yours finishes, or cancel it (DELETE /simulate/{id})"
                )
            # A GPU-fraction study runs alone: its child process, with scikit-learn, costs 167 MB with a placement run
            # beside it, and every cap full at once then reached 516-521 MB, over the 512 MB instance
            # (docs/configuration.md#memory-at-the-caps). Runs a client cancelled still count: they hold memory until they stop.
            gpu = isinstance(config, GpuFractionConfig)
            if active and (gpu or any(r.status in ACTIVE and isinstance(r.config, GpuFractionConfig) for r in self._runs.values())):
                raise TooManySimulations(
                    "a GPU-fraction study runs alone (it is a process of its own, with scikit-learn), and "
                    + ("another simulation is running" if gpu else "one is running")
                    + "; retry when it finishes"
                )
            # The seed is fixed here, not in the worker, so a run that fails or is cancelled still reports it.
            seeded = config.model_copy(update={"seed": resolve_seed(config.seed)})
            run = SimulationRun(str(uuid.uuid4()), seeded, time.monotonic(), owner=owner)
            self._runs[run.id] = run
            self._forget_old()
        self._pool.submit(self._work, run)
        return run

    def get(self, run_id: str) -> SimulationRun | None:
        with self._lock:
            return self._runs.get(run_id)

    def cancel(self, run_id: str) -> SimulationRun | None:
        run = self.get(run_id)
        if run is not None:
            with run.lock:
                run.cancel_requested = True
                if run.status == "queued":  # never started: it will see the flag and stop at once
                    run.status, run.finished, run.error = "cancelled", time.monotonic(), "cancelled before it started"
        return run

    def shutdown(self) -> None:
        with self._lock:
            for run in self._runs.values():
                run.cancel_requested = True
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _work(self, run: SimulationRun) -> None:
        with run.lock:
            if run.status != "queued":
                return
            run.status, run.started = "running", time.monotonic()
        deadline = run.started + self._settings.sim_timeout_s
        try:
            document = self._study(
                run.config,
                progress=lambda done, total, policy: self._progress(run, done, total, policy),
                cancel=lambda: run.cancel_requested or time.monotonic() > deadline,
            )
            outcome, error = "done", None
        except EvaluationCancelled as exc:
            timed_out = not run.cancel_requested
            outcome, document = ("failed" if timed_out else "cancelled"), None
            error = f"timed out after {self._settings.sim_timeout_s:g} s (TASKPILOT_SIM_TIMEOUT_S): {exc}" if timed_out else str(exc)
        except ValueError as exc:  # the run's inputs do not fit its data, e.g. a start outside a region's series
            outcome, document, error = "failed", None, str(exc)
        except Exception as exc:  # a bug must not kill the worker thread silently
            log.exception("simulation %s failed", run.id)
            # The message may name a file or other server details: the log has it, the client a summary.
            outcome, document, error = "failed", None, f"the simulation failed ({type(exc).__name__}; the server's log has the details)"
        with run.lock:
            run.status, run.result, run.error, run.finished = outcome, document, error, time.monotonic()

    def _study(self, config: SimulationConfig, progress: Callable[[int, int, str], None], cancel: Callable[[], bool]) -> dict[str, Any]:
        """The results document of one run of any study."""
        # Imported on first use: the simulator's modules cost ~40 ms that start-up should not pay.
        if isinstance(config, GpuFractionConfig):
            from scheduler.studies.gpu_fraction_child import run_in_child  # its forest's 136 MB stay in the child

            return run_in_child(config, progress=progress, cancel=cancel)
        if isinstance(config, DeferralConfig):
            from scheduler.studies.deferral import run_deferral

            world, settings = self._world, self._settings
            return run_deferral(
                config,
                world.fleet,
                world.signals.energy_price,
                data_dir=settings.data_dir,
                cache_dir=settings.cache_dir,
                progress=progress,
                cancel=cancel,
            )
        from scheduler.studies.placement import grid_inputs, run_evaluation

        grid, regions = grid_inputs(self._world, config.scenario)
        result = run_evaluation(
            self._world, grid, config, regions=regions, data_dir=self._settings.data_dir, progress=progress, cancel=cancel
        )
        return result.to_json()

    @staticmethod
    def _progress(run: SimulationRun, done: int, total: int, policy: str) -> None:
        with run.lock:
            run.done, run.total, run.policy = done, total, policy

    def _forget_old(self) -> None:
        """Keep the newest `max_sim_results` finished runs (active ones are never dropped)."""
        finished = [k for k, r in self._runs.items() if r.status not in ACTIVE]
        for key in finished[: max(0, len(finished) - self._settings.max_sim_results)]:
            del self._runs[key]
