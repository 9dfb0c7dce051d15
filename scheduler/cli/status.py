"""`python -m scheduler status ID` (also `taskpilot status`): a workflow as the database holds it, its tasks
in a table; --json prints GET /workflows/{id}'s document instead. It only reads: a server or a `taskpilot run`
may be running the workflow at the same time.

Exit status: 0 the workflow exists, 1 there is none with that id.
"""

import argparse
import sys
import time

import orjson

from scheduler.cli import workflow_text
from scheduler.service import workflow_views
from scheduler.settings import Settings
from scheduler.store.factory import open_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler status", description="Show a workflow and its tasks.")
    parser.add_argument("workflow_id", metavar="ID")
    parser.add_argument("--database", help="the SQLite file (default: TASKPILOT_DATABASE)")
    parser.add_argument("--json", action="store_true", help="the whole document, as GET /workflows/{id} answers it")
    args = parser.parse_args(argv)
    settings = Settings(**({"database": args.database} if args.database else {}))
    store = open_store("sqlite", str(settings.database))
    try:
        workflow = store.workflow(args.workflow_id)
        if workflow is None:
            print(f"error: no workflow {args.workflow_id} in {settings.database}", file=sys.stderr)
            return 1
        view = workflow_views.workflow(store, workflow, {"kind": "wall", "now": time.time(), "scale": settings.clock_scale})
    finally:
        store.close()
    if args.json:
        print(orjson.dumps(view, option=orjson.OPT_INDENT_2).decode())
        return 0
    print(workflow_text.bar(view))
    print(workflow_text.table(view))
    print(workflow_text.summary(view))
    return 0
