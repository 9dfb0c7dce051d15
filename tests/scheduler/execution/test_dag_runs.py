"""Properties of real runs over random DAGs (random kinds, triggers and retries, one executor for all): every
task ends in exactly one final state, no task starts before its parents' trigger holds, an all_success task
whose parent did not succeed is upstream_failed, and the workflow's state follows from its tasks'."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.core.states import TASK_FINAL
from scheduler.execution.executor import Executor
from scheduler.store.sqlite import SqliteStore

from .helpers import finished, running, submit, wait_until

KINDS = [("sleep", {"seconds": 0}), ("fail", {}), ("flaky", {"p": 0.5}), ("whoami", {})]


@pytest.fixture(scope="module")
def executor() -> Iterator[Executor]:
    with running(store=SqliteStore(":memory:"), pools={"fast": 3, "eco": 1}) as ex:
        yield ex


@st.composite
def workflows(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 12))
    tasks = []
    for i in range(n):
        kind, params = draw(st.sampled_from(KINDS))
        deps = sorted(set(draw(st.lists(st.integers(0, i - 1), max_size=3)))) if i else []
        tasks.append({"id": f"t{i}", "kind": kind, "params": params, "depends_on": [f"t{d}" for d in deps],
                      "trigger": draw(st.sampled_from(["all_success", "all_done"])),
                      "retries": {"max_attempts": draw(st.integers(1, 2)), "backoff_s": 0}})  # fmt: skip
    return {"tasks": tasks}


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(body=workflows(), seed=st.integers(0, 2**32))
def test_random_dags_end_well(executor: Executor, body: dict[str, Any], seed: int) -> None:
    store = executor.store
    wf = submit(executor, body, seed=seed)
    wait_until(lambda: finished(store, wf), "the workflow finishes")
    tasks = {t.pk: t for t in store.tasks(wf)}
    moves = sorted(store.transitions(wf), key=lambda t: t.seq)
    ended = {pk: [m for m in moves if m.task == pk and m.target in TASK_FINAL] for pk in tasks}
    assert all(len(e) == 1 for e in ended.values()), "a task ended more than once, or never"
    end_seq = {pk: e[0].seq for pk, e in ended.items()}
    for pk, task in tasks.items():
        parents = store.parents(pk)
        starts = [m.seq for m in moves if m.task == pk and m.target == "running"]
        for start in starts:  # every parent had ended, and (all_success) succeeded, before the first claim
            assert all(end_seq[p.pk] < start for p in parents)
            if task.spec["trigger"] == "all_success":
                assert all(p.state == "succeeded" for p in parents)
        if task.state == "upstream_failed":
            assert task.spec["trigger"] == "all_success" and any(p.state != "succeeded" for p in parents) and not starts
    workflow = store.workflow(wf)
    assert workflow is not None and workflow.open_tasks == 0
    assert workflow.state == ("succeeded" if all(t.state == "succeeded" for t in tasks.values()) else "failed")
