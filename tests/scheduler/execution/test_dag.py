"""The workflow graph: a cycle comes back in order, layers and topological order, and the critical path's
latest starts, checked by hand on a small DAG and as properties on random ones (the plan meets every
deadline the critical path says is feasible)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.execution.dag import critical_path, find_cycle, layers, topological_order

DIAMOND = [[], [0], [0], [1, 2], [3]]  # a -> b, a -> c, (b, c) -> d -> e


def test_a_cycle_is_listed_in_dependency_order() -> None:
    # task 0 depends on 2, 1 on 0, 2 on 1: 0 -> 1 -> 2 -> 0
    assert find_cycle([[2], [0], [1]]) == [0, 1, 2, 0]
    assert find_cycle([[], [0], [1, 3], [2]]) == [2, 3, 2]
    assert find_cycle([[0]]) == [0, 0]
    assert find_cycle(DIAMOND) is None


def test_order_and_layers() -> None:
    assert topological_order([[1], [], [1]]) == [1, 0, 2]
    assert layers(DIAMOND) == [0, 1, 1, 2, 3]


def test_the_critical_path_and_latest_starts_by_hand() -> None:
    durations = np.array([1.0, 5.0, 2.0, 1.0, 1.0])
    plan = critical_path(durations, DIAMOND, 10.0)
    assert plan.path == [0, 1, 3, 4] and plan.length == 8.0 and plan.feasible(10.0) and not plan.feasible(7.9)
    # Backwards from 10: e by 10 (starts 9), d by 9 (8), b by 8 (3), c by 8 (6), a by min(3, 6) = 3 (2).
    assert plan.latest_finish.tolist() == [3.0, 8.0, 8.0, 9.0, 10.0]
    assert plan.latest_start.tolist() == [2.0, 3.0, 6.0, 8.0, 9.0]
    assert np.isnan(critical_path(durations, DIAMOND, None).latest_start).all()


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[list[int]], np.ndarray]:
    n = draw(st.integers(1, 25))
    parents = [sorted(set(draw(st.lists(st.integers(0, i - 1), max_size=3)))) if i else [] for i in range(n)]
    return parents, np.array(draw(st.lists(st.floats(0, 100), min_size=n, max_size=n)))


@settings(max_examples=200, deadline=None, database=None)
@given(dags(), st.floats(0, 3000))
def test_the_plan_meets_every_feasible_deadline(dag: tuple[list[list[int]], np.ndarray], deadline: float) -> None:
    parents, durations = dag
    plan = critical_path(durations, parents, deadline)
    earliest_start = plan.earliest_finish - durations
    assert find_cycle(parents) is None and set(topological_order(parents)) == set(range(len(parents)))
    assert plan.feasible(deadline) == (plan.length <= deadline + 1e-9)
    assert abs(sum(durations[plan.path]) - plan.length) < 1e-6  # the path is a chain of the length claimed
    assert all(plan.path[k] in parents[plan.path[k + 1]] for k in range(len(plan.path) - 1))
    for child, row in enumerate(parents):
        for parent in row:  # a task finishes before any child's latest start: starting late never breaks an edge
            assert plan.latest_finish[parent] <= plan.latest_start[child] + 1e-9
    assert (plan.latest_finish <= deadline + 1e-9).all()
    if plan.feasible(deadline):  # every task has room: its latest start is not before its earliest
        assert (plan.latest_start >= earliest_start - 1e-6).all()
