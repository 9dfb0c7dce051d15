"""The evaluation library: run_evaluation (what the API and the CLI call), its config, streams and outputs."""

import re

import numpy as np
import orjson
import pytest
from pydantic import ValidationError

from scheduler.core.errors import EvaluationCancelled
from scheduler.data.grid import REGIONS_FILE, load_grid, load_regions
from scheduler.placement.engine import World
from scheduler.placement.pretrain import pretrain_agents
from scheduler.placement.scenario import GridScenario
from scheduler.placement.world import WORLD_STREAMS
from scheduler.settings import ROOT
from scheduler.sim.config import GRID_HOURS, MAX_JOBS, MAX_PRETRAIN_EPISODES, REFERENCE_HOURS, REFERENCE_STEPS, EvaluationConfig
from scheduler.sim.policies import POLICIES
from scheduler.studies import placement as evaluation
from scheduler.studies.placement import grid_inputs, run_evaluation, seed_streams
from scheduler.studies.placement_report import render_html

DATA = ROOT / "dataset_rl"


@pytest.fixture(scope="module")
def grid():
    return load_grid(DATA)


@pytest.fixture(scope="module")
def regions(world, grid):
    return load_regions(DATA / REGIONS_FILE, world.fleet.names, grid.zones)


def evaluate_json(world, grid, regions, **config) -> bytes:
    result = run_evaluation(world, grid, EvaluationConfig(**config), regions=regions)
    return orjson.dumps(result.to_json(), option=orjson.OPT_SERIALIZE_NUMPY)


def test_same_seed_same_document_bit_for_bit(world, grid, regions):
    a = evaluate_json(world, grid, regions, workload="poisson", jobs=400, seed=5)
    b = evaluate_json(world, grid, regions, workload="poisson", jobs=400, seed=5)
    c = evaluate_json(world, grid, regions, workload="poisson", jobs=400, seed=6)
    assert a == b
    assert a != c


def test_streams_are_apart_from_the_worlds():
    """build_world spawns the first WORLD_STREAMS children of a seed for pre-training; the CLI builds its
    world from the evaluation's seed, so the workload and the policies must draw from other children."""
    streams = seed_streams(5)
    keys = [g.bit_generator.seed_seq.spawn_key for g in (streams.workload, *streams.policies.values())]  # type: ignore[attr-defined]
    assert all(key[0] >= WORLD_STREAMS for key in keys)
    assert len(set(keys)) == len(keys)


def test_a_policy_does_not_depend_on_the_others(world, grid, regions):
    alone = run_evaluation(world, grid, EvaluationConfig(workload="task", jobs=300, seed=3, policies="random"), regions=regions)
    together = run_evaluation(world, grid, EvaluationConfig(workload="task", jobs=300, seed=3, policies="greedy,random"), regions=regions)
    assert alone.summaries[0] == together.summaries[1]


def test_drawn_seed_is_reported_and_replays(world, grid, regions):
    first = run_evaluation(world, grid, EvaluationConfig(workload="task", jobs=200, policies="random,tier_agents"), regions=regions)
    again = run_evaluation(
        world, grid, EvaluationConfig(workload="task", jobs=200, policies="random,tier_agents", seed=first.seed), regions=regions
    )
    assert first.summaries == again.summaries


def test_progress_and_cancel(world, grid, regions):
    seen = []
    config = EvaluationConfig(workload="poisson", jobs=5000, seed=1, policies="round_robin,oracle")
    run_evaluation(world, grid, config, regions=regions, progress=lambda done, total, name: seen.append((done, total, name)))
    total = 5000 * (2 + 1 + REFERENCE_STEPS + 1)  # the policies, least_loaded for the reference's target, its search
    assert seen[-1] == (total, total, "constrained_reference")
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    assert (10_000, total, "oracle") in seen and (15_000, total, "least_loaded") in seen
    assert (15_000 + 4096, total, "constrained_reference (search run 1)") in seen
    with pytest.raises(EvaluationCancelled, match=f"round_robin after 4096 of {total}"):
        run_evaluation(world, grid, config, regions=regions, cancel=lambda: True)
    calls = iter(range(10**6))  # each run of 5,000 jobs checks twice: the 7th check is in the search's first run
    with pytest.raises(EvaluationCancelled, match=f"search run 1\\) after {15_000 + 4096} of {total}"):
        run_evaluation(world, grid, config, regions=regions, cancel=lambda: next(calls) >= 6)
    seen.clear()
    config = config.model_copy(update={"reference": False})
    result = run_evaluation(world, grid, config, regions=regions, progress=lambda done, total, name: seen.append((done, total, name)))
    assert seen[-1] == (10_000, 10_000, "oracle") and result.reference is None and result.to_json()["reference"] is None


