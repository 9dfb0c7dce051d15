"""The GPU-fraction study in a child process, for a long-lived process such as the service.

hybrid_ml's forest imports scikit-learn, which adds about 136 MB to a process (docs/gpu-fraction.md), and a
module once imported stays: run in the service itself, one study would keep that memory for the service's
life. Here a spawned child process runs `run_study` and ends with it, so the caller never imports
scikit-learn and gets its memory back. Progress comes back over a queue; cancel() is asked every POLL_S and
a True ends the child (terminate), even during the DQN's pre-training, which the in-process run cannot
interrupt.
"""

import importlib.abc
import logging
import multiprocessing
import queue
import sys
import traceback
from collections.abc import Callable
from typing import Any

from scheduler.core.errors import EvaluationCancelled
from scheduler.sim.gpu_workload import GpuFractionConfig

log = logging.getLogger(__name__)
POLL_S = 0.2


class _NoPandas(importlib.abc.MetaPathFinder):
    """pandas, to this process, as if not installed. scikit-learn imports it whenever it is (sklearn/utils/fixes.py):
    30 MB more in the child, which the study never uses (it hands the forest numpy arrays). The service's
    requirements.txt has no pandas: this keeps the child as deployed where the dev requirements bring it."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r} (kept out of the GPU-fraction study's process)", name=name)
        return None


def _child(fields: dict[str, Any], out: Any) -> None:
    """The child's work: the study, its progress and its document (or its error) on `out`."""
    sys.meta_path.insert(0, _NoPandas())
    from scheduler.studies.gpu_fraction import run_study

    try:
        document = run_study(GpuFractionConfig(**fields), lambda done, total, name: out.put(("progress", (done, total, name))))
    except Exception as exc:  # the parent logs it and raises; a traceback printed here would be lost
        out.put(("error", (type(exc).__name__, traceback.format_exc())))
        return
    out.put(("done", document))


def failure(kind: str, details: str) -> RuntimeError:
    """The error the caller gets for an exception of type `kind` in the child, whose traceback `details` goes to
    the log only: its message (an OSError's path, say) is the server's business, not its clients'."""
    log.error("the GPU-fraction study failed in its process:\n%s", details)
    return RuntimeError(f"the GPU-fraction study failed in its process ({kind}; the server's log has the details)")


def run_in_child(
    config: GpuFractionConfig,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """run_study(config) in a spawned child process: the same document, the same progress reports; cancel()
    returning True ends the child and raises EvaluationCancelled; a failure in the child is a RuntimeError naming
    the exception's type (its message and traceback are logged, not raised)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of the parent's state, no fork of its threads
    out = context.Queue()
    child = context.Process(target=_child, args=(config.model_dump(), out), name="gpu-fraction-study", daemon=True)
    child.start()
    try:
        while True:
            if cancel is not None and cancel():
                raise EvaluationCancelled("the GPU-fraction study was stopped")
            try:
                kind, payload = out.get(timeout=POLL_S)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the GPU-fraction study's process ended without a result (exit code {child.exitcode})") from None
                continue
            if kind == "progress" and progress is not None:
                progress(*payload)
            elif kind == "error":
                raise failure(*payload)
            elif kind == "done":
                return payload
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=10)
        out.close()
