"""A workflow's graph: cycles found in order, the topological order, drawing layers, and the critical path
with each task's latest start before a deadline, computed backwards over the DAG.

Tasks are positions 0..n-1 and `parents[i]` lists task i's dependencies. Everything is O(tasks + edges),
iterative (a 10,000-task chain recurses nowhere).
"""

import heapq
from dataclasses import dataclass

import numpy as np


def children_of(parents: list[list[int]]) -> list[list[int]]:
    children: list[list[int]] = [[] for _ in parents]
    for child, row in enumerate(parents):
        for parent in row:
            children[parent].append(child)
    return children


def find_cycle(parents: list[list[int]]) -> list[int] | None:
    """One cycle as its tasks in dependency order, the first repeated at the end (a -> b -> a: b depends on a),
    or None. Iterative depth-first search along the edges parent -> child."""
    children = children_of(parents)
    state = [0] * len(parents)  # 0 unseen, 1 on the path, 2 done
    for root in range(len(parents)):
        if state[root]:
            continue
        path, iters = [root], [iter(children[root])]
        state[root] = 1
        while path:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iters.pop()
            elif state[nxt] == 1:
                return path[path.index(nxt) :] + [nxt]
            elif state[nxt] == 0:
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(children[nxt]))
    return None


def topological_order(parents: list[list[int]]) -> list[int]:
    """Parents before children, ties by position (Kahn's algorithm with a sorted frontier); the graph must be acyclic."""
    children = children_of(parents)
    waiting = [len(set(row)) for row in parents]
    frontier = [i for i, w in enumerate(waiting) if w == 0]
    heapq.heapify(frontier)
    order = []
    while frontier:
        node = heapq.heappop(frontier)
        order.append(node)
        for child in set(children[node]):
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(frontier, child)
    if len(order) != len(parents):
        raise ValueError("the graph has a cycle")
    return order


def layers(parents: list[list[int]], order: list[int] | None = None) -> list[int]:
    """Each task's depth: 0 for a task without dependencies, else one more than its deepest parent (where a
    page draws it)."""
    depth = [0] * len(parents)
    for node in order if order is not None else topological_order(parents):
        if parents[node]:
            depth[node] = 1 + max(depth[p] for p in parents[node])
    return depth


@dataclass(frozen=True)
class CriticalPath:
    path: list[int]  # the longest chain, first task first
    length: float  # its total duration
    earliest_finish: np.ndarray  # (n,) if every task started as soon as its parents finished
    latest_start: np.ndarray  # (n,) the latest start that still meets the deadline (NaN without one)
    latest_finish: np.ndarray  # (n,)

    def feasible(self, deadline: float | None) -> bool:
        return deadline is None or self.length <= deadline + 1e-9


def critical_path(durations: np.ndarray, parents: list[list[int]], deadline: float | None, order: list[int] | None = None) -> CriticalPath:
    """Forward: earliest finishes and the longest chain. Backward from the deadline: a task must finish
    before the latest start of every child, and a task without children by the deadline."""
    order = order if order is not None else topological_order(parents)
    n = len(parents)
    finish = np.zeros(n)
    via = np.full(n, -1)
    for node in order:
        start, best = 0.0, -1
        for p in parents[node]:
            if best < 0 or finish[p] > start:
                start, best = float(finish[p]), p
        via[node] = best
        finish[node] = start + durations[node]
    end = int(np.argmax(finish)) if n else -1
    path = []
    while end >= 0:
        path.append(end)
        end = int(via[end])
    latest_finish = np.full(n, np.nan if deadline is None else float(deadline))
    latest_start = np.full(n, np.nan)
    if deadline is not None:
        children = children_of(parents)
        for node in reversed(order):
            if children[node]:
                latest_finish[node] = min(latest_start[c] for c in children[node])
            latest_start[node] = latest_finish[node] - durations[node]
    return CriticalPath(path[::-1], float(finish.max()) if n else 0.0, finish, latest_start, latest_finish)
