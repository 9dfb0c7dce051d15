"""The executor: one thread that releases due tasks, hands ready ones to free workers in the queue's order,
collects outcomes, enforces timeouts, and records every step in the store, the store being the only truth.

Each loop: collect what the workers sent back (and notice workers that died), end clock tasks whose time
came and attempts past their timeout (their process killed and replaced), queue deferred and retrying tasks
whose time came, claim as many ready tasks as there are free slots (one transaction), and wait, on the
workers' pipes and a wake-up pipe, until the next thing due on the clock. A claim is committed before its
task is sent, so a crash in between leaves the task running under a runner that is gone, and the next
executor runs it again (at least once). stop() is the graceful shutdown.
"""

import contextlib
import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from scheduler.execution import control
from scheduler.execution.builtin_kinds import load_kinds
from scheduler.execution.clock import Clock
from scheduler.execution.kinds import REGISTRY, TaskContext
from scheduler.execution.outcome import Ended, Run, attempt_end, collected, expired, record_end, record_interrupt
from scheduler.execution.policies import ORDERS, QueueOrder
from scheduler.execution.retry import WORKER_DIED
from scheduler.execution.runners import this_process
from scheduler.execution.settle import finish_workflow
from scheduler.execution.workers import Slot, make_pools
from scheduler.store.base import AttemptRecord, Store, TaskRecord, WorkflowRecord

log = logging.getLogger("taskpilot.execution")
HEARTBEAT_S = 10.0
RECOVER_S = 5.0
"""How often other runners' liveness is checked (a process that shares the database may die at any time)."""
CLAIMED = "claimed"
"""What a slot holds between its task's claim and the task's start, after the pass commits."""
PASS_TASKS = 256
"""Most claims in one pass's transaction: the store's lock (which readers share) is held for one batch at a time."""


@dataclass(frozen=True)
class ExecutorConfig:
    pools: dict[str, int] = field(default_factory=lambda: {"fast": 2, "eco": 1})
    order: QueueOrder = ORDERS["fifo"]
    task_module: str | None = None
    grace_s: float = 30.0
    poll_s: float = 0.5
    """The longest the loop sleeps: what another process's changes to a shared database wait for, at most."""


