"""Shared fixtures: the real reference data, loaded once per test session."""

import numpy as np
import pytest

from scheduler.core.fleet import build_fleet
from scheduler.data.datasets import Datasets, load_datasets
from scheduler.data.signals import build_signals
from scheduler.placement.engine import World
from scheduler.placement.pretrain import pretrain_agents
from scheduler.settings import ROOT


@pytest.fixture(scope="session")
def datasets() -> Datasets:
    return load_datasets(ROOT / "dataset_rl")


@pytest.fixture(scope="session")
def world(datasets: Datasets) -> World:
    fleet = build_fleet(datasets.servers)
    signals = build_signals(datasets)
    agents = pretrain_agents(fleet, signals, 100, np.random.default_rng(7))
    return World(fleet, signals, agents)


@pytest.fixture(scope="session")
def grid_world() -> World:
    """A world whose grid scenario can be built (on first use), with quick pre-training."""
    from scheduler.placement.world import build_world
    from scheduler.settings import Settings

    return build_world(Settings(data_dir=ROOT / "dataset_rl", pretrain_episodes=100, seed=7))
