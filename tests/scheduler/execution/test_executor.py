"""The executor, driven by a manual clock: retries with exact backoff times, trigger rules, upstream_failed
propagation, rollback order, a failing compensation, timeouts that kill a busy loop, a dying worker,
cancellation mid-run, deferred starts, queue orders, worker pools, replays of a seed, retry by hand. Every
wait is for a condition; the clock moves only when a test moves it."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from scheduler.core.errors import WorkflowConflict
from scheduler.execution.kinds import task_rng
from scheduler.execution.policies import ORDERS
from scheduler.execution.retry import RetryPolicy
from scheduler.store.sqlite import SqliteStore

from .helpers import finished, reasons, running, states, submit, wait_until


def task(task_id: str, kind: str = "sleep", *deps: str, **extra: Any) -> dict[str, Any]:
    body = {"id": task_id, "kind": kind, "depends_on": list(deps), **extra}
    if kind == "sleep":
        body.setdefault("params", {"seconds": 0})
    return body


def once(**extra: Any) -> dict[str, Any]:
    return {"retries": {"max_attempts": 1}, **extra}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


def test_backoff_times_are_exact_for_a_seed() -> None:
    """As Celery's test_autoretry_backoff fixes the random draws, these are the draws of seed 7, task 0."""
    policy = RetryPolicy(max_attempts=6, backoff_s=1.0, max_backoff_s=5.0, jitter=True)
    delays = [policy.delay(f, task_rng(7, 0, f, 1)) for f in range(1, 6)]
    assert delays == [0.311603800673524, 1.4702035950560675, 3.1531543197449916, 4.045065584912462, 1.3988721935986892]
    assert [policy.ceiling(f) for f in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]  # each draw is under its ceiling
    assert RetryPolicy(jitter=False, backoff_s=2.0).delay(3, task_rng(7, 0, 3, 1)) == 8.0
    assert RetryPolicy(no_retry=("ValueError",)).verdict(1, ["ValueError", "Exception"]) == "ValueError is not retried (retries.no_retry)"
    assert RetryPolicy(max_attempts=2).verdict(2, ["TaskFailed"]) == "out of attempts (2 of 2 failed)"

    with running() as ex:
        wf = submit(ex, {"tasks": [task("f", "fail", retries={"max_attempts": 4, "backoff_s": 1.0, "max_backoff_s": 5.0})]}, seed=7)
        waits = []
        for attempt in range(1, 4):
            f = wait_until(lambda n=attempt: next((t for t in ex.store.tasks(wf) if t.state == "retrying" and t.attempts == n), None))
            waits.append(f.not_before - ex.clock.now())
            ex.clock.advance(f.not_before - ex.clock.now())
        wait_until(lambda: finished(ex.store, wf))
        assert waits == pytest.approx(delays[:3], abs=1e-12)
        assert states(ex.store, wf) == {"f": "dead"} and ex.store.workflow(wf).state == "failed"  # type: ignore[union-attr]
        last = reasons(ex.store, wf, "f")[-1]
        assert last[2] == "attempt 4 failed: TaskFailed: this task always fails; out of attempts (4 of 4 failed)"


def test_errors_named_in_no_retry_die_at_once() -> None:
    with running() as ex:
        wf = submit(ex, {"tasks": [task("v", "fail", params={"error": "ValueError"}, retries={"no_retry": ["ValueError"]})]})
        wait_until(lambda: finished(ex.store, wf))
        assert [a.n for a in ex.store.attempts(wf)] == [1]
        assert reasons(ex.store, wf, "v")[-1][2].endswith("ValueError is not retried (retries.no_retry)")


def test_trigger_rules_and_upstream_failed_at_once() -> None:
    body = {"tasks": [task("a", "fail", **once()), task("b", "sleep", "a"), task("c", "sleep", "a", trigger="all_done"),
                      task("d", "sleep", "b"), task("e", "sleep", "d", "c", trigger="all_done"), task("x")]}  # fmt: skip
    with running() as ex:
        wf = submit(ex, body)
        wait_until(lambda: finished(ex.store, wf))
        assert states(ex.store, wf) == {"a": "dead", "b": "upstream_failed", "c": "succeeded", "d": "upstream_failed", "e": "succeeded",
                                        "x": "succeeded"}  # fmt: skip
        assert reasons(ex.store, wf, "b")[-1] == ("pending", "upstream_failed", "parent a is dead")
        assert reasons(ex.store, wf, "d")[-1] == ("pending", "upstream_failed", "parent b is upstream_failed")
        assert reasons(ex.store, wf, "e")[1] == ("pending", "queued", "dependencies met (trigger all_done)")
        by_task = {t.pk: t.name for t in ex.store.tasks(wf)}
        moves = sorted((t.seq, by_task[t.task], t.target) for t in ex.store.transitions(wf))
        # b and d became upstream_failed in the transaction that recorded a's death: no claim, no run in between.
        start = moves.index(next(m for m in moves if m[1:] == ("a", "dead")))
        assert [m[1:] for m in moves[start : start + 4]] == [
            ("a", "dead"),
            ("b", "upstream_failed"),
            ("c", "queued"),
            ("d", "upstream_failed"),
        ]
        assert ex.store.workflow(wf).state == "failed"  # type: ignore[union-attr]


