"""Processes the execution tests start: each in a session (and process group) of its own, and the whole group
killed on the way out, whatever happened: a failed assertion, an error, a KeyboardInterrupt. A runner's fork
server and its workers are in its group, so nothing it started survives the test."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.scheduler.execution.helpers import wait_until

ROOT = Path(__file__).resolve().parents[3]


def group_members(pgid: int) -> set[int]:
    """Live processes of the process group (zombies, which run nothing, left out)."""
    members = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.add(int(entry.name))
    return members


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL to the process's group, then wait until no member is alive."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    wait_until(lambda: not group_members(process.pid), f"every process of group {process.pid} gone")


@contextmanager
def runner(db: Path, folder: Path, *mode: str) -> Iterator[subprocess.Popen[str]]:
    """tests.scheduler.execution.crash_runner on DB in a session of its own, its group killed on exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKPILOT_")}
    command = [sys.executable, "-m", "tests.scheduler.execution.crash_runner", str(db), str(folder), *mode]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        yield process
    finally:
        kill_group(process)
        if process.stdout is not None:
            process.stdout.close()
