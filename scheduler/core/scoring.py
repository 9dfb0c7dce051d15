"""Per-server metrics and tier-weighted quality scores, vectorised over a batch of jobs.

The seed's formulas: energy_kwh = (P_idle + (P_peak - P_idle) x load) / 1000, cost = energy x price,
co2_kg = energy x (0.35 + carbon_factor). Each metric is min-max normalised over the job's tier pool
(cost, CO2 and latency inverted so 1 is best) and combined with the tier's weights into a quality score.
Servers outside the pool score 0. A pool whose servers tie on a metric scores 1 on it for all of them.
"""

from dataclasses import dataclass

import numpy as np

from scheduler.core.fleet import Fleet

TIER_WEIGHTS = np.array(
    [
        [0.10, 0.25, 0.40, 0.25],  # green: mostly CO2
        [0.25, 0.25, 0.25, 0.25],  # balanced
        [0.40, 0.10, 0.10, 0.40],  # performance: speed first
    ]
)  # (3 tiers, 4 metrics: perf, cost, co2, lat)
METRICS: tuple[str, str, str, str] = ("perf", "cost", "co2", "lat")
CO2_BASE_KG_PER_KWH = 0.35
"""The seed's floor on the CO2 factor: co2 = energy x (0.35 + carbon_factor)."""


@dataclass(frozen=True)
class ServerMetrics:
    energy_kwh: np.ndarray  # (n_jobs, n_servers)
    cost: np.ndarray  # (n_jobs, n_servers)
    co2_kg: np.ndarray  # (n_jobs, n_servers)

    def take(self, rows: np.ndarray) -> "ServerMetrics":
        return ServerMetrics(self.energy_kwh[rows], self.cost[rows], self.co2_kg[rows])


@dataclass(frozen=True)
class PoolScores:
    """Normalised scores of one tier's pool servers for jobs of that tier."""

    parts: np.ndarray  # (n_jobs, 4 metrics, pool_size), order of METRICS
    final: np.ndarray  # (n_jobs, pool_size) weighted quality in [0, 1]


def server_metrics(fleet: Fleet, load: np.ndarray, price: np.ndarray, carbon_factor: np.ndarray) -> ServerMetrics:
    """Energy, cost and CO2 of one job on every server, for each job's state (inputs are (n_jobs,))."""
    energy = (fleet.p_idle_w + np.outer(load, fleet.p_peak_w - fleet.p_idle_w)) / 1000.0
    return ServerMetrics(
        energy_kwh=energy,
        cost=energy * price[:, None],
        co2_kg=energy * (CO2_BASE_KG_PER_KWH + carbon_factor)[:, None],
    )


def pool_scores(fleet: Fleet, tier: int, metrics: ServerMetrics, latency: np.ndarray | None = None) -> PoolScores:
    """Scores of `tier`'s pool for jobs whose `metrics` rows are given (all of that tier).

    `latency` (n_jobs, n_servers), lower is better, replaces the seed's per-server proxy 1 / cpu_rate
    where a job's own runtime is known (the grid scenario's energy model)."""
    pool = fleet.pools[tier]
    n = metrics.energy_kwh.shape[0]
    lat = np.broadcast_to(fleet.latency_proxy[pool], (n, len(pool))) if latency is None else latency[:, pool]
    parts = np.empty((n, 4, len(pool)))
    parts[:, 0] = _normalise(np.broadcast_to(fleet.perf[pool], (n, len(pool))), higher_is_better=True)
    parts[:, 1] = _normalise(metrics.cost[:, pool], higher_is_better=False)
    parts[:, 2] = _normalise(metrics.co2_kg[:, pool], higher_is_better=False)
    parts[:, 3] = _normalise(lat, higher_is_better=False)
    final = np.einsum("m,nmp->np", TIER_WEIGHTS[tier], parts)
    return PoolScores(parts=parts, final=final)


def _normalise(x: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Row-wise min-max to [0, 1]; rows with no spread score 1 everywhere."""
    lo = x.min(axis=1, keepdims=True)
    hi = x.max(axis=1, keepdims=True)
    span = hi - lo
    flat = span <= 1e-12 * np.maximum(np.abs(hi), 1.0)
    scaled = (x - lo if higher_is_better else hi - x) / np.where(flat, 1.0, span)
    return np.where(flat, 1.0, scaled)