def test_reference_scenario_needs_no_grid(world):
    result = run_evaluation(world, None, EvaluationConfig(scenario="reference", jobs=200, seed=2, policies="greedy,oracle"))
    assert "proxy" in result.clock["carbon_kind"]
    assert set(result.clock["server_zone"].values()) == {"proxy"}


def test_grid_inputs_come_from_the_worlds_grid_scenario(grid_world):
    grid, zones = grid_inputs(grid_world, "grid")
    scenario = grid_world.runtime("grid").scenario
    assert isinstance(scenario, GridScenario) and grid is scenario.grid and zones is scenario.server_zone
    assert grid_inputs(grid_world, "reference") == (None, None)


def test_grid_scenario_without_grid_is_refused(world):
    with pytest.raises(ValueError, match="needs the grid series"):
        run_evaluation(world, None, EvaluationConfig(jobs=10, seed=1))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("policies", "greedy,fastest", "fastest"),
        ("policies", "greedy,greedy", "distinct"),
        ("jobs", MAX_JOBS + 1, "less than or equal"),
        ("workload", "/etc/passwd.csv", "task"),
        ("colour", "red", "Extra inputs"),
        ("start_hour", GRID_HOURS, "less than or equal to 26279"),
        ("start_hour", 10**20, "less than or equal to 26279"),
        ("start_hour", 10**400, "less than or equal to 26279"),
        ("load", 1e-300, "greater than or equal to 0.01"),
        ("pretrain_episodes", MAX_PRETRAIN_EPISODES + 1, "less than or equal"),
        ("pretrain_episodes", "5", "valid integer"),
    ],
    ids=[
        "unknown-policy",
        "repeated-policy",
        "too-many-jobs",
        "path-as-workload",
        "unknown-field",
        "start-past-the-grid",
        "start-past-uint64",
        "start-overflows-float",
        "tiny-load",
        "too-much-pretraining",
        "string-pretraining",
    ],
)
def test_bad_config_is_named(field, value, message):
    with pytest.raises(ValidationError, match=message):
        EvaluationConfig(**{field: value})


def test_reference_start_hour_is_bounded_by_its_year():
    assert EvaluationConfig(scenario="reference", start_hour=REFERENCE_HOURS - 1).start_hour == REFERENCE_HOURS - 1
    with pytest.raises(ValidationError, match="start_hour must be at most 8759 in the reference scenario.*got 8760"):
        EvaluationConfig(scenario="reference", start_hour=REFERENCE_HOURS)


@pytest.mark.parametrize(
    "scenario, hour", [("grid", GRID_HOURS), ("reference", REFERENCE_HOURS), ("grid", 10**18)], ids=["grid", "reference", "frozen-clock"]
)
def test_build_clock_refuses_a_start_outside_its_series(world, grid, regions, scenario, hour):
    config = EvaluationConfig(scenario=scenario).model_copy(update={"start_hour": hour})  # past the model's bounds, as a caller could
    with pytest.raises(ValueError, match=f"start_hour must be 0..{hour - 1 if hour < 10**9 else GRID_HOURS - 1}.*got {hour}"):
        evaluation.build_clock(config, world, grid, regions)


def test_the_last_grid_hour_runs_and_serialises(world, grid, regions):
    document = evaluate_json(world, grid, regions, workload="poisson", jobs=50, seed=1, policies="greedy", start_hour=GRID_HOURS - 1)
    assert orjson.loads(document)["clock"]["start_hour"] == GRID_HOURS - 1