class Executor:
    def __init__(self, store: Store, clock: Clock, config: ExecutorConfig | None = None) -> None:
        self.store, self.clock, self.config = store, clock, config or ExecutorConfig()
        self.runner = this_process()
        self.slots = make_pools(self.config.pools, self.config.task_module)
        self._runs: dict[int, Run] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._grace_until = 0.0
        self._check_runs = False
        self._closed = False
        self._finish: dict[str, None] = {}  # workflows whose tasks ended in this pass, finished before it commits
        self._more = False  # the last pass stopped at PASS_TASKS claims
        self._due_at = -math.inf  # the earliest not_before of a deferred or retrying task, as _wait last read it
        self._ticks = {"heartbeat": time.monotonic(), "recover": time.monotonic()}
        clock.on_advance(self.wake)

    # --- what callers ask ----------------------------------------------------------------------------

    def start(self) -> None:
        load_kinds(self.config.task_module)
        self.store.add_runner(self.runner)
        control.recover(self.store, self.runner, self.clock.now())
        self._thread = threading.Thread(target=self._loop, name="taskpilot-executor", daemon=True)
        self._thread.start()

    def stop(self, grace_s: float | None = None) -> None:
        """Take no more work; let running tasks finish for up to the grace period; then stop the rest, which
        is queued again (its attempt counted) for the next start. Sleeps stop at once: nothing is lost."""
        if self._closed:
            return
        self._grace_until = time.monotonic() + (self.config.grace_s if grace_s is None else grace_s)
        self._stopping = True
        self.wake()
        if self._thread is not None:
            self._thread.join()
        for pool in self.slots.values():
            for slot in pool:
                slot.close()
        self.store.drop_runner(self.runner.id)
        self._closed = True
        os.close(self._wake_r)
        os.close(self._wake_w)

    def wake(self) -> None:
        if self._closed:  # its descriptor may belong to another file by now
            return
        with contextlib.suppress(BlockingIOError):  # the pipe is full: a wake-up is pending anyway
            os.write(self._wake_w, b"x")

    def submit(self, workflow: WorkflowRecord, tasks: list[TaskRecord], parents: list[list[int]]) -> tuple[WorkflowRecord, bool]:
        stored, created = control.submit(self.store, workflow, tasks, parents, self.clock.now())
        self.wake()
        return stored, created

    def cancel(self, workflow_id: str, session: str | None = None) -> int:
        moved = control.cancel(self.store, workflow_id, self.clock.now(), session)
        self._check_runs = True
        self.wake()
        return moved

    def retry(self, task: TaskRecord) -> TaskRecord:
        retried = control.retry(self.store, task, self.clock.now())
        self.wake()
        return retried

    def busy(self) -> dict[str, int]:
        return {pool: sum(not s.free for s in slots) for pool, slots in self.slots.items()}

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- the loop --------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            try:
                self._pass()
                if self._stopping and self._shut_down():
                    return
                self._tick()
            except Exception:  # the loop must outlive any one failure; what failed is logged and tried again
                log.exception("executor loop")
                time.sleep(self.config.poll_s)
            self._wait()

    def _pass(self) -> None:
        """Everything a pass changes in one transaction (one commit): the ends it saw, the deferred and retrying
        tasks whose time came, and the claims of ready tasks for the free slots. A claim is committed before its
        task is sent to a worker. A clock task already due when claimed (a sleep of 0) ends in the same pass, and
        its slot takes the next task, up to PASS_TASKS claims, so the store's lock is never held for long."""
        self._more = False
        ended = collected(self._runs.values())
        now = self.clock.now()
        ended += expired(self._runs.values(), now, {id(e.run) for e in ended})
        claimed: list[tuple[TaskRecord, Slot]] = []
        if not ended and (self._stopping or not self._may_claim(now)):
            return
        try:
            with self.store.transaction():
                for end in ended:
                    self._end(end, now, self._finish)
                if not self._stopping:
                    if self._due_at <= now:
                        self._release(now)
                    taken, n = 0, 1
                    while taken < PASS_TASKS and n:
                        n, batch = self._claim(now)
                        taken, claimed = taken + n, claimed + batch
                    self._more = taken >= PASS_TASKS  # maybe more ready: the next pass comes at once
                for workflow in self._finish:  # once per workflow whose tasks ended in this pass
                    if finish_workflow(self.store, workflow, now) == "failed":
                        self._more = True  # its compensations (if any) are queued now: the next pass comes at once
        except BaseException:  # nothing of it was committed: the slots it took are free again
            for pool in self.slots.values():
                for slot in pool:
                    if slot.running is CLAIMED:
                        slot.running = None
            raise
        finally:
            self._finish.clear()
        for task, slot in claimed:
            self._start(task, slot, now)

    def _may_claim(self, now: float) -> bool:
        return self._due_at <= now or any(s.free for pool in self.slots.values() for s in pool)

    def _end(self, end: Ended, now: float, finish: dict[str, None] | None = None) -> None:
        end.run.slot.running = None
        self._runs.pop(end.run.task.pk, None)
        record_end(self.store, end, now, finish=finish)

    def _release(self, now: float) -> None:
        for task in self.store.due(now, 1000):
            reason = "planned start reached" if task.state == "deferred" else "backoff over"
            self.store.move(task.pk, task.state, "queued", now, reason)
        self._due_at = -math.inf  # until _wait asks the store again

    def _claim(self, now: float) -> tuple[int, list[tuple[TaskRecord, Slot]]]:
        """Claim ready tasks for the free slots of each pool (inside the pass's transaction): how many, and those
        to start. A clock task due when claimed (a sleep of 0) ends at once, in the same transaction: its attempt
        row is written once, whole, and its slot is free again for the next claim."""
        order, claimed, taken = self.config.order, [], 0
        for slots in self.slots.values():
            free = [s for s in slots if s.free]
            if not free:
                continue
            for task in order.choose(self.store.ready(free[0].pool, order.columns, len(free) * order.window), len(free)):
                slot, n = free[0], task.attempts + 1
                if self.store.move(task.pk, "queued", "running", now, f"claimed by {slot.name}", attempt=n, worker=slot.name, attempts=n):
                    task.attempts, taken = n, taken + 1
                    attempt = AttemptRecord(task.pk, n, slot.name, self.runner.id, now)
                    if (end := self._at_once(task, slot, now)) is not None:
                        self.store.start_attempt(AttemptRecord(**{**attempt.__dict__, **attempt_end(end, now)}))
                        record_end(self.store, end, now, attempt_stored=True, finish=self._finish)
                        continue
                    self.store.start_attempt(attempt)
                    slot.running = CLAIMED  # _start gives it its run
                    claimed.append((task, slot))
                    free.pop(0)
        return taken, claimed

    @staticmethod
    def _at_once(task: TaskRecord, slot: Slot, now: float) -> Ended | None:
        """The end of a clock task that is due when claimed (a sleep of 0); None for any other task."""
        kind = REGISTRY.get(task.kind)
        if kind is None or kind.runs != "clock" or float(task.spec.get("params", {}).get("seconds") or 0.0) > 0.0:
            return None
        return Ended(Run(task, task.attempts, slot, now, time.perf_counter(), now, None), "succeeded", [], None, {"seconds": 0.0}, 0.0)

    def _start(self, task: TaskRecord, slot: Slot, now: float) -> None:
        params, kind = task.spec.get("params", {}), REGISTRY.get(task.kind)
        timeout = task.spec.get("timeout_s")
        clock_kind = kind is not None and kind.runs == "clock"
        ends = now + float(params.get("seconds") or 0.0) if clock_kind else None
        run = Run(task, task.attempts, slot, now, time.perf_counter(), ends, None if timeout is None else now + float(timeout))
        slot.running = run
        self._runs[task.pk] = run
        if clock_kind:
            return
        context = TaskContext(
            task.workflow, task.name, task.attempts, int(task.spec.get("seed", 0)), task.index, task.spec.get("job", {}), task.pool
        )
        try:
            slot.send(((task.pk, task.attempts), task.kind, params, context))
        except OSError as exc:  # the process died between its check and the send
            slot.kill()
            with self.store.transaction():
                self._end(Ended(run, "failed", [WORKER_DIED], f"{WORKER_DIED}: could not reach the worker process ({exc})"), now)

    def _interrupt(self, run: Run, reason: str) -> None:
        run.slot.running = None
        self._runs.pop(run.task.pk, None)
        record_interrupt(self.store, run, self.clock.now(), reason)

    def _shut_down(self) -> bool:
        """One step of the graceful shutdown; True when nothing of ours runs any more."""
        for run in [r for r in self._runs.values() if r.ends_at is not None]:
            self._interrupt(run, "shutdown: a sleep stops at once and runs again at the next start")
        if self._runs and time.monotonic() >= self._grace_until:
            for run in list(self._runs.values()):
                run.slot.kill()
                self._interrupt(run, "shutdown: still running when the grace period ended; it runs again at the next start")
        return not self._runs

    def _tick(self) -> None:
        if self._check_runs and self._runs:
            self._check_runs = False
            states = self.store.states(list(self._runs))
            for pk, run in list(self._runs.items()):
                if states.get(pk) != "running":  # cancelled, here or by another process
                    if run.ends_at is None:
                        run.slot.kill()
                    run.slot.running = None
                    del self._runs[pk]
                    self.store.end_attempt(pk, run.attempt, ended_at=self.clock.now(), outcome="cancelled", error="cancelled while running")
        mono = time.monotonic()
        if mono - self._ticks["heartbeat"] >= HEARTBEAT_S:
            self._ticks["heartbeat"] = mono
            self.store.heartbeat(self.runner.id, time.time())
        if mono - self._ticks["recover"] >= RECOVER_S:
            self._ticks["recover"] = mono
            self._check_runs = True  # also picks up cancels made by another process
            control.recover(self.store, self.runner, self.clock.now(), set(self._runs))

    def _wait(self) -> None:
        now = self.clock.now()
        moments = [t for r in self._runs.values() for t in (r.ends_at, r.timeout_at) if t is not None]
        self._due_at = math.inf
        if not self._stopping and (due := self.store.next_due()) is not None:
            self._due_at = due
            moments.append(due)
        timeout = self.config.poll_s
        if moments:
            until = self.clock.wall_timeout(min(moments))
            timeout = min(timeout, until) if until is not None else timeout
        if self._stopping:
            timeout = min(timeout, max(0.0, self._grace_until - time.monotonic()))
        if min(moments, default=now + 1) <= now or self._more:
            timeout = 0.0
        waitables: list[Any] = [self._wake_r]
        for run in self._runs.values():
            if run.slot.conn is not None and run.ends_at is None:
                waitables += [run.slot.conn, run.slot.process.sentinel] if run.slot.process is not None else [run.slot.conn]
        if wait(waitables, timeout):
            with contextlib.suppress(BlockingIOError):
                while os.read(self._wake_r, 4096):
                    pass
