"""`python -m scheduler run` and `status`: a workflow runs here to its end, with a progress bar when watched; a
failing one exits 1, bad input 2 naming task and field; status reads the database another run wrote."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.__main__ import main
from scheduler.store.sqlite import SqliteStore
from tests.scheduler.execution.helpers import TEST_KINDS, wait_until

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("TASKPILOT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("TASKPILOT_PRETRAIN_EPISODES", "20")


def write(tmp_path: Path, body: dict[str, object]) -> Path:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(body))
    return path


def test_run_watch_and_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "t.db")
    body = {"name": "demo", "tasks": [{"id": "rows", "kind": "analytics", "params": {"rows": 100}},
                                      {"id": "nap", "kind": "sleep", "params": {"seconds": 0}, "depends_on": ["rows"]}]}  # fmt: skip
    assert main(["run", str(write(tmp_path, body)), "--watch", "--database", db]) == 0
    out = capsys.readouterr().out
    assert "rows: queued -> running on fast-" in out and "[##############################] 2/2 ended · succeeded 2" in out
    assert "(demo) succeeded in" in out and "kWh (estimate from measured runtime)" in out
    [workflow] = SqliteStore(db).workflows("cli", 0, 5)[1]
    assert main(["status", workflow.id, "--database", db]) == 0
    shown = capsys.readouterr().out
    assert (
        shown.splitlines()[1].split() == ["task", "state", "attempts", "worker", "runtime_s", "server", "mode", "error"] and "nap" in shown
    )
    assert main(["status", workflow.id, "--database", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "succeeded"
    assert main(["status", "nope", "--database", db]) == 1


def test_a_failing_workflow_exits_1_and_bad_input_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "t.db")
    assert (
        main(["run", str(write(tmp_path, {"tasks": [{"id": "no", "kind": "fail", "retries": {"max_attempts": 1}}]})), "--database", db])
        == 1
    )
    assert "TaskFailed: this task always fails" in capsys.readouterr().out
    assert main(["run", str(write(tmp_path, {"tasks": [{"id": "a", "kind": "sleep", "depends_on": ["a"]}]})), "--database", db]) == 2
    assert "error: task 'a', depends_on: task 'a' depends on itself" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.json"), "--database", db]) == 2


def test_sigterm_stops_a_run_and_leaves_the_rest_queued(tmp_path: Path) -> None:
    """A real `python -m scheduler run` in its own process: SIGTERM while a task waits at a gate the test holds."""
    db, gate = tmp_path / "t.db", tmp_path / "open"
    body = {"tasks": [{"id": "held", "kind": "gate", "params": {"path": str(gate)}},
                      {"id": "next", "kind": "sleep", "params": {"seconds": 0}, "depends_on": ["held"]}]}  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKPILOT_")}
    env |= {"TASKPILOT_TASK_MODULE": TEST_KINDS, "TASKPILOT_PRETRAIN_EPISODES": "20", "TASKPILOT_SHUTDOWN_GRACE_S": "0"}
    command = [sys.executable, "-m", "scheduler", "run", str(write(tmp_path, body)), "--database", str(db)]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_until(lambda: db.exists() and any(t.state == "running" for w in SqliteStore(db).workflows("cli", 0, 1)[1]
                                               for t in SqliteStore(db).tasks(w.id)), "the held task running")  # fmt: skip
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130 and "what has not run stays queued in the database" in err
    store = SqliteStore(db)
    [workflow] = store.workflows("cli", 0, 1)[1]
    states = {t.name: t.state for t in store.tasks(workflow.id)}
    assert states == {"held": "queued", "next": "pending"}  # grace 0: the held attempt was interrupted, to run again
    assert [t.reason for t in store.transitions(workflow.id) if t.target == "queued"][-1].startswith("shutdown: still running")