def test_rollback_runs_compensations_in_reverse_dependency_order(tmp_path: Path) -> None:
    log = tmp_path / "undo.log"
    undo = {"on_rollback": {"kind": "record", "params": {"path": str(log)}}}
    body = {"tasks": [task("a", **undo), task("b", "sleep", "a", **undo), task("d", "sleep", "a", **undo), task("n", "sleep", "b"),
                      task("c", "fail", "n", "d", **once())]}  # fmt: skip
    with running() as ex:
        wf = submit(ex, body)
        wait_until(lambda: finished(ex.store, wf) and len(ex.store.tasks(wf)) == 8 and finished(ex.store, wf))
        done = states(ex.store, wf)
        assert done == {"a": "rolled_back", "b": "rolled_back", "d": "rolled_back", "n": "succeeded", "c": "dead",
                        "undo b": "succeeded", "undo d": "succeeded", "undo a": "succeeded"}  # fmt: skip
        ran = [line.rsplit(" ", 1)[0] for line in log.read_text().splitlines()]
        assert sorted(ran) == ["undo a", "undo b", "undo d"] and ran[-1] == "undo a"  # a's after those of the tasks that needed it
        undo_a = next(t for t in ex.store.tasks(wf) if t.name == "undo a")
        assert {p.name for p in ex.store.parents(undo_a.pk)} == {"undo b", "undo d"}
        assert reasons(ex.store, wf, "a")[-1] == ("succeeded", "rolled_back", "undone by undo a")
        assert ex.store.workflow(wf).state == "failed"  # type: ignore[union-attr]


def test_a_failing_compensation_is_retried_then_reported() -> None:
    undo = {"on_rollback": {"kind": "fail", "params": {"message": "cannot undo"}}, "retries": {"max_attempts": 2, "backoff_s": 0}}
    with running() as ex:
        wf = submit(ex, {"tasks": [task("a", **undo), task("b", "fail", "a", **once())]})
        wait_until(lambda: len(ex.store.tasks(wf)) == 3 and finished(ex.store, wf))
        assert states(ex.store, wf) == {"a": "succeeded", "b": "dead", "undo a": "dead"}
        undo_a = next(t for t in ex.store.tasks(wf) if t.name == "undo a")
        assert undo_a.error == "TaskFailed: cannot undo" and [a.n for a in ex.store.attempts(wf) if a.task == undo_a.pk] == [1, 2]
        assert {t.name for t in ex.store.dead("s", 0, 10)[1]} == {"b", "undo a"}  # reported in the dead-letter list
        with pytest.raises(WorkflowConflict, match="was rolled back"):
            ex.retry(next(t for t in ex.store.tasks(wf) if t.name == "b"))


