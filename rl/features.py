"""The agent's observation: pool loads relative to the busiest pool server, then four job/grid terms."""

import numpy as np

STATIC_FEATURES: tuple[str, ...] = ("1 - carbon_factor", "energy_price", "cpu / 100", "memory / 100")


def feature_names(pool_size: int) -> tuple[str, ...]:
    return tuple(f"load_{i} / max_load" for i in range(pool_size)) + STATIC_FEATURES


def static_features(carbon_factor: np.ndarray, energy_price: np.ndarray, cpu: np.ndarray, memory: np.ndarray) -> np.ndarray:
    """The load-independent part of phi for each job, (n_jobs, 4); the loads are added step by step."""
    return np.column_stack((1.0 - carbon_factor, energy_price, cpu / 100.0, memory / 100.0))
