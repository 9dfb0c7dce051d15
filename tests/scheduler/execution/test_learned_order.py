"""The executor's `rl` queue order: the trained dispatcher picks the next task, and learns from real runs
unless frozen. Driven by a manual clock; every wait is for a condition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rl.dispatcher import Dispatcher
from scheduler.execution.admit import Placement, build_records
from scheduler.execution.clock import ManualClock
from scheduler.execution.learned_order import LearnedChoice
from scheduler.execution.policies import RL_WINDOW, LearnedOrder, queue_order
from scheduler.execution.spec import parse_workflow
from scheduler.store.memory import MemoryStore

from .helpers import finished, running, states, submit, wait_until

WEIGHTS = Path(__file__).resolve().parents[3] / "scheduler" / "dispatch" / "weights" / "dispatcher.npz"


def task(task_id: str, kind: str = "sleep", *deps: str, **extra: Any) -> dict[str, Any]:
    body = {"id": task_id, "kind": kind, "depends_on": list(deps), **extra}
    if kind == "sleep":
        body.setdefault("params", {"seconds": 0})
    return body


def claims(store: MemoryStore, wf: str) -> list[str]:
    by_task = {t.pk: t.name for t in store.tasks(wf)}
    return [by_task[t.task] for t in sorted(store.transitions(wf), key=lambda t: t.seq) if t.target == "running"]


def test_rl_order_is_named_by_the_setting_and_needs_the_clock() -> None:
    clock = ManualClock()
    order = queue_order("rl", WEIGHTS, clock.now, MemoryStore(), learn=False)
    assert order.name == "rl" and order.window == RL_WINDOW and isinstance(order, LearnedOrder)
    assert queue_order("edf").name == "edf"
    with pytest.raises(ValueError, match="clock"):
        queue_order("rl")
    shipped = queue_order("rl", None, clock.now)  # no file named: the shipped weights
    assert isinstance(shipped, LearnedOrder) and shipped.brain is not None
    assert np.array_equal(shipped.brain.policy.w1, Dispatcher.load(WEIGHTS).w1)


def test_rl_order_runs_the_short_urgent_task_first(tmp_path: Path) -> None:
    """The case of test_queue_orders: t3 is the shortest and has the earliest deadline (EDF and SJF both start
    it first); the learned dispatcher does too, and every task runs. Frozen: the weights do not move."""
    gate, store, clock = tmp_path / "open", MemoryStore(), ManualClock()
    order = queue_order("rl", WEIGHTS, clock.now, store, learn=False)
    before = Dispatcher.load(WEIGHTS).w1
    tasks = [task("t1", urgency="flexible", duration_min=30), task("t2", urgency="critical", duration_min=50, deadline=600),
             task("t3", duration_min=10, deadline=300)]  # fmt: skip
    with running(store, clock, pools={"fast": 1, "eco": 1}, order=order) as ex:
        blocker = submit(ex, {"tasks": [task("gate", "gate", params={"path": str(gate)})]})
        wait_until(lambda: states(ex.store, blocker) == {"gate": "running"})
        wf = submit(ex, {"tasks": tasks})
        gate.touch()
        wait_until(lambda: finished(ex.store, wf))
        assert claims(store, wf)[0] == "t3" and sorted(claims(store, wf)) == ["t1", "t2", "t3"]
    assert isinstance(order, LearnedOrder) and order.brain is not None and order.brain.learner is None
    assert np.array_equal(order.brain.policy.w1, before)


@pytest.mark.parametrize("learn", [True, False])
def test_rl_order_keeps_learning_from_real_runs_unless_frozen(learn: bool) -> None:
    """Ten one-second tasks due at 3 s on one worker: seven miss. Learning on, the order watches their
    deadlines, reads the outcomes back from the store, and once its decisions are ripe (3 discount times =
    15 s after them) takes a REINFORCE step: the weights move. Frozen, it records nothing and they stay."""
    store, clock = MemoryStore(), ManualClock()
    brain = LearnedChoice.load(WEIGHTS, clock.now, store, learn, batch=2)
    order = LearnedOrder("rl", ("pk",), "test", RL_WINDOW, brain)
    before = brain.policy.w1.copy()
    body = {"tasks": [task(f"j{i}", params={}, duration_min=1, deadline=3) for i in range(10)]}
    with running(store, clock, pools={"fast": 1, "eco": 1}, order=order) as ex:
        wf = submit(ex, body, scale=60.0)  # one session minute = one executor second
        for done in range(1, 11):
            wait_until(lambda: "running" in states(store, wf).values(), "a task running")
            clock.advance(1.0)
            wait_until(lambda done=done: list(states(store, wf).values()).count("succeeded") == done, f"{done} done")  # type: ignore[misc]
        assert finished(store, wf)
        clock.advance(30.0)
        after = submit(ex, {"tasks": [task("late", params={}, duration_min=1), task("later", params={}, duration_min=1)]}, scale=60.0)
        wait_until(lambda: "running" in states(store, after).values() or finished(store, after))
    if learn:
        assert brain.learner is not None and brain.learner.updates >= 1 and brain.learner.misses_seen == 7
        assert not np.array_equal(brain.policy.w1, before)
    else:
        assert brain.learner is None and np.array_equal(brain.policy.w1, before)


def test_a_task_is_seen_with_its_remaining_critical_path() -> None:
    """As the simulator sees a job: its planned runtime plus its longest chain of dependants'. a -> b -> d and
    a -> c -> d with 10, 20, 5 and 30 s: a's path is 10 + 20 + 30 = 60 (through b, not c), b's 50, c's 35,
    d's 30; a workflow is read once, then kept."""
    store, clock = MemoryStore(), ManualClock()
    body = [task("a", duration_min=10), task("b", "sleep", "a", duration_min=20), task("c", "sleep", "a", duration_min=5),
            task("d", "sleep", "b", "c", duration_min=30)]  # fmt: skip
    spec = parse_workflow({"tasks": body}, 100, 16_384)
    places = [Placement(i + 1, "Server 1", "fast", 0.0, 100.0) for i in range(4)]
    workflow, records, parents = build_records(spec, places, "s", 0.0, 60.0, 7)  # scale 60: a minute is a second
    store.add_workflow(workflow, records, parents, 0.0)
    brain = LearnedChoice.load(WEIGHTS, clock.now, store, learn=False)
    tasks = sorted(store.tasks(workflow.id), key=lambda t: t.index)
    assert list(brain.critical_paths(tasks)) == [60.0, 50.0, 35.0, 30.0]
    assert list(brain.paths) == [workflow.id]
    assert list(LearnedChoice.load(WEIGHTS, clock.now, None, learn=False).critical_paths(tasks)) == [10.0, 20.0, 5.0, 30.0]


def test_a_pass_reads_at_most_a_bounded_number_of_overdue_tasks() -> None:
    """On a late queue every watched task is overdue: one pass read each of them from the store, so a pass's
    cost grew with the queue. Now JUDGED_PER_PASS at most, and one still running goes to the back."""
    from types import SimpleNamespace

    from scheduler.execution.learned_order import JUDGED_PER_PASS

    reads: list[int] = []

    class Store:
        def task(self, pk: int) -> Any:
            reads.append(pk)
            return SimpleNamespace(state="running")

    choice = LearnedChoice.load(WEIGHTS, lambda: 100.0, MemoryStore(), learn=True)
    choice.store = Store()  # type: ignore[assignment]
    choice.watch = dict.fromkeys(range(3 * JUDGED_PER_PASS), 1.0)
    choice._judge(100.0)
    assert reads == list(range(JUDGED_PER_PASS))
    choice._judge(100.0)
    assert reads[JUDGED_PER_PASS:] == list(range(JUDGED_PER_PASS, 2 * JUDGED_PER_PASS)), "the ones read go to the back"
    assert len(choice.watch) == 3 * JUDGED_PER_PASS
