"""Retries: how many attempts a task gets, the backoff between them, and the errors never retried.

Backoff is exponential with full jitter (AWS's "Exponential Backoff and Jitter"): after the k-th failure the
task waits uniform(0, min(max_backoff_s, backoff_s x 2^(k-1))) seconds, drawn from the stream of its workflow
seed, task and attempt (scheduler.execution.kinds.task_rng, purpose 1), so a run's retry times replay. Without
jitter it waits the ceiling itself.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

TIMED_OUT = "TimedOut"
"""The error kind of an attempt stopped at its timeout (retried like any other unless no_retry names it)."""
WORKER_DIED = "WorkerDied"
"""The error kind of an attempt whose worker process died under it (a crash of the task's own code)."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    jitter: bool = True
    no_retry: tuple[str, ...] = ()

    @classmethod
    def of(cls, spec: dict[str, Any] | None) -> "RetryPolicy":
        spec = dict(spec or {})
        if "no_retry" in spec:
            spec["no_retry"] = tuple(spec["no_retry"])
        return cls(**spec)

    def as_dict(self) -> dict[str, Any]:
        return {"max_attempts": self.max_attempts, "backoff_s": self.backoff_s, "max_backoff_s": self.max_backoff_s,
                "jitter": self.jitter, "no_retry": list(self.no_retry)}  # fmt: skip

    def ceiling(self, failures: int) -> float:
        """The most the wait after the `failures`-th failure may be."""
        return min(self.max_backoff_s, self.backoff_s * 2.0 ** min(failures - 1, 60))

    def delay(self, failures: int, rng: np.random.Generator) -> float:
        ceiling = self.ceiling(failures)
        return float(rng.uniform(0.0, ceiling)) if self.jitter else ceiling

    def verdict(self, failures: int, error_kinds: list[str]) -> str | None:
        """None when the task is retried after its `failures`-th failure, else why not. `error_kinds` are the
        raised error's class and its bases (a no_retry entry naming a base covers its subclasses)."""
        blocked = next((kind for kind in error_kinds if kind in self.no_retry), None)
        if blocked is not None:
            return f"{blocked} is not retried (retries.no_retry)"
        if failures >= self.max_attempts:
            return f"out of attempts ({failures} of {self.max_attempts} failed)"
        return None
