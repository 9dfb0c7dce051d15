"""The C version of `rl.agent.run_sequence_py` (each job one `rl.agent.Learner.step`), compiled on first use
and loaded with ctypes. It imports the agent's types from rl.model, never rl.agent (which imports it).

Why C: the act-and-learn loop is sequential (each step's weights depend on the previous step), so numpy
cannot vectorise it, and plain Python runs it at about 84,000 steps/s here against a target of 250,000
decisions/s; the kernel runs about 7.6 million (`python -m bench --only agent_loop`). The kernel is built
once per source version with the system C compiler into `rl/_build/` (or the temp folder when that is
read-only). `-ffp-contract=off` keeps the arithmetic identical to Python's, so both paths give the same
decisions. No compiler -> the Python loop, logged once.
"""

import ctypes
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from rl.model import SequenceResult, TierAgent

log = logging.getLogger(__name__)
SOURCE = Path(__file__).with_name("_kernel.c")
CFLAGS = ("-O2", "-shared", "-fPIC", "-ffp-contract=off", "-fno-fast-math")

_ptr = ctypes.c_void_p  # arrays go in as raw addresses; run_sequence makes them contiguous with the right dtype


def available() -> bool:
    return _library() is not None


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    """Build (once per source hash) and load the kernel; None when no compiler can build it."""
    digest = hashlib.sha256(SOURCE.read_bytes() + " ".join(CFLAGS).encode()).hexdigest()[:16]
    name = f"_kernel-{digest}.so"
    for folder in (Path(__file__).with_name("_build"), Path(tempfile.gettempdir()) / "taskpilot-kernel"):
        target = folder / name
        if not target.exists() and not _compile(target):
            continue
        try:
            lib = ctypes.CDLL(str(target))
        except OSError as exc:
            log.warning("cannot load %s (%s)", target, exc)
            continue
        fn = lib.run_sequence
        fn.restype = ctypes.c_int64
        fn.argtypes = [
            ctypes.c_int,
            _ptr,
            ctypes.c_int64,
            _ptr,
            ctypes.c_int64,
            _ptr,
            _ptr,
            _ptr,
            ctypes.c_double,
            ctypes.c_double,
            ctypes.c_double,
            ctypes.c_double,
            ctypes.c_double,
            ctypes.c_double,
            _ptr,
            _ptr,
            _ptr,
            _ptr,
            ctypes.c_int64,
            _ptr,
            _ptr,
            _ptr,
        ]
        return lib
    log.warning("no C kernel for the agents (no working C compiler); using the slower Python loop")
    return None


def _compile(target: Path) -> bool:
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        return False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
        os.close(fd)
        subprocess.run([compiler, *CFLAGS, "-o", tmp, str(SOURCE)], check=True, capture_output=True, timeout=60)
        os.replace(tmp, target)  # atomic: concurrent builders never load a half-written file
        return True
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("building the agent kernel in %s failed: %s", target.parent, exc)
        return False


def run_sequence(
    agent: TierAgent,
    loads: list[int],
    static: np.ndarray,
    quality: np.ndarray,
    draws: np.ndarray,
    overload_weight: float,
    episode_loads: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    record_weights: bool = False,
) -> SequenceResult:
    """Same contract as rl.agent.run_sequence; every hyper-parameter goes to the C code from agent.config."""
    lib = _library()
    assert lib is not None, "call available() first"
    cfg = agent.config
    m, pool = quality.shape
    assert static.shape == (m, 4) and draws.shape == (m, 2) and agent.weights.shape == (pool, pool + 4)
    weights = np.ascontiguousarray(agent.weights, dtype=np.float64)
    pool_loads = np.asarray(loads, dtype=np.int64)
    static = np.ascontiguousarray(static, dtype=np.float64)
    quality = np.ascontiguousarray(quality, dtype=np.float64)
    draws = np.ascontiguousarray(draws, dtype=np.float64)
    actions = np.empty(m, np.int64)
    q_values = np.empty((m, pool))
    rewards = np.empty(m)
    explored = np.empty(m, np.uint8)
    weights_out = np.empty((m, pool, pool + 4)) if record_weights else None
    episode_len = 0
    if episode_loads is not None:
        assert m % len(episode_loads) == 0 and episode_loads.shape[1] == pool, "episodes must split the jobs evenly"
        episode_len = m // len(episode_loads)
        episode_loads = np.ascontiguousarray(episode_loads, dtype=np.int64)
    if allowed is not None:
        assert allowed.shape == (m, pool) and allowed.any(axis=1).all(), "every job must be allowed some server"
        allowed = np.ascontiguousarray(allowed, dtype=np.uint8)
    steps = lib.run_sequence(
        pool,
        weights.ctypes.data,
        agent.steps,
        pool_loads.ctypes.data,
        m,
        static.ctypes.data,
        quality.ctypes.data,
        draws.ctypes.data,
        overload_weight,
        cfg.lr,
        cfg.gamma,
        cfg.eps_start,
        cfg.eps_floor,
        float(cfg.eps_decay_steps),
        actions.ctypes.data,
        q_values.ctypes.data,
        rewards.ctypes.data,
        explored.ctypes.data,
        episode_len,
        None if episode_loads is None else episode_loads.ctypes.data,
        None if allowed is None else allowed.ctypes.data,
        None if weights_out is None else weights_out.ctypes.data,
    )
    agent.weights[:] = weights
    agent.steps = int(steps)
    loads[:] = pool_loads.tolist()
    return SequenceResult(actions.astype(np.intp), q_values, rewards, explored.view(bool), weights_out)


if __name__ == "__main__":  # `python -m rl.kernel`: build the kernel now (deploy build steps run this)
    logging.basicConfig(level=logging.INFO)
    raise SystemExit(0 if available() else "the agent kernel could not be built: is a C compiler (cc) installed?")
