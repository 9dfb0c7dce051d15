"""What a task runs: a registry of task kinds, each a Python function and the parameters it takes.

Built-in kinds are in builtin_kinds.py. A library user registers their own with the `task_kind` decorator in
a module named by TASKPILOT_TASK_MODULE, which the service and every worker process import at start-up.
Nothing from HTTP ever names a module, a function or a command: a request names a registered kind, and its
params are checked against the kind's declared parameters before anything is stored.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

MAX_RESULT_CHARS = 2000
"""A kind's return value is kept (as JSON) up to this size; a longer one is replaced by a note."""


class TaskFailed(Exception):
    """The usual error of a task that failed on purpose (`fail`, `flaky`)."""


@dataclass(frozen=True)
class Param:
    """One parameter of a kind: its JSON type, default (None: derived from the job, see the kind) and bounds."""

    type: type
    description: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    choices: tuple[str, ...] | None = None

    def check(self, value: Any) -> str | None:
        """Why `value` does not fit, or None."""
        strict_type = type(value) is self.type or (self.type is float and type(value) is int)
        if value is None and self.default is None:
            return None
        if not strict_type:
            return f"must be {_TYPE_NAMES[self.type]}; got {_short(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number; got {value}"
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum:g}; got {value}"
        if self.maximum is not None and value > self.maximum:
            return f"must be at most {self.maximum:g}; got {value}"
        if self.max_length is not None and len(value) > self.max_length:
            return f"must be at most {self.max_length} characters; got {len(value)}"
        if self.choices is not None and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}; got {_short(value)}"
        return None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": _JSON_TYPES[self.type], "description": self.description, "default": self.default}
        out |= {k: v for k, v in (("minimum", self.minimum), ("maximum", self.maximum), ("max_length", self.max_length)) if v is not None}
        return out | ({"choices": list(self.choices)} if self.choices else {})


_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "a boolean"}
_JSON_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean"}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class TaskContext:
    """What a running task knows besides its params: who it is, its attempt, its seeded random stream, its job."""

    workflow: str
    task: str
    attempt: int
    seed: int
    index: int
    job: dict[str, Any] = field(default_factory=dict)  # cpu, memory, duration_min, ... as the task gave them (with defaults)
    mode: str = "fast"

    @property
    def rng(self) -> np.random.Generator:
        """The task's own stream for this attempt: the same workflow seed, task and attempt draw the same numbers."""
        return task_rng(self.seed, self.index, self.attempt, 0)


def task_rng(seed: int, index: int, attempt: int, purpose: int) -> np.random.Generator:
    """An independent stream per workflow seed, task, attempt and purpose (0: the task's draws, 1: its backoff)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, index, attempt, purpose])))


@dataclass(frozen=True)
class TaskKind:
    name: str
    fn: Callable[[dict[str, Any], TaskContext], Any]
    params: dict[str, Param]
    description: str
    runs: Literal["process", "clock"] = "process"  # clock: waits on the executor's clock instead of running code (sleep)
    builtin: bool = False

    def check(self, params: Any) -> list[tuple[str, str]]:
        """(field, message) for each problem of `params` against this kind's parameters."""
        if not isinstance(params, dict):
            return [("params", f"must be an object; got {_short(params)}")]
        problems = [(f"params.{k}", f"unknown parameter of {self.name}; known: {', '.join(self.params) or 'none'}") for k in params
                    if k not in self.params]  # fmt: skip
        problems += [(f"params.{k}", why) for k, p in self.params.items() if k in params and (why := p.check(params[k]))]
        return problems

    def with_defaults(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**{k: p.default for k, p in self.params.items()}, **params}

    def describe(self) -> dict[str, Any]:
        params = {k: p.describe() for k, p in self.params.items()}
        return {"name": self.name, "description": self.description, "runs": self.runs, "builtin": self.builtin, "params": params}


class Registry:
    """Kinds by name. `kind(...)` is the decorator; REGISTRY is the process's own, built-ins included."""

    def __init__(self) -> None:
        self._kinds: dict[str, TaskKind] = {}

    def add(self, kind: TaskKind) -> None:
        if kind.name in self._kinds and self._kinds[kind.name].fn is not kind.fn:
            raise ValueError(f"task kind {kind.name!r} is registered already")
        self._kinds[kind.name] = kind

    def kind(
        self, name: str, params: dict[str, Param] | None = None, description: str = "", runs: str = "process", builtin: bool = False
    ) -> Callable[[Any], Any]:
        def register(fn: Callable[[dict[str, Any], TaskContext], Any]) -> Callable[[dict[str, Any], TaskContext], Any]:
            text = description or (fn.__doc__ or "").strip().split("\n")[0]
            self.add(TaskKind(name, fn, dict(params or {}), text, runs, builtin))  # type: ignore[arg-type]
            return fn

        return register

    def get(self, name: str) -> TaskKind | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def describe(self) -> list[dict[str, Any]]:
        return [self._kinds[name].describe() for name in self.names()]


REGISTRY = Registry()


def task_kind(name: str, params: dict[str, Param] | None = None, description: str = "") -> Callable[[Any], Any]:
    """The decorator for user kinds, which run in worker processes:

    @task_kind("resize", params={"width": Param(int, "pixels", 640, 1, 8192)})
    def resize(params, context): ...
    """
    return REGISTRY.kind(name, params, description)


def run_kind(name: str, params: dict[str, Any], context: TaskContext) -> Any:
    """Run a registered kind with its defaults filled in; what it returns is kept if it is small JSON."""
    kind = REGISTRY.get(name)
    if kind is None:
        raise LookupError(f"no task kind {name!r} in this worker; known: {', '.join(REGISTRY.names())}")
    return kind.fn(kind.with_defaults(params), context)
