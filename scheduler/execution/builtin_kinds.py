"""The built-in task kinds: sleep, inference, analytics, fail and flaky; and load_kinds, which registers them
and the user's module.

Each is sized by its params, or by the task's job where a param is left out (a bigger job runs a bigger
batch), and bounded so that the largest one allowed runs in well under a second on one core: an API caller
cannot occupy a worker for long by asking for a huge task (sleep holds no CPU; its bound is a day).
"""

import importlib
from typing import Any

import numpy as np

from scheduler.execution.kinds import REGISTRY, Param, TaskContext, TaskFailed

FAIL_ERRORS = {"TaskFailed": TaskFailed, "ValueError": ValueError, "KeyError": KeyError, "RuntimeError": RuntimeError}
MAX_SLEEP_S = 86_400.0


def load_kinds(module: str | None) -> None:
    """The built-ins (this module, imported) and the module TASKPILOT_TASK_MODULE names, whose @task_kind
    decorators register its kinds. Called by the service and by every worker process at start-up."""
    if module:
        importlib.import_module(module)


@REGISTRY.kind(
    "sleep",
    {
        "seconds": Param(
            float, "seconds on the executor's clock; default: the job's duration_min on the clock's scale", None, 0, MAX_SLEEP_S
        )
    },
    "Waits its duration on the executor's clock (it holds a worker slot, not a CPU).",
    runs="clock",
    builtin=True,
)
def sleep(params: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    # Never called in a worker: the executor runs clock kinds itself, so a test's clock decides when they end.
    return {"seconds": params["seconds"]}


def _batch(params: dict[str, Any], context: TaskContext, name: str, per_cpu: int, limit: int) -> int:
    given = params[name]
    return int(given) if given is not None else int(min(limit, max(1, round(float(context.job.get("cpu", 10)) * per_cpu))))


@REGISTRY.kind(
    "inference",
    {
        "batch": Param(int, "rows in the batch; default: 16 per cpu% of the job", None, 1, 4096),
        "width": Param(int, "units per hidden layer", 128, 1, 256),
        "layers": Param(int, "hidden layers", 3, 1, 6),
    },
    "A numpy MLP forward pass (ReLU layers, softmax over 10 classes) on a seeded random batch.",
    builtin=True,
)
def inference(params: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    rng = context.rng
    batch, width = _batch(params, context, "batch", 16, 4096), params["width"]
    x = rng.standard_normal((batch, width), dtype=np.float32)
    for _ in range(params["layers"]):
        w = rng.standard_normal((width, width), dtype=np.float32) / np.float32(np.sqrt(width))
        x = np.maximum(x @ w, 0)
    logits = x @ rng.standard_normal((width, 10), dtype=np.float32)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return {"batch": batch, "width": width, "layers": params["layers"], "mean_top_p": round(float(probs.max(axis=1).mean()), 6)}


@REGISTRY.kind(
    "analytics",
    {
        "rows": Param(int, "generated rows; default: 10,000 per memory% of the job", None, 1, 2_000_000),
        "groups": Param(int, "groups the rows are aggregated into", 16, 1, 1000),
    },
    "Generates seeded rows (a group and a value each) and aggregates them: count, sum and mean per group.",
    builtin=True,
)
def analytics(params: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    rng = context.rng
    rows = (
        params["rows"] if params["rows"] is not None else int(min(2_000_000, max(1, round(float(context.job.get("memory", 10)) * 10_000))))
    )
    groups = params["groups"]
    keys = rng.integers(0, groups, rows)
    values = rng.gamma(2.0, 10.0, rows)
    count = np.bincount(keys, minlength=groups)
    total = np.bincount(keys, weights=values, minlength=groups)
    mean = np.divide(total, count, out=np.zeros(groups), where=count > 0)
    return {"rows": rows, "groups": groups, "total": round(float(total.sum()), 6), "max_group_mean": round(float(mean.max()), 6)}


@REGISTRY.kind(
    "fail",
    {
        "message": Param(str, "the error's text", "this task always fails", max_length=200),
        "error": Param(str, "the error kind raised (retries.no_retry may name it)", "TaskFailed", choices=tuple(FAIL_ERRORS)),
    },
    "Always raises: the named error kind with the message.",
    builtin=True,
)
def fail(params: dict[str, Any], context: TaskContext) -> None:
    raise FAIL_ERRORS[params["error"]](params["message"])


@REGISTRY.kind(
    "flaky",
    {"p": Param(float, "probability that an attempt fails", 0.5, 0, 1)},
    "Fails with probability p, drawn from the seeded stream of its workflow, task and attempt: a run replays.",
    builtin=True,
)
def flaky(params: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    draw = float(context.rng.random())
    if draw < params["p"]:
        raise TaskFailed(f"flaky: drew {draw:.4f} < p = {params['p']:g} on attempt {context.attempt}")
    return {"draw": round(draw, 6)}
