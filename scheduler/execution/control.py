"""What callers ask of the executor besides running: submit, cancel, retry by hand, and take back the tasks of
runners that are gone. Each is one transaction on the store; the executor is woken after."""

import logging

from scheduler.core.errors import WorkflowConflict, WorkflowNotFound
from scheduler.core.states import TASK_FINAL
from scheduler.execution.runners import alive
from scheduler.execution.settle import COMPENSATION, release_state, revive
from scheduler.store.base import RunnerRecord, Store, TaskRecord, WorkflowRecord

log = logging.getLogger("taskpilot.execution")


def submit(
    store: Store, workflow: WorkflowRecord, tasks: list[TaskRecord], parents: list[list[int]], now: float
) -> tuple[WorkflowRecord, bool]:
    """Store the workflow, each task pending (it has dependencies), deferred (its planned start is ahead) or
    queued; committed before this returns. With a known idempotency key: the first workflow, and False."""
    for task, row in zip(tasks, parents):
        task.state = "pending" if row else release_state(task, now)
    return store.add_workflow(workflow, tasks, parents, now)


def cancel(store: Store, workflow_id: str, now: float, session: str | None = None) -> int:
    """Cancel every task of a running workflow that has not ended, and the workflow; how many tasks."""
    with store.transaction():
        workflow = store.workflow(workflow_id)
        if workflow is None or (session is not None and workflow.session != session):
            raise WorkflowNotFound(f"no workflow {workflow_id} in this session")
        if workflow.state != "running":
            raise WorkflowConflict(f"workflow {workflow_id} is {workflow.state}: only a running workflow can be cancelled")
        moved = sum(
            store.move(t.pk, t.state, "cancelled", now, "workflow cancelled") for t in store.tasks(workflow_id) if t.state not in TASK_FINAL
        )
        store.move_workflow(workflow_id, "running", "cancelled", now)
    return moved


def retry(store: Store, task: TaskRecord, now: float) -> TaskRecord:
    """Queue a dead task again with a fresh set of attempts; its upstream_failed descendants wait again, and
    a failed workflow runs again. A task whose workflow was rolled back (or cancelled) stays dead."""
    with store.transaction():
        current = store.task(task.pk)
        workflow = store.workflow(task.workflow)
        if current is None or workflow is None:
            raise WorkflowNotFound(f"no task {task.pk}")
        if current.state != "dead":
            raise WorkflowConflict(f"task {current.name!r} is {current.state}: only a dead task can be retried")
        if workflow.state == "cancelled":
            raise WorkflowConflict(f"workflow {workflow.id} was cancelled")
        if current.role != COMPENSATION and any(t.role == COMPENSATION for t in store.tasks(workflow.id)):
            raise WorkflowConflict(f"workflow {workflow.id} was rolled back: its tasks are not run again (retry its compensations)")
        store.move(current.pk, "dead", "queued", now, "retried by hand", failures=0)
        if current.role != COMPENSATION:
            revive(store, current.pk, now)
            if workflow.state == "failed":
                store.move_workflow(workflow.id, "failed", "running", now)
    found = store.task(task.pk)
    assert found is not None
    return found


def recover(store: Store, me: RunnerRecord, now: float, mine: set[int] | None = None) -> int:
    """Queue again every running task whose runner is gone (its interrupted attempt stays counted), and forget
    those runners. Tasks of live runners are left alone; this runner's too, unless `mine` (the tasks it knows it
    runs) is given and leaves one out: an error while recording its end made the executor lose track of it."""
    runners = {r.id: r for r in store.runners()}
    gone = {rid for rid, r in runners.items() if rid != me.id and not alive(r)}
    taken = 0
    for task in store.in_state("running"):
        attempt = store.attempt(task.pk, task.attempts)
        owner = attempt.runner if attempt is not None else None
        lost = owner == me.id and mine is not None and task.pk not in mine
        if not lost and (owner == me.id or (owner in runners and owner not in gone)):
            continue
        who = runners.get(owner or "")
        why = f"runner {owner} (pid {who.pid} on {who.host}) is gone" if who is not None else f"runner {owner} is gone"
        why = "its executor lost track of it" if lost else why
        with store.transaction():
            if store.move(task.pk, "running", "queued", now, f"interrupted: {why}; attempt {task.attempts} runs again"):
                store.end_attempt(task.pk, task.attempts, ended_at=now, outcome="interrupted", error=f"interrupted: {why}")
                taken += 1
    for rid in gone:
        store.drop_runner(rid)
    if taken:
        log.warning("took back %d running task(s) of %d runner(s) that are gone", taken, len(gone) or 1)
    return taken
