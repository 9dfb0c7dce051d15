"""Workflows for a terminal: a progress bar over the DAG's tasks, the lines of what just happened, and a table
of the tasks at the end. Shared by `taskpilot run` and `taskpilot status`."""

from typing import Any

from scheduler.core.states import TASK_FINAL

BAR_WIDTH = 30
SHOWN = ("succeeded", "running", "queued", "deferred", "retrying", "pending", "dead", "upstream_failed", "cancelled", "rolled_back")


def bar(view: dict[str, Any]) -> str:
    """[#########-----] 5/10 tasks ended · succeeded 4 · running 1 · ... (compensations counted apart)"""
    tasks = [t for t in view["tasks"] if t["role"] == "task"]
    ended = sum(t["state"] in TASK_FINAL for t in tasks)
    filled = round(BAR_WIDTH * ended / len(tasks)) if tasks else BAR_WIDTH
    counts = " · ".join(f"{s} {n}" for s in SHOWN if (n := view["counts"].get(s, 0)))
    undo = [t for t in view["tasks"] if t["role"] == "compensation"]
    rollback = f" · rollback {view['rollback']} ({sum(t['state'] == 'succeeded' for t in undo)}/{len(undo)})" if undo else ""
    return f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {ended}/{len(tasks)} ended · {counts}{rollback}"


def events(view: dict[str, Any], seen: dict[str, int]) -> list[str]:
    """The transitions not shown yet (`seen`: how many of each task's were), as lines."""
    lines = []
    for t in view["tasks"]:
        moves = t["transitions"]
        for m in moves[seen.get(t["task"], 0) :]:
            worker = f" on {m['worker']}" if m["worker"] and m["to"] == "running" else ""
            lines.append(f"  {t['task']}: {m['from'] or 'new'} -> {m['to']}{worker} ({m['reason']})")
        seen[t["task"]] = len(moves)
    return lines


def table(view: dict[str, Any]) -> str:
    rows = [("task", "state", "attempts", "worker", "runtime_s", "server", "mode", "error")]
    for t in view["tasks"]:
        last = t["attempts"][-1] if t["attempts"] else None
        runtime = f"{last['runtime_s']:.3f}" if last and last["runtime_s"] is not None else ""
        rows.append((t["task"], t["state"], str(t["attempts_made"]), last["worker"] if last else "", runtime, t["server"] or "", t["mode"],
                     (t["error"] or "")[:60]))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def summary(view: dict[str, Any]) -> str:
    fp = view["footprint"]
    energy = f"{fp['energy_kwh']:.3g} kWh" if fp["energy_kwh"] is not None else "no energy figure"
    co2 = f", {fp['co2_kg']:.3g} kg CO2" if fp["co2_kg"] is not None else ""
    took = f" in {view['finished_at'] - view['created_at']:.2f} s" if view["finished_at"] is not None else ""
    plan = fp.get("plan")
    saved = f"; carbon-aware timing saves {plan['saved_kg']:.3g} kg CO2 against running each task when ready" if plan else ""
    return f"workflow {view['workflow_id']} ({view['name']}) {view['state']}{took}; {energy}{co2} ({fp['label']}){saved}"