def test_same_config_same_document_whatever_the_worlds_agents(world, grid, regions):
    """A server's world is pre-trained from its own TASKPILOT_SEED, the CLI's from the run's seed: the
    run pre-trains its own agents from its seed, so both give the same results.json."""
    other = World(world.fleet, world.signals, pretrain_agents(world.fleet, world.signals, 30, np.random.default_rng(99)))
    config = {"workload": "task", "jobs": 400, "seed": 8, "policies": "tier_agents,greedy", "pretrain_episodes": 40}
    a, b = evaluate_json(world, grid, regions, **config), evaluate_json(other, grid, regions, **config)
    assert a == b
    assert orjson.loads(a)["config"]["pretrain_episodes"] == 40
    assert evaluate_json(world, grid, regions, **{**config, "pretrain_episodes": 41}) != a


def test_run_agents_are_the_agents_build_world_trains_for_the_seed(grid_world):
    """grid_world is build_world(seed=7, pretrain_episodes=100)."""
    ours = evaluation.pretrain_tier_agents(grid_world, 7, 100)
    for mine, built in zip(ours, grid_world.pretrained, strict=True):
        assert mine.weights.tobytes() == built.weights.tobytes() and mine.steps == built.steps


@pytest.fixture
def no_full_gaia(monkeypatch):
    """A deployed image: the shipped samples only, nothing where the full traces would be."""
    monkeypatch.setattr(evaluation, "SHARED_GAIA_DIR", ROOT.parent / "shared-absent" / "data" / "workloads" / "gaia")


def test_gaia_past_the_sample_needs_the_full_trace(world, no_full_gaia):
    config = EvaluationConfig(workload="gaia-azure", jobs=10_001, seed=1, policies="greedy")
    message = re.escape("gaia-azure ships 10,000 jobs; more need ../shared-absent/data/workloads/gaia/azure-100k.csv, which is absent")
    with pytest.raises(ValueError, match=message):
        evaluation.check_config(config, DATA)
    with pytest.raises(ValueError, match=message):
        evaluation.build_workload(config, world, np.random.default_rng(0), DATA)
    evaluation.check_config(config.model_copy(update={"jobs": 10_000}), DATA)  # the sample is enough
    evaluation.check_config(config.model_copy(update={"workload": "task", "jobs": 200_000}), DATA)


def test_check_config_needs_the_shipped_sample(tmp_path):
    with pytest.raises(ValueError, match="gaia-pai needs workloads/pai-10k.csv in the data directory, which is absent"):
        evaluation.check_config(EvaluationConfig(workload="gaia-pai", jobs=10), tmp_path)


@pytest.mark.skipif(not evaluation.SHARED_GAIA_DIR.is_dir(), reason="../shared is absent")
def test_check_config_counts_the_full_trace():
    evaluation.check_config(EvaluationConfig(workload="gaia-azure", jobs=99_988), DATA)
    with pytest.raises(ValueError, match="gaia-azure has 99,988 jobs in ../shared/data/workloads/gaia/azure-100k.csv; asked for 99,989"):
        evaluation.check_config(EvaluationConfig(workload="gaia-azure", jobs=99_989), DATA)


def test_all_means_every_policy():
    assert EvaluationConfig(policies="all").policies == POLICIES


def test_html_escapes_every_value():
    hostile = "</script><script>alert(1)</script>&<b>"
    page = render_html({"workload": {"name": hostile}, "policies": []})
    assert hostile not in page and "<script>alert(1)" not in page
    data = page.split('id="data">', 1)[1].split("</script>", 1)[0]
    assert orjson.loads(data)["workload"]["name"] == hostile  # JSON.parse sees the text unchanged


def test_result_units(world, grid, regions):
    result = run_evaluation(
        world, grid, EvaluationConfig(workload="gaia-azure", jobs=300, seed=4, policies="least_loaded"), regions=regions
    )
    summary = result.summaries[0]
    assert summary.co2_kg < summary.energy_kwh  # kg CO2 per kWh is below 1 on these grids (g/kWh < 1000)
    assert 0 < summary.utilisation <= 1 and summary.slo_miss <= 1
    assert np.isclose(
        sum(result.server_utilisation["least_loaded"][s] * c for s, c in enumerate(world.fleet.cores)) / world.fleet.cores.sum(),
        summary.utilisation,
    )