def test_a_timeout_kills_a_busy_loop_and_its_process_is_replaced(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with running(pools={"fast": 1, "eco": 1}) as ex:
        wf = submit(ex, {"tasks": [task("spin", "busy", params={"pidfile": str(pidfile)}, timeout_s=5, **once())]})
        wait_until(lambda: pidfile.exists() and pidfile.read_text())
        pid = int(pidfile.read_text())
        ex.clock.advance(4.999)
        assert states(ex.store, wf) == {"spin": "running"} and pid_alive(pid)
        ex.clock.advance(0.001)
        wait_until(lambda: finished(ex.store, wf))
        assert not pid_alive(pid)
        [attempt] = ex.store.attempts(wf)
        assert attempt.outcome == "timed_out" and attempt.error == "TimedOut: still running after timeout_s = 5 s"
        after = submit(ex, {"tasks": [task("next", "whoami")]})
        wait_until(lambda: finished(ex.store, after))
        [ran] = ex.store.attempts(after)
        assert ran.worker == "fast-0" and ran.result["pid"] != pid and ex.slots["fast"][0].started == 2  # type: ignore[index]


def test_a_worker_that_dies_fails_the_attempt_and_is_replaced() -> None:
    with running(pools={"fast": 1, "eco": 1}) as ex:
        boom = task("boom", "crash", retries={"max_attempts": 2, "backoff_s": 0})
        wf = submit(ex, {"tasks": [boom, task("after", "whoami", "boom", trigger="all_done")]})
        wait_until(lambda: finished(ex.store, wf))
        assert states(ex.store, wf) == {"boom": "dead", "after": "succeeded"}
        errors = [a.error for a in ex.store.attempts(wf) if a.outcome == "failed"]
        assert errors == ["WorkerDied: the worker process died (exit code 3)"] * 2


def test_cancelling_mid_run_kills_the_task_and_frees_its_worker(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with running(pools={"fast": 1, "eco": 1}) as ex:
        wf = submit(ex, {"tasks": [task("spin", "busy", params={"pidfile": str(pidfile)}), task("later", "sleep", "spin"),
                                   task("parked", "sleep", params={"seconds": 100})]}, pools={"parked": "eco"})  # fmt: skip
        wait_until(lambda: pidfile.exists() and pidfile.read_text() and states(ex.store, wf)["parked"] == "running")
        pid = int(pidfile.read_text())
        assert ex.cancel(wf) == 3
        wait_until(lambda: not pid_alive(pid) and ex.busy() == {"fast": 0, "eco": 0})
        assert states(ex.store, wf) == {"spin": "cancelled", "later": "cancelled", "parked": "cancelled"}
        assert {a.outcome for a in ex.store.attempts(wf)} == {"cancelled"} and ex.store.workflow(wf).state == "cancelled"  # type: ignore[union-attr]
        with pytest.raises(WorkflowConflict, match="only a running workflow"):
            ex.cancel(wf)
        again = submit(ex, {"tasks": [task("next", "whoami")]})
        wait_until(lambda: finished(ex.store, again))


def test_deferred_tasks_wait_for_their_planned_start_on_the_clock() -> None:
    with running() as ex:
        wf = submit(ex, {"tasks": [task("green"), task("after", "sleep", "green")]}, delays_h={"green": 2.0}, scale=3600.0)
        assert states(ex.store, wf)["green"] == "deferred"
        green = next(t for t in ex.store.tasks(wf) if t.name == "green")
        assert green.not_before == 2.0  # two session hours at 3600 session seconds per executor second
        ex.clock.advance(1.999)
        assert states(ex.store, wf) == {"green": "deferred", "after": "pending"}
        ex.clock.advance(0.001)
        wait_until(lambda: finished(ex.store, wf))
        assert reasons(ex.store, wf, "green")[1] == ("deferred", "queued", "planned start reached")


@pytest.mark.parametrize("order, expected", [("fifo", ["t1", "t2", "t3"]), ("priority", ["t2", "t3", "t1"]), ("edf", ["t3", "t2", "t1"]),
                                             ("sjf", ["t3", "t1", "t2"])])  # fmt: skip
def test_queue_orders(order: str, expected: list[str], tmp_path: Path) -> None:
    gate = tmp_path / "open"
    tasks = [task("t1", urgency="flexible", duration_min=30), task("t2", urgency="critical", duration_min=50, deadline=600),
             task("t3", duration_min=10, deadline=300)]  # fmt: skip
    with running(pools={"fast": 1, "eco": 1}, order=ORDERS[order]) as ex:
        blocker = submit(ex, {"tasks": [task("gate", "gate", params={"path": str(gate)})]})
        wait_until(lambda: states(ex.store, blocker) == {"gate": "running"})
        wf = submit(ex, {"tasks": tasks})
        gate.touch()
        wait_until(lambda: finished(ex.store, wf))
        by_task = {t.pk: t.name for t in ex.store.tasks(wf)}
        claims = sorted((t.seq, by_task[t.task]) for t in ex.store.transitions(wf) if t.target == "running")
        assert [name for _, name in claims] == expected


def test_eco_tasks_run_on_eco_workers_at_a_lower_priority() -> None:
    with running() as ex:
        wf = submit(ex, {"tasks": [task("e", "whoami"), task("f", "whoami")]}, pools={"e": "eco"})
        wait_until(lambda: finished(ex.store, wf))
        ran = {a.worker.split("-")[0]: a.result for a in ex.store.attempts(wf)}
        # nice 10 more than FAST's, up to the ceiling of 19 (a test run that is niced already)
        assert ran["eco"]["mode"] == "eco" and ran["eco"]["nice"] >= min(19, ran["fast"]["nice"] + 10)  # type: ignore[index]


def test_a_seed_replays_flaky_outcomes() -> None:
    body = {"tasks": [task(f"f{i}", "flaky", params={"p": 0.5}, retries={"max_attempts": 3, "backoff_s": 0}) for i in range(12)]}

    def outcomes(ex: Any, seed: int) -> list[tuple[str, int, str | None]]:
        wf = submit(ex, body, seed=seed)
        wait_until(lambda: finished(ex.store, wf))
        names = {t.pk: t.name for t in ex.store.tasks(wf)}
        return sorted((names[a.task], a.n, a.outcome) for a in ex.store.attempts(wf))

    with running() as ex:
        first, again, other = outcomes(ex, 11), outcomes(ex, 11), outcomes(ex, 12)
    assert first == again and first != other
    assert {o for _, _, o in first} == {"succeeded", "failed"}


def test_retry_by_hand_revives_the_failed_branch() -> None:
    with running(store=SqliteStore(":memory:")) as ex:
        wf = submit(ex, {"tasks": [task("a", "fail", **once()), task("b", "sleep", "a"), task("c", "sleep", "b")]})
        wait_until(lambda: finished(ex.store, wf))
        a = next(t for t in ex.store.tasks(wf) if t.name == "a")
        with pytest.raises(WorkflowConflict, match="only a dead task"):
            ex.retry(next(t for t in ex.store.tasks(wf) if t.name == "b"))
        ex.retry(a)
        assert ex.store.workflow(wf).state in ("running", "failed")  # type: ignore[union-attr]
        assert ("upstream_failed", "pending", "a parent was retried by hand") in reasons(ex.store, wf, "c")
        wait_until(lambda: finished(ex.store, wf) and states(ex.store, wf)["a"] == "dead")
        assert [a.n for a in ex.store.attempts(wf)] == [1, 2]  # the attempt numbers go on
        assert states(ex.store, wf) == {"a": "dead", "b": "upstream_failed", "c": "upstream_failed"}
        assert [w for w in (ex.store.workflow(wf),) if w is not None][0].state == "failed"


def test_stop_lets_running_tasks_finish_and_leaves_the_rest_queued(tmp_path: Path) -> None:
    gate = tmp_path / "open"
    with running(pools={"fast": 1, "eco": 1}, grace_s=600.0) as ex:
        wf = submit(ex, {"tasks": [task("held", "gate", params={"path": str(gate)}), task("waiting"),
                                   task("nap", params={"seconds": 1000})]}, pools={"nap": "eco"})  # fmt: skip
        wait_until(lambda: states(ex.store, wf) == {"held": "running", "waiting": "queued", "nap": "running"})
        stopper = threading.Thread(target=ex.stop)
        stopper.start()
        wait_until(lambda: states(ex.store, wf)["nap"] == "queued", "the sleep stopped at once")
        assert states(ex.store, wf)["held"] == "running" and stopper.is_alive()  # the gate's task is given its grace
        gate.touch()
        stopper.join()
        assert states(ex.store, wf) == {"held": "succeeded", "waiting": "queued", "nap": "queued"}
        nap = [a for a in ex.store.attempts(wf) if a.worker.startswith("eco")]
        assert [a.outcome for a in nap] == ["interrupted"] and ex.store.runners() == []


def test_a_deadline_caps_a_deferral_at_the_latest_start() -> None:
    from scheduler.execution.admit import Placement, build_records
    from scheduler.execution.spec import parse_workflow

    spec = parse_workflow({"deadline": 120, "tasks": [task("a", duration_min=30), task("b", "sleep", "a", duration_min=60)]}, 10, 1000)
    places = [Placement(1, "S", "eco", delay_h=2.0), Placement(2, "S", "fast", delay_h=0.25)]
    _, (a, b), parents = build_records(spec, places, "s", 100.0, 60.0, 7)
    # scale 60: a session minute is an executor second. a must start by 30 (120 - 60 - 30), b by 60.
    assert a.spec["latest_start"] == 130.0 and a.not_before == 130.0 and a.spec["placement"]["capped_by_deadline"]
    assert b.not_before == 115.0 and not b.spec["placement"]["capped_by_deadline"]  # 15 minutes: inside its window
    assert (a.deadline_at, b.deadline_at) == (160.0, 220.0) and (a.expected_s, b.expected_s) == (30.0, 60.0) and parents == [[], [0]]
    assert a.pool == "eco" and b.spec["params"] == {"seconds": 0}
