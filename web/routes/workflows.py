"""Workflow endpoints: submit (201, Idempotency-Key), list, read, cancel; the task kinds; the dead-letter list
and retry of a dead task. Each parses, makes one call into scheduler.service.workflows, and answers; the
workflow family of errors becomes its status here (422 naming task and field, 404, 409, 413)."""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from scheduler.core.errors import WorkflowError, WorkflowInputError
from scheduler.service.workflows import Workflows
from web.body_guard import refuse_crowded
from web.deps import SessionDep
from web.params import JobId, Limit, Offset, WorkflowId
from web.responses import SAME_SESSION, SESSION_ERRORS, errors, links
from web.schemas.common import ErrorOut
from web.schemas.workflows import (
    EXAMPLE,
    FLEXIBLE_EXAMPLE,
    CancelOut,
    DeadLetterOut,
    KindsOut,
    RetryOut,
    WorkflowCreatedOut,
    WorkflowOut,
    WorkflowPageOut,
    body_schema,
)

router = APIRouter(tags=["workflows"])
T = TypeVar("T")
_CONFLICT = {409: {"model": ErrorOut, "description": "The workflow or task is not in a state that allows it (see `detail`)."}}
_ONE = {**errors(*SESSION_ERRORS, 404), **_CONFLICT}
_WORKFLOW_ID = "$response.body#/workflow_id"
_EXAMPLES = {"workflow": {"value": EXAMPLE}, "carbon-aware, with a deadline": {"value": FLEXIBLE_EXAMPLE}}
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": body_schema(), "examples": _EXAMPLES}}}}
IdempotencyKey = Annotated[
    str | None, Header(max_length=255, description="Send the same key again (same session) to get the first workflow back, not a second.")
]


async def get_workflows(request: Request) -> Workflows:
    return request.app.state.workflows


WorkflowsDep = Annotated[Workflows, Depends(get_workflows)]


def _answer(call: Callable[[], T]) -> T:
    """The domain's workflow errors as HTTP answers (422 keeps the list of problems)."""
    try:
        return call()
    except WorkflowInputError as exc:
        raise HTTPException(422, exc.errors) from None
    except WorkflowError as exc:
        raise HTTPException(exc.status, str(exc)) from None


@router.post(
    "/workflows",
    status_code=201,
    response_model=WorkflowCreatedOut,
    responses={**errors(*SESSION_ERRORS, 413, 422), **links(201, get_workflow={"workflow_id": _WORKFLOW_ID, **SAME_SESSION},
                                                             cancel_workflow={"workflow_id": _WORKFLOW_ID, **SAME_SESSION})},
    openapi_extra=_BODY,
)  # fmt: skip
async def submit_workflow(
    request: Request, response: Response, session: SessionDep, workflows: WorkflowsDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Validate a workflow (all of it, or a 422 naming each task and field), place every task with this session's
    agents (and, in grid sessions, time it with the when-policy), store it, and answer once it is committed."""
    body = await request.body()

    def submit() -> tuple[dict[str, Any], bool]:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise WorkflowInputError([{"task": None, "index": None, "field": "body", "message": f"not JSON: {exc}"}]) from None
        refuse_crowded(payload)  # a million unknown keys are one problem, not a million for pydantic to build
        return workflows.submit(session, payload, idempotency_key)

    out, created = await run_in_threadpool(_answer, submit)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return out


@router.get("/workflows", response_model=WorkflowPageOut, responses=errors(*SESSION_ERRORS))
def list_workflows(session: SessionDep, workflows: WorkflowsDep, offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
    """This session's workflows, newest first, a page at a time."""
    return workflows.page(session.id, offset, limit)


@router.get("/workflows/{workflow_id}", response_model=WorkflowOut, responses=errors(*SESSION_ERRORS, 404))
def get_workflow(workflow_id: WorkflowId, session: SessionDep, workflows: WorkflowsDep) -> dict[str, Any]:
    """A workflow: its state, and each task's state, placement, attempts (start, end, worker, error, energy, CO2)
    and transitions; the critical path, the rollback and the run's footprint."""
    return _answer(lambda: workflows.get(session.id, workflow_id))


@router.post("/workflows/{workflow_id}/cancel", response_model=CancelOut, responses=_ONE)
def cancel_workflow(workflow_id: WorkflowId, session: SessionDep, workflows: WorkflowsDep) -> dict[str, Any]:
    """Cancel a running workflow: its running tasks are stopped (their processes killed), the rest never start."""
    return _answer(lambda: workflows.cancel(session.id, workflow_id))


@router.get("/tasks/kinds", response_model=KindsOut, responses=errors(422))
def task_kinds(workflows: WorkflowsDep) -> dict[str, Any]:
    """The task kinds a workflow may use and their parameters; the queue order, the worker pools and the clock."""
    return workflows.kinds()


@router.get("/dead-letter", response_model=DeadLetterOut, responses=errors(*SESSION_ERRORS))
def dead_letter(session: SessionDep, workflows: WorkflowsDep, offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
    """This session's dead tasks (out of attempts, or an error never retried), newest first."""
    return workflows.dead_letter(session.id, offset, limit)


@router.post("/jobs/{job_id}/retry", response_model=RetryOut, responses=_ONE)
def retry_job(job_id: JobId, session: SessionDep, workflows: WorkflowsDep) -> dict[str, Any]:
    """Queue a dead task (by its job id) again with a fresh set of attempts; its upstream_failed tasks wait for
    it again. A compensation that died is retried through the job id of the task it undoes."""
    return _answer(lambda: workflows.retry_job(session.id, job_id))
