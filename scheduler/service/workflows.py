"""Workflows of a session: submitted (validated, placed by the session's agents, stored, then run by the
executor), listed, read, cancelled; dead tasks listed and retried. One object per process (api.py's lifespan,
or the command line), built by `build_workflows` from the settings.

A workflow belongs to the session (X-Session-ID) that submitted it: another session neither sees nor changes
it. Its tasks are jobs of that session, scheduled as POST /run schedules them (jobs already queued in the
session are scheduled with them), so GET /jobs/{id} and its explanation show each task's decision.
"""

import dataclasses
import hashlib
from typing import Any

import numpy as np
import orjson

from scheduler.core.errors import JobValidationError, WorkflowInputError, WorkflowNotFound
from scheduler.execution.admit import build_records
from scheduler.execution.builtin_kinds import load_kinds
from scheduler.execution.clock import Clock, WallClock
from scheduler.execution.executor import Executor, ExecutorConfig
from scheduler.execution.kinds import REGISTRY
from scheduler.execution.policies import queue_order
from scheduler.execution.spec import WorkflowSpec, parse_workflow
from scheduler.service import workflow_views as views
from scheduler.service.sessions import Session, SessionStore
from scheduler.service.task_placement import placements_of, plan_co2
from scheduler.settings import Settings
from scheduler.store.base import Store
from scheduler.store.factory import open_store


class Workflows:
    def __init__(self, sessions: SessionStore, store: Store, executor: Executor, settings: Settings) -> None:
        self.sessions, self.store, self.executor, self.settings = sessions, store, executor, settings

    def submit(self, session: Session, payload: Any, key: str | None = None) -> tuple[dict[str, Any], bool]:
        """({workflow_id, tasks: {task id: job id}}, created): stored (committed) before this returns. A known
        idempotency key gives the first workflow back, and False; nothing is placed or stored again."""
        if key is not None and (found := self.store.workflow_by_key(session.id, key)) is not None:
            return self._ids(found.id), False
        spec = parse_workflow(payload, self.settings.max_workflow_tasks, self.settings.max_params_bytes)
        seed = spec.seed if spec.seed is not None else _derived_seed(session.seed, payload)
        with session.lock:  # placement and storing together: a key sent twice at once is placed once
            if key is not None and (found := self.store.workflow_by_key(session.id, key)) is not None:
                return self._ids(found.id), False
            self.sessions.check_room(session, len(spec.tasks))
            clock_before = session.clock_h
            record = _place(session, spec)
            placements = placements_of(session.world, record, np.arange(len(record) - len(spec.tasks), len(record)))
            label = getattr(session.engine.scenario, "clock_label", None)
            doc = {"scenario": session.scenario, "co2_plan": plan_co2(placements),
                   "session_clock_utc": None if clock_before is None or label is None else label(clock_before)}  # fmt: skip
            now = self.executor.clock.now()
            workflow, tasks, parents = build_records(spec, placements, session.id, now, self.settings.clock_scale, seed, key, doc)
            stored, created = self.executor.submit(workflow, tasks, parents)
        return self._ids(stored.id), created

    def _ids(self, workflow_id: str) -> dict[str, Any]:
        tasks = [t for t in self.store.tasks(workflow_id) if t.role == "task"]
        return {"workflow_id": workflow_id, "tasks": {t.name: t.job_id for t in tasks}}

    def _mine(self, session_id: str, workflow_id: str) -> Any:
        workflow = self.store.workflow(workflow_id)
        if workflow is None or workflow.session != session_id:
            raise WorkflowNotFound(f"no workflow {workflow_id} in this session")
        return workflow

    def get(self, session_id: str, workflow_id: str) -> dict[str, Any]:
        return views.workflow(self.store, self._mine(session_id, workflow_id), self.clock_info())

    def page(self, session_id: str, offset: int, limit: int) -> dict[str, Any]:
        total, found = self.store.workflows(session_id, offset, limit)
        return {"total": total, "offset": offset, "limit": limit, "workflows": [views.summary(w) for w in found]}

    def cancel(self, session_id: str, workflow_id: str) -> dict[str, Any]:
        self._mine(session_id, workflow_id)
        cancelled = self.executor.cancel(workflow_id, session_id)
        return {"workflow_id": workflow_id, "state": "cancelled", "cancelled_tasks": cancelled}

    def dead_letter(self, session_id: str, offset: int, limit: int) -> dict[str, Any]:
        total, found = self.store.dead(session_id, offset, limit)
        return {"total": total, "offset": offset, "limit": limit, "tasks": [views.dead(t) for t in found]}

    def retry_job(self, session_id: str, job_id: int) -> dict[str, Any]:
        """Queue the session's dead task with this job id again (its compensation, if that is what died)."""
        found = self.store.tasks_by_job(session_id, job_id)
        if not found:
            raise WorkflowNotFound(f"no task with job id {job_id} in this session")
        task = next((t for t in found if t.state == "dead"), found[0])
        retried = self.executor.retry(task)
        return {"workflow_id": retried.workflow, "task": retried.name, "job_id": job_id, "role": retried.role, "state": retried.state}

    def kinds(self) -> dict[str, Any]:
        return {"kinds": REGISTRY.describe(), "queue_order": self.executor.config.order.name, "pools": self.executor.config.pools,
                "clock": self.clock_info()}  # fmt: skip

    def clock_info(self) -> dict[str, Any]:
        return {"kind": self.executor.clock.kind, "now": self.executor.clock.now(), "scale": self.settings.clock_scale}

    def stop(self, grace_s: float | None = None) -> None:
        self.executor.stop(grace_s)
        self.store.close()


def _place(session: Session, spec: WorkflowSpec) -> Any:
    """Session.run on the tasks' jobs; a deadline the session's clock refuses names its task."""
    try:
        return session.run(_with_deadlines(spec))
    except JobValidationError as exc:
        problems = [
            {"task": spec.tasks[e["index"]].id, "index": e["index"], "field": e["field"], "message": e["message"]} for e in exc.errors
        ]
        raise WorkflowInputError(problems) from None


def _with_deadlines(spec: WorkflowSpec) -> Any:
    """The tasks' jobs; with a workflow deadline, each must finish by its latest finish on the critical path,
    so the when-policy defers a flexible task only inside its window."""
    if spec.deadline_min is None:
        return spec.jobs
    return dataclasses.replace(spec.jobs, deadline_min=np.fmin(spec.jobs.deadline_min, spec.plan.latest_finish))


def _derived_seed(session_seed: int, payload: Any) -> int:
    """The same workflow sent in the same session draws the same numbers: its run replays."""
    digest = hashlib.sha256(str(session_seed).encode() + b":" + orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def build_workflows(settings: Settings, sessions: SessionStore, clock: Clock | None = None) -> Workflows:
    """Open the store the settings name, start the executor (it first takes back what a dead process left running)."""
    load_kinds(settings.task_module)
    store = open_store(settings.store, str(settings.database))
    pools = {"fast": settings.workers_fast, "eco": settings.workers_eco}
    clock = clock or WallClock()
    order = queue_order(settings.queue_order, settings.dispatcher_weights, clock.now, store, learn=not settings.dispatcher_frozen)
    config = ExecutorConfig(pools, order, settings.task_module, settings.shutdown_grace_s)
    executor = Executor(store, clock, config)
    executor.start()
    return Workflows(sessions, store, executor, settings)
