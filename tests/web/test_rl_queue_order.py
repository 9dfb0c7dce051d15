"""TASKPILOT_QUEUE_ORDER=rl on the real service: the executor takes ready tasks in the learned dispatcher's
order (docs/dispatch.md), reports it, and runs a workflow to its end; a weights file that is not one stops the
start with its name. Every wait is for a condition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.scheduler.execution.helpers import wait_until

from .conftest import Visitor, serve


def sleep(task_id: str, *deps: str, **extra: Any) -> dict[str, Any]:
    return {"id": task_id, "kind": "sleep", "params": {"seconds": 0}, "depends_on": list(deps), **extra}


@pytest.mark.parametrize("frozen", [False, True])
def test_the_service_runs_workflows_in_the_learned_order(frozen: bool) -> None:
    with serve(queue_order="rl", dispatcher_frozen=frozen) as client:
        assert client.get("/tasks/kinds").json()["queue_order"] == "rl"
        v = Visitor(client)
        body = {"tasks": [sleep("a", deadline=60), sleep("b", "a"), sleep("c", urgency="critical"), sleep("d", urgency="flexible")]}
        created = v.post("/workflows", json=body)
        assert created.status_code == 201, created.text
        wid = created.json()["workflow_id"]
        w = wait_until(lambda: (x := v.ok("GET", f"/workflows/{wid}"))["state"] != "running" and x, "the workflow ends")
        assert w["state"] == "succeeded" and w["counts"]["succeeded"] == 4


def test_a_weights_file_that_is_not_one_stops_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "weights.npz"
    bad.write_text("not a weights file")
    with pytest.raises(Exception, match="weights.npz"), serve(queue_order="rl", dispatcher_weights=str(bad)):
        pass
