"""One instance run to its end under one dispatcher: a discrete-event simulation on finite workers.

Events sit in a heap ordered by (time, sequence), the sequence breaking ties, so a run is deterministic.
A job is ready when its workflow has arrived and all its parents have succeeded; after every instant's
events, each free worker takes the job the dispatcher picks from the ready queue (work-conserving: a worker
never idles while a job is ready). An attempt fails as the instance drew it; the job is ready again after
its backoff, and after max_attempts failures it is dead with all its dependants.
"""

import heapq
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from scheduler.dispatch.workload import Instance

ARRIVE, END, RETRY = 0, 1, 2


@dataclass
class Queue:
    """What a dispatcher sees at a decision: the clock, the ready jobs (in the order they became ready) and the state."""

    now: float
    ready: np.ndarray  # (queue_len,) job numbers
    instance: Instance
    ready_since: np.ndarray  # (n,) when each job last became ready
    failures: np.ndarray  # (n,) failed attempts so far


class Dispatcher(Protocol):
    name: str

    def pick(self, queue: Queue) -> int:
        """The position in queue.ready of the job to start now."""
        ...


@dataclass
class Run:
    finish: np.ndarray  # (n,) success time; nan if it never succeeded
    dead: np.ndarray  # (n,) bool: out of attempts, or a dependant of such a job
    waited: np.ndarray  # (n,) time spent in the ready queue, all attempts together
    attempts: np.ndarray  # (n,) attempts started


def simulate(instance: Instance, dispatcher: Dispatcher) -> Run:
    n, inst = instance.n, instance
    heap: list[tuple[float, int, int, int, bool]] = []  # (time, seq, kind, job, failed)
    seq = 0
    for j in range(n):
        if not inst.parents[j]:
            heap.append((float(inst.arrival[j]), j, ARRIVE, j, False))
    heapq.heapify(heap)
    seq = n
    waiting_on = np.array([len(p) for p in inst.parents])
    ready: list[int] = []
    ready_since, waited = np.zeros(n), np.zeros(n)
    finish = np.full(n, np.nan)
    attempts, failures = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    dead = np.zeros(n, dtype=bool)
    free = inst.workers
    max_attempts = inst.fail_at.shape[1]
    while heap:
        now = heap[0][0]
        while heap and heap[0][0] == now:
            _, _, kind, j, failed = heapq.heappop(heap)
            if kind != END:
                ready.append(j)
                ready_since[j] = now
                continue
            free += 1
            if not failed:
                finish[j] = now
                for c in inst.children[j]:
                    waiting_on[c] -= 1
                    if waiting_on[c] == 0:
                        ready.append(c)
                        ready_since[c] = now
                continue
            failures[j] += 1
            if failures[j] >= max_attempts:
                _kill(inst, j, dead)
            else:
                heapq.heappush(heap, (now + inst.backoff * 2.0 ** (failures[j] - 1), seq, RETRY, j, False))
                seq += 1
        while free and ready:
            queue = Queue(now, np.array(ready), inst, ready_since, failures)
            j = ready.pop(dispatcher.pick(queue))
            waited[j] += now - ready_since[j]
            share = inst.fail_at[j, attempts[j]]
            attempts[j] += 1
            free -= 1
            fails = not np.isnan(share)
            heapq.heappush(heap, (now + float(inst.duration[j]) * (float(share) if fails else 1.0), seq, END, j, fails))
            seq += 1
    return Run(finish, dead, waited, attempts)


def _kill(inst: Instance, j: int, dead: np.ndarray) -> None:
    stack = [j]
    while stack:
        k = stack.pop()
        if not dead[k]:
            dead[k] = True
            stack.extend(inst.children[k])


@dataclass(frozen=True)
class Metrics:
    miss_rate: float
    """Share of jobs that finished after their deadline or never finished (dead)."""
    mean_completion: float
    """Mean time from submission to success, finished jobs only (mean runtimes)."""
    throughput: float
    """Jobs finished per unit of time, from the first submission to the last finish."""
    wait_p99: float
    wait_max: float
    """Starvation: the 99th percentile and the longest time a job spent waiting in the ready queue."""

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def measure(instance: Instance, run: Run) -> Metrics:
    done = ~np.isnan(run.finish)
    missed = run.dead | (run.finish > instance.deadline + 1e-9)
    span = float(np.nanmax(run.finish) - instance.arrival.min()) if done.any() else np.inf
    completion = run.finish[done] - instance.arrival[done]
    return Metrics(
        float(missed.mean()), float(completion.mean()) if done.any() else np.nan, float(done.sum() / span),
        float(np.percentile(run.waited, 99)), float(run.waited.max()),
    )  # fmt: skip
