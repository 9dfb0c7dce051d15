"""A workflow is refused whole, every problem naming its task and field: cycles in order, self and unknown
dependencies, unknown kinds listed against the known, duplicate ids, params that do not fit the kind, job
fields, an infeasible deadline naming the critical path; limits on tasks and params are WorkflowTooLarge."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.core.errors import WorkflowInputError, WorkflowTooLarge
from scheduler.execution.builtin_kinds import load_kinds
from scheduler.execution.kinds import REGISTRY, Registry
from scheduler.execution.spec import parse_workflow

load_kinds(None)
BUILTINS = Registry()
for _kind in (REGISTRY.get(name) for name in REGISTRY.names()):
    if _kind is not None and _kind.builtin:  # other tests register kinds of their own in the process's registry
        BUILTINS.add(_kind)


def problems(body: Any) -> list[tuple[str | None, str, str]]:
    with pytest.raises(WorkflowInputError) as caught:
        parse_workflow(body, 50, 1000, BUILTINS)
    return [(e["task"], e["field"], e["message"]) for e in caught.value.errors]


def sleep(task_id: str, *deps: str, **extra: Any) -> dict[str, Any]:
    return {"id": task_id, "kind": "sleep", "depends_on": list(deps), **extra}


def test_a_good_workflow_has_defaults_layers_and_a_critical_path() -> None:
    spec = parse_workflow({"name": "etl", "deadline": 100, "tasks": [sleep("a", duration_min=10), sleep("b", "a", duration_min=20),
                                                                     sleep("c", "a", cpu=50)]}, 50, 1000)  # fmt: skip
    assert [t.id for t in spec.tasks] == ["a", "b", "c"] and spec.layers == [0, 1, 1] and spec.name == "etl"
    assert spec.tasks[2].parents == (0,) and spec.tasks[1].params == {"seconds": None}
    assert spec.tasks[0].job == {"priority": "balanced", "cpu": 10, "memory": 10, "duration_min": 10}
    # c has no duration_min: the energy model's base runtime (0.6 min per cpu%) is used, 30 min.
    assert spec.durations_min.tolist() == [10.0, 20.0, 30.0] and spec.plan.length == 40.0
    assert spec.jobs.client_job_id.tolist() == ["a", "b", "c"]  # type: ignore[union-attr]
    assert spec.tasks[0].retries.max_attempts == 3 and spec.tasks[0].trigger == "all_success"


def test_a_cycle_is_named_in_order() -> None:
    assert problems({"tasks": [sleep("a", "c"), sleep("b", "a"), sleep("c", "b")]}) == [
        ("a", "depends_on", "the dependencies make a cycle: a -> b -> c -> a (each depends on the one before)")]  # fmt: skip


def test_self_unknown_and_duplicate() -> None:
    assert problems({"tasks": [sleep("a", "a", "ghost"), sleep("a")]}) == [
        ("a", "depends_on", "task 'a' depends on itself"),
        ("a", "depends_on", "depends on 'ghost', which is not a task of this workflow"),
        ("a", "id", "duplicate task id 'a' (also the task at index 0)"),
    ]


def test_unknown_kinds_list_the_known_and_params_must_fit() -> None:
    body = {"tasks": [{"id": "x", "kind": "shell", "params": {"cmd": "rm -rf /"}},
                      {"id": "y", "kind": "flaky", "params": {"p": 1.5, "q": 1},
                       "on_rollback": {"kind": "inference", "params": {"width": "8"}}},
                      {"id": "z", "kind": "fail", "params": {"error": "SystemExit"}}]}  # fmt: skip
    assert problems(body) == [
        ("x", "kind", "unknown kind 'shell'; known: analytics, fail, flaky, inference, sleep"),
        ("y", "on_rollback.params.width", "must be an integer; got '8'"),
        ("y", "params.p", "must be at most 1; got 1.5"),
        ("y", "params.q", "unknown parameter of flaky; known: p"),
        ("z", "params.error", "must be one of TaskFailed, ValueError, KeyError, RuntimeError; got 'SystemExit'"),
    ]


def test_shape_and_job_fields_name_the_task_and_field() -> None:
    found = problems({"tasks": [sleep("a", retries={"max_attempts": 0}, timeout_s=True, trigger="any"), sleep("b", priority="purple"),
                                {"kind": "sleep"}], "extra": 1})  # fmt: skip
    assert [(t, f) for t, f, _ in found] == [(None, "extra"), ("a", "retries.max_attempts"), ("a", "timeout_s"), ("a", "trigger"),
                                             (None, "id")]  # fmt: skip
    assert problems({"tasks": [sleep("b", priority="purple", cpu=101, job_id=3)]}) == [
        ("b", "cpu", "Input should be less than or equal to 100; got 101"),
        ("b", "job_id", "a task's job takes the task's id as its client id: give no job_id"),
        ("b", "priority", "must be one of green, balanced, performance; got 'purple'"),
    ]
    assert problems([]) == [(None, "body", "Input should be a valid dictionary; got []")]
    assert problems({"tasks": []})[0][:2] == (None, "tasks")


def test_an_infeasible_deadline_names_the_critical_path_and_its_length() -> None:
    body = {"deadline": 45, "tasks": [sleep("extract", duration_min=20), sleep("transform", "extract", duration_min=30),
                                      sleep("side", "extract", duration_min=1)]}  # fmt: skip
    assert problems(body) == [(None, "deadline", "the deadline (45 min) cannot be met: the critical path extract -> transform takes 50 min "
                                                 "(each task's duration_min, or the energy model's estimate)")]  # fmt: skip
    parse_workflow({**body, "deadline": 50}, 50, 1000)  # exactly the path's length is feasible


def test_limits_are_too_large_not_invalid() -> None:
    with pytest.raises(WorkflowTooLarge, match="51 tasks in one workflow; the limit is 50"):
        parse_workflow({"tasks": [sleep(str(i)) for i in range(51)]}, 50, 1000)
    with pytest.raises(WorkflowTooLarge, match="task big: on_rollback.params is 1014 bytes"):
        parse_workflow(
            {"tasks": [{"id": "big", "kind": "fail", "on_rollback": {"kind": "fail", "params": {"message": "x" * 1000}}}]}, 50, 1000
        )
