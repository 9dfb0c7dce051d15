"""build_world(settings): the process-wide inputs of every decision, from the data directory.

The reference scenario is built at once (it is what every endpoint uses by default); the grid
scenario, which reads three years of hourly data and pre-trains its own agents, is built the first
time a session or a simulation asks for it.
"""

from pathlib import Path

import numpy as np

from rl.agent import AgentConfig
from rl.dqn import DQNAgent
from scheduler.core.bands import BandPolicy
from scheduler.core.errors import DatasetError
from scheduler.core.fleet import Fleet, build_fleet
from scheduler.core.timing import WhenConfig
from scheduler.data.datasets import load_datasets
from scheduler.data.grid import REGIONS_FILE, ZONES, load_grid, load_regions
from scheduler.data.power_curves import load_power_curve
from scheduler.data.signals import Signals, build_signals
from scheduler.placement.engine import Runtime, World
from scheduler.placement.grid_features import load_dqn, state_size
from scheduler.placement.pretrain import pretrain_agents
from scheduler.placement.scenario import build_grid_scenario
from scheduler.settings import Settings

WORLD_STREAMS = 2
"""Children of settings.seed spawned here, for the reference and the grid pre-training. An evaluation
spawns its own streams past these (scheduler.studies.placement.seed_streams), so a world built from the
evaluation's seed, as the CLI's is, never shares a stream with its workload or policies."""


def build_world(settings: Settings) -> World:
    data = load_datasets(settings.data_dir, settings.cache_dir)
    fleet = build_fleet(data.servers)
    signals = build_signals(data)
    reference_seed, grid_seed = np.random.SeedSequence(settings.seed).spawn(WORLD_STREAMS)
    agents = pretrain_agents(fleet, signals, settings.pretrain_episodes, _rng(reference_seed), AgentConfig())
    # Fail fast on a bad region map or weights file, as on any other data file; the grid series itself loads on first use.
    load_regions(_regions_file(settings), fleet.names, ZONES)
    if settings.grid_policy == "dqn":
        _grid_dqn(settings, fleet)
    return World(fleet, signals, agents, builders={"grid": lambda: build_grid_runtime(settings, fleet, signals, grid_seed)})


def build_grid_runtime(settings: Settings, fleet: Fleet, signals: Signals, seed: np.random.SeedSequence) -> Runtime:
    grid = load_grid(settings.data_dir, settings.cache_dir)
    zones = load_regions(_regions_file(settings), fleet.names, grid.zones)
    curve = load_power_curve(settings.data_dir) if settings.power_curve == "specpower" else None
    when = WhenConfig(BandPolicy.parse(settings.carbon_bands), settings.forecast, settings.forecast_error, settings.flexible_slack_h)
    scenario = build_grid_scenario(
        fleet, signals, grid, zones, settings.grid_start, settings.grid_minutes_per_job, settings.grid_basis, curve, when
    )
    agents = pretrain_agents(fleet, signals, settings.pretrain_episodes, _rng(seed), AgentConfig(), scenario)
    return Runtime(scenario, agents, _grid_dqn(settings, fleet) if settings.grid_policy == "dqn" else None)


def _grid_dqn(settings: Settings, fleet: Fleet) -> DQNAgent:
    """The DQN that places grid sessions' jobs (TASKPILOT_GRID_POLICY=dqn); ValueError naming the file when
    it cannot be read or was trained for pools of another width: DatasetError, as for any other data file."""
    try:
        agent = load_dqn(settings.dqn_weights)
    except ValueError as exc:
        raise DatasetError(str(exc)) from None
    width = max(len(p) for p in fleet.pools)
    if (agent.state_dim, agent.n_actions) != (state_size(width), width):
        raise DatasetError(
            f"dqn weights {settings.dqn_weights or 'shipped'}: trained for pools of {agent.n_actions} servers, "
            f"this fleet's are {width} wide"
        )
    return agent


def _regions_file(settings: Settings) -> Path:
    return settings.regions_file or settings.data_dir / REGIONS_FILE


def _rng(seed: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))
