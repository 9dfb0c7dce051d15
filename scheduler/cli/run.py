"""`python -m scheduler run WORKFLOW.json [--watch]` (also `taskpilot run`): run a workflow here, without a server.

Each task is placed as the API places it (a session's tier agents; in a grid session the when-policy), stored
in the database (TASKPILOT_DATABASE, or --database) and run by an executor in this process until the workflow
ends; --watch shows a progress bar over the DAG and each task's moves as they happen. The executor also runs
whatever else the database holds (a run that was stopped, another process's queued work). Ctrl-C or SIGTERM
stops it gracefully: running tasks get TASKPILOT_SHUTDOWN_GRACE_S, the rest stays queued for the next start.

Exit status: 0 the workflow succeeded, 1 it failed or was cancelled, 2 bad input, 130 stopped.
"""

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import orjson

from scheduler.cli import workflow_text
from scheduler.core.errors import WorkflowInputError, WorkflowTooLarge
from scheduler.placement.world import build_world
from scheduler.service.sessions import SessionStore
from scheduler.service.workflows import Workflows, build_workflows
from scheduler.settings import Settings

POLL_S = 0.1
"""How often the terminal is redrawn while the workflow runs (the executor does not wait for it)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scheduler run", description="Run a workflow of tasks, here, until it ends.")
    add = parser.add_argument
    add("workflow", type=Path, metavar="WORKFLOW.json", help="the body POST /workflows takes (see docs/execution.md)")
    add("--watch", action="store_true", help="show a progress bar and each task's moves as they happen")
    add("--session", default="cli", help="the session the workflow belongs to (as X-Session-ID; default: cli)")
    add("--scenario", choices=("reference", "grid"), help="the session's scenario (default: TASKPILOT_SCENARIO)")
    add("--database", help="the SQLite file (default: TASKPILOT_DATABASE)")
    add("--key", help="an idempotency key: the same key again gives the first workflow back")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        payload = orjson.loads(args.workflow.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        print(f"error: {args.workflow}: {exc}", file=sys.stderr)
        return 2
    overrides: dict[str, Any] = {"database": args.database} if args.database else {}
    settings = Settings(**overrides, **({"scenario": args.scenario} if args.scenario else {}))
    world = build_world(settings)
    sessions = SessionStore(world, settings.seed, settings.session_ttl_s, settings.max_sessions, settings.max_session_jobs,
                            settings.max_total_jobs, default_scenario=settings.scenario)  # fmt: skip
    workflows = build_workflows(settings, sessions)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(workflows, sessions, args, payload, stop)
    finally:
        workflows.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(workflows: Workflows, sessions: SessionStore, args: argparse.Namespace, payload: Any, stop: threading.Event) -> int:
    session, _ = sessions.get(args.session)
    try:
        created, new = workflows.submit(session, payload, args.key)
    except WorkflowInputError as exc:
        for e in exc.errors:
            where = f"task {e['task']!r}" if e["task"] is not None else "workflow"
            print(f"error: {where}, {e['field']}: {e['message']}", file=sys.stderr)
        return 2
    except WorkflowTooLarge as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    workflow_id = created["workflow_id"]
    print(
        f"workflow {workflow_id}: {len(created['tasks'])} tasks{'' if new else ' (submitted before with this key)'}, session {args.session}"
    )
    seen: dict[str, int] = {}
    shown = ""
    view = workflows.get(session.id, workflow_id)
    while not _ended(view) and not stop.wait(POLL_S):
        view = workflows.get(session.id, workflow_id)
        if args.watch:
            for line in workflow_text.events(view, seen):
                print(line)
            if (progress := workflow_text.bar(view)) != shown:  # a line when something changed, not one per poll
                print(progress, flush=True)
                shown = progress
    if not _ended(view):
        print(f"stopped: workflow {workflow_id} is {view['state']}; what has not run stays queued in the database", file=sys.stderr)
        return 130
    print(workflow_text.table(view))
    print(workflow_text.summary(view))
    return 0 if view["state"] == "succeeded" else 1


def _ended(view: dict[str, Any]) -> bool:
    return view["state"] != "running" and view["rollback"] != "running"
