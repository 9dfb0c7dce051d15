"""Per-server features of a grid placement: what a learner needs to tell a clean server from a dirty one.

The tier agents see one carbon number for a whole pool (rl/features.py, the seed's seven features in the
reference scenario), so they cannot prefer the pool server on the greener grid. A grid placement's state
is, for each server of the job's pool (in pool order, padded with zeros to the widest pool):

- intensity_now: the server's grid intensity at the job's arrival, g/kWh / GRID_FACTOR_SCALE_G;
- intensity_forecast: its mean over the job's runtime on that server, from the start the job would get
  there (a perfect forecast, as the grid scenario and the simulator's oracle read the series);
- wait_h: log1p of the hours the job would wait in that server's queue before it starts;
- in_system: jobs queued or running on it / IN_SYSTEM_SCALE (its queue);
- runtime_h: log1p of the job's runtime on it, hours (the job's size on that server);
- core_share: the share of the server's cores the job holds (the job's size against the server);
- dynamic_co2: log1p of the g CO2 of the job's dynamic energy there over its run (energy x forecast):
  what the placement adds to the fleet's emissions, the idle draw being paid whatever the choice.

then the job's tier, one-hot. Only numbers a scheduler has at arrival go in (the queue model and the
series); the builders take plain per-server lists because the simulator calls them once per job.
Reference sessions never use this module: their agents keep the seed's seven features.

`load_dqn` reads a weights file written by `python -m scheduler train-dqn` (SHIPPED_WEIGHTS by default).
"""

import math
import threading
from pathlib import Path

import numpy as np

from rl.dqn import DQNAgent
from scheduler.core.bands import GRID_FACTOR_SCALE_G
from scheduler.core.states import TIERS

SERVER_FEATURES: tuple[str, ...] = (
    "intensity_now",
    "intensity_forecast",
    "wait_h",
    "in_system",
    "runtime_h",
    "core_share",
    "dynamic_co2",
)
IN_SYSTEM_SCALE = 10.0
"""Jobs on a server that map to in_system 1 (not clipped: a longer queue reads above 1)."""


def state_size(pool_width: int) -> int:
    return pool_width * len(SERVER_FEATURES) + len(TIERS)


def feature_names(pool_width: int) -> tuple[str, ...]:
    """Names of the state's entries, in order: server k's features as 'name[k]', then the tier one-hot."""
    return tuple(f"{name}[{k}]" for k in range(pool_width) for name in SERVER_FEATURES) + tuple(f"tier={t}" for t in TIERS)


def dynamic_kwh(energy_kwh: np.ndarray, runtime_min: np.ndarray, core_share: np.ndarray, p_idle_w: np.ndarray) -> np.ndarray:
    """The part of a job's stand-alone energy above its share of the server's idle power (share x P_idle
    over its run), i.e. its dynamic energy: the idle draw is the fleet's whatever the placement, so only
    this part changes the fleet's total with the choice (scheduler/sim/simulator.py, account)."""
    return energy_kwh - p_idle_w * core_share * runtime_min / 60_000.0


def grid_state(
    tier: int,
    pool_width: int,
    intensity_now: list[float],
    intensity_forecast: list[float],
    wait_min: list[float],
    in_system: list[int],
    runtime_min: list[float],
    core_share: list[float],
    dynamic_kwh: list[float],
) -> np.ndarray:
    """The state vector (state_size(pool_width),) of one job, from per-server lists over its pool."""
    out = [0.0] * state_size(pool_width)
    scale, n = GRID_FACTOR_SCALE_G, len(SERVER_FEATURES)
    for k in range(len(intensity_now)):
        forecast = intensity_forecast[k]
        out[k * n : (k + 1) * n] = (
            intensity_now[k] / scale,
            forecast / scale,
            math.log1p(wait_min[k] / 60.0),
            in_system[k] / IN_SYSTEM_SCALE,
            math.log1p(runtime_min[k] / 60.0),
            core_share[k],
            math.log1p(dynamic_kwh[k] * forecast),
        )
    out[pool_width * n + tier] = 1.0
    return np.asarray(out)


def grid_states(
    tier: int,
    pool_width: int,
    intensity_now: np.ndarray,
    intensity_forecast: np.ndarray,
    wait_min: np.ndarray,
    in_system: np.ndarray,
    runtime_min: np.ndarray,
    core_share: np.ndarray,
    dynamic_kwh: np.ndarray,
) -> np.ndarray:
    """grid_state for m jobs of one tier at once: each argument (m, pool size); returns (m, state_size).
    The service's grid sessions use it (their jobs see no queue, so a batch's states are known up front)."""
    m, k = intensity_now.shape
    n = len(SERVER_FEATURES)
    per_server = np.stack(
        (
            intensity_now / GRID_FACTOR_SCALE_G,
            intensity_forecast / GRID_FACTOR_SCALE_G,
            np.log1p(wait_min / 60.0),
            in_system / IN_SYSTEM_SCALE,
            np.log1p(runtime_min / 60.0),
            core_share,
            np.log1p(dynamic_kwh * intensity_forecast),
        ),
        axis=2,
    )  # (m, k, n)
    out = np.zeros((m, state_size(pool_width)))
    out[:, : k * n] = per_server.reshape(m, k * n)
    out[:, pool_width * n + tier] = 1.0
    return out


SHIPPED_WEIGHTS = Path(__file__).with_name("weights") / "dqn-grid.npz"
"""The `dqn` policy's weights for the grid scenario's default map, as docs/placement.md says they were made."""
_loaded: dict[tuple[str, int], DQNAgent] = {}
_lock = threading.Lock()


def load_dqn(path: Path | None = None) -> DQNAgent:
    """The agent in `path` (default SHIPPED_WEIGHTS), read once per file version and shared: acting
    greedily reads its weights and changes nothing, so every run and session may use the same one.
    ValueError naming the file when it is missing or not a weights file."""
    path = Path(path or SHIPPED_WEIGHTS)
    try:
        key = (str(path.resolve()), path.stat().st_mtime_ns)
    except OSError as exc:
        raise ValueError(f"dqn weights {path}: {exc.strerror or exc}") from None
    with _lock:
        if key not in _loaded:
            try:
                _loaded[key] = DQNAgent.load(path)
            except (OSError, KeyError, ValueError) as exc:
                raise ValueError(f"dqn weights {path}: {exc}") from None
        return _loaded[key]
