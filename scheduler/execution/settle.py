"""What a task's end means for the rest of its workflow, decided inside the transaction that records it.

- Its children whose parents have all ended are released (queued, or deferred until their planned start)
  when their trigger holds: `all_success` needs every parent succeeded, `all_done` only that each ended.
  An `all_success` child of a parent that did not succeed is upstream_failed at once, and so on down: no
  task waits for a parent that will never succeed.
- When every task of the workflow has ended, it succeeded (all did) or failed; a failed workflow's
  succeeded tasks that name a compensation are undone (a saga): compensations are added as tasks of their
  own, each depending on the compensations of the tasks that depended on it, so they run in reverse
  dependency order, with the retries of the task they undo and trigger all_done (one that fails, after its
  retries, is dead and in the dead-letter list, and the others still run).
"""

from collections import deque

from scheduler.core.states import TASK_FINAL
from scheduler.store.base import Store, TaskRecord

COMPENSATION = "compensation"


def release_state(task: TaskRecord, now: float) -> str:
    """Where a task whose dependencies are met goes: deferred while its planned start is ahead, else queued."""
    return "deferred" if task.not_before is not None and task.not_before > now else "queued"


def settle(store: Store, pk: int, now: float, workflow: str, finish: dict[str, None] | None = None) -> None:
    """Call inside a transaction, after task `pk` (of `workflow`) entered a final state. With `finish`, the
    workflow is only noted there, for the caller to finish once (finish_workflow) before its transaction ends:
    a pass that ends many tasks of one workflow then reads it once, not once per task."""
    ended = deque([pk])
    while ended:
        parent_pk = ended.popleft()
        for child in store.children(parent_pk):
            if child.state != "pending":
                continue
            parents = store.parents(child.pk)
            if any(p.state not in TASK_FINAL for p in parents):
                continue
            failed = next((p for p in parents if p.state != "succeeded"), None)
            if child.spec.get("trigger", "all_success") == "all_success" and failed is not None:
                store.move(child.pk, "pending", "upstream_failed", now, f"parent {failed.name} is {failed.state}")
                ended.append(child.pk)
            else:
                target = release_state(child, now)
                store.move(child.pk, "pending", target, now, "dependencies met" + (" (trigger all_done)" if failed is not None else ""))
    if finish is None:
        finish_workflow(store, workflow, now)
    else:
        finish[workflow] = None  # a dict, not a set: workflows finish in the order their tasks ended


def finish_workflow(store: Store, workflow_id: str, now: float) -> str | None:
    """Succeed or fail the workflow once none of its tasks is open; a failure starts the rollback."""
    workflow = store.workflow(workflow_id)
    if workflow is None or workflow.state != "running" or workflow.open_tasks > 0:
        return None
    tasks = store.tasks(workflow_id)
    if all(t.state == "succeeded" for t in tasks if t.role != COMPENSATION):
        store.move_workflow(workflow_id, "running", "succeeded", now)
        return "succeeded"
    store.move_workflow(workflow_id, "running", "failed", now)
    if not any(t.role == COMPENSATION for t in tasks):
        plan_rollback(store, workflow_id, tasks, store.edges(workflow_id), now)
    return "failed"


def plan_rollback(store: Store, workflow_id: str, tasks: list[TaskRecord], edges: list[tuple[int, int]], now: float) -> list[TaskRecord]:
    """Add a compensation for each succeeded task that names one, after the compensations of the nearest
    compensated tasks below it (through tasks without one)."""
    undo = {t.pk: t for t in tasks if t.role != COMPENSATION and t.state == "succeeded" and t.spec.get("on_rollback")}
    if not undo:
        return []
    children: dict[int, list[int]] = {}
    for parent, child in edges:
        children.setdefault(parent, []).append(child)
    after = {pk: _nearest(pk, children, undo) for pk in undo}
    added: dict[int, TaskRecord] = {}
    index = max(t.index for t in tasks) + 1
    while len(added) < len(undo):  # descendants first: a task's compensation waits for theirs
        for pk in sorted(undo):
            if pk in added or any(d not in added for d in after[pk]):
                continue
            row = _compensation(undo[pk], index, [added[d] for d in after[pk]])
            [added[pk]] = store.add_tasks(workflow_id, [row], [[added[d].pk for d in after[pk]]], now, f"rollback: undo {undo[pk].name}")
            index += 1
    return list(added.values())


def _nearest(pk: int, children: dict[int, list[int]], undo: dict[int, TaskRecord]) -> set[int]:
    found, seen, stack = set(), set(), list(children.get(pk, []))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in undo:
            found.add(node)
        else:
            stack.extend(children.get(node, []))
    return found


def _compensation(task: TaskRecord, index: int, after: list[TaskRecord]) -> TaskRecord:
    rollback = task.spec["on_rollback"]
    spec = {**task.spec, "params": rollback.get("params", {}), "trigger": "all_done", "on_rollback": None, "undoes": task.name}
    return TaskRecord(
        task.workflow, index, f"undo {task.name}", rollback["kind"], task.pool, "pending" if after else "queued", task.session, spec,
        role=COMPENSATION, compensates=task.pk, job_id=task.job_id, priority=task.priority, expected_s=task.expected_s,
    )  # fmt: skip


def revive(store: Store, pk: int, now: float) -> int:
    """A dead task retried by hand: its upstream_failed descendants wait again (pending); how many."""
    revived, queue = 0, deque([pk])
    while queue:
        for child in store.children(queue.popleft()):
            if child.state == "upstream_failed" and store.move(child.pk, "upstream_failed", "pending", now, "a parent was retried by hand"):
                revived += 1
                queue.append(child.pk)
    return revived
