"""The deferral study (scheduler/deferral*.py): the seed's rule on a hand-made series, deadlines, ordering of forecasts, replay."""

import csv
import math

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scheduler.cli import evaluate
from scheduler.core import states
from scheduler.core.energy import ECO
from scheduler.core.fleet import build_fleet
from scheduler.data.carbon_series import CarbonSeries
from scheduler.data.datasets import load_datasets
from scheduler.data.signals import build_signals
from scheduler.settings import ROOT
from scheduler.sim.config import DEFERRAL_REGIONS, DeferralConfig
from scheduler.studies import deferral, deferral_regions, deferral_schedules
from scheduler.studies.deferral_regions import Region
from scheduler.studies.deferral_schedules import Frame, Jobs
from scheduler.timeshift.forecast import PerfectForecast, PersistenceForecast

DATA = ROOT / "dataset_rl"
SHARED = deferral_regions.SHARED_DATA_DIR
needs_shared = pytest.mark.skipif(
    not (SHARED / "grid-carbon").is_dir(),
    reason="../shared/data is not here (it is never shipped)",
)
C, N, F = states.CRITICAL, states.NORMAL, states.FLEXIBLE


@pytest.fixture(scope="module")
def inputs():
    data = load_datasets(DATA)
    return build_fleet(data.servers), build_signals(data).energy_price


def study(inputs, **fields) -> dict:
    fleet, prices = inputs
    config = DeferralConfig(**{"jobs": 300, "seed": 1, "seeds": 3, "regions": "ES,US-CAL-CISO", **fields})
    return deferral.run_deferral(config, fleet, prices, data_dir=DATA)


def figures(document: dict) -> dict[tuple[str, str], dict]:
    return {(row["region"], row["strategy"]): row for row in document["table"]}


def test_the_seeds_rule_on_a_hand_made_series():
    """Hourly series, bands "100,200" (absolute), 24 h of history: the first arrival is slot 24.
    Reading at slot 24 is 300 (high), at 26 150 (medium), at 28 50 (low); the greenest hours before
    the flexible deadlines are 33 (20) and 36 (30)."""
    values = np.full(72, 150.0)
    values[[24, 28, 33, 36]] = [300.0, 50.0, 20.0, 30.0]
    series = CarbonSeries(np.datetime64("2021-01-01T00:00"), 60, values, name="made-up")
    urgency = np.array([C, N, F, F, F, F, F, N], np.int8)
    arrival = np.array([60, 60, 60, 60, 180, 180, 300, 180], float)  # submit slots 25, 25, 25, 25, 27, 27, 29, 27
    fast = np.array([60, 60, 60, 60, 60, 120, 60, 60], float)
    room = np.array([60, 150, 60 + 720, 60 + 30, 60 + 720, 120 + 720, 60 + 720, 150], float)  # J3: 30 min slack, too little for ECO
    interruptible = np.array([0, 0, 0, 0, 0, 1, 0, 0], bool)
    jobs = Jobs(
        arrival,
        fast,
        arrival + room,
        urgency,
        interruptible,
        np.tile([1000.0, 400.0], (8, 1)),
    )
    config = DeferralConfig(bands="100,200", band_window_h=24, threshold_forecast="perfect")
    frame, first = deferral_schedules.place(jobs, series, None, 24)
    assert first == np.datetime64("2021-01-02T00:00")

    act = deferral_schedules.threshold_modes(config, jobs, frame, values)
    fast_, eco, defer = states.RUN_FAST, states.RUN_ECO, states.DEFER
    assert act.tolist() == [fast_, eco, eco, fast_, defer, defer, fast_, fast_]
    out = deferral_schedules.build_outcome(
        frame,
        (act == eco).astype(np.int8),
        act == defer,
        interruptible,
        values,
        PerfectForecast(values),
        lambda n: None,
    )
    runs = np.column_stack([out.job, out.a, out.b])  # sorted by job, then start
    expected = [
        (0, 25, 26),
        (1, 25, 27.5),
        (2, 25, 27.5),
        (3, 25, 26),
        (4, 33, 34),
        (5, 33, 34),
        (5, 36, 37),
        (6, 29, 30),
        (7, 27, 28),
    ]
    assert runs == pytest.approx(np.array(expected, float))

    m = deferral_schedules.measure(jobs, frame, out, values, np.ones_like(values))
    # kg = W x sum(g/kWh x h) / 1e6: four FAST hours at 150, two ECO runs of 2.5 h at 150 and 400 W, 20, 20 + 30
    assert m["co2_kg"] == pytest.approx((4 * 1000 * 150 + 2 * 400 * 375 + 1000 * 20 + 1000 * 50) / 1e6)
    assert m["energy_kwh"] == pytest.approx(4 + 2 * 0.4 * ECO.slowdown + 1 + 2)
    assert (
        m["eco_jobs"],
        m["deferred_jobs"],
        m["deadline_misses"],
        m["critical_moved"],
    ) == (2, 2, 0, 0)
    assert m["delay_mean_min"] == pytest.approx((90 + 90 + 360 + 480) / 8)


def test_measure_matches_a_plain_loop(inputs):
    """The vectorised CO2 against a slot-by-slot sum for jobs at fractional times, some interrupted."""
    rng = np.random.default_rng(0)
    values = rng.uniform(10, 500, 100)
    n = 20
    submit = rng.uniform(30, 60, n)
    jobs = Jobs(
        submit * 60,
        rng.uniform(10, 200, n),
        submit * 60 + 1e4,
        np.full(n, F, np.int8),
        rng.random(n) < 0.5,
        rng.uniform(50, 300, (n, 2)),
    )
    frame = Frame(submit, jobs.fast_min / 60, submit + 1e4 / 60, 60)
    out = deferral_schedules.build_outcome(
        frame,
        np.zeros(n, np.int8),
        np.ones(n, bool),
        jobs.interruptible,
        values,
        PerfectForecast(values),
        lambda k: None,
    )

    def slow(a: float, b: float) -> float:
        return sum(values[k] * max(0.0, min(b, k + 1) - max(a, k)) for k in range(math.floor(a), math.ceil(b)))

    expected = sum(jobs.power_w[j, 0] * slow(a, b) for j, a, b in zip(out.job.tolist(), out.a.tolist(), out.b.tolist())) / 1e6
    assert deferral_schedules.measure(jobs, frame, out, values, values)["co2_kg"] == pytest.approx(expected)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_series_and_jobs_keep_every_promise(seed):
    """On any series: no strategy misses a deadline or moves a critical job, and per flexible job
    oracle <= perfect <= run now (summed here)."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 500, 240)  # (240,) hourly
    n = 40
    submit, fast = rng.uniform(30, 150, n), rng.uniform(0.05, 6, n)
    urgency = rng.integers(0, 3, n).astype(np.int8)
    room = np.select(
        [urgency == C, urgency == N],
        [fast, fast * ECO.slowdown],
        fast + rng.uniform(0, 48, n),
    )
    interruptible = (rng.random(n) < 0.5) & (urgency == F)
    jobs = Jobs(
        submit * 60,
        fast * 60,
        (submit + room) * 60,
        urgency,
        interruptible,
        rng.uniform(10, 400, (n, 2)),
    )
    frame = Frame(submit, fast, submit + room, 60)
    act = deferral_schedules.threshold_modes(DeferralConfig(band_window_h=24), jobs, frame, values)
    flexible, zero = urgency == F, np.zeros(n, np.int8)

    def co2(mode, moved, interrupt, forecast) -> dict:
        out = deferral_schedules.build_outcome(frame, mode, moved, interrupt, values, forecast, lambda k: None)
        return deferral_schedules.measure(jobs, frame, out, values, values)

    results = {
        "run_now": co2(zero, np.zeros(n, bool), interruptible, None),
        "threshold": co2(
            (act == states.RUN_ECO).astype(np.int8),
            act == states.DEFER,
            interruptible,
            PersistenceForecast(values, 24),
        ),
        "perfect": co2(zero, flexible, interruptible, PerfectForecast(values)),
        "oracle": co2(zero, flexible, flexible, PerfectForecast(values)),
    }
    for m in results.values():
        assert m["deadline_misses"] == 0 and m["critical_moved"] == 0 and m["feasible_deadlines"] == n
    assert results["oracle"]["co2_kg"] <= results["perfect"]["co2_kg"] + 1e-12 <= results["run_now"]["co2_kg"] + 2e-12


@pytest.mark.parametrize("bands", ["p33,p67", "140,260"], ids=["percentiles", "absolute"])
def test_threshold_decisions_read_only_the_past(bands):
    """Changing the actual signal from a job's decision slot on never changes its threshold action."""
    rng = np.random.default_rng(4)
    values = rng.uniform(0, 500, 120)  # (120,) hourly
    n = 40
    submit, fast = rng.uniform(30, 90, n), rng.uniform(0.1, 3, n)
    urgency = rng.integers(0, 3, n).astype(np.int8)
    jobs = Jobs(submit * 60, fast * 60, (submit + fast + 12) * 60, urgency, np.zeros(n, bool), np.ones((n, 2)))
    frame = Frame(submit, fast, submit + fast + 12, 60)
    config = DeferralConfig(bands=bands, band_window_h=24)
    act = deferral_schedules.threshold_modes(config, jobs, frame, values)
    for i, s in enumerate(np.floor(submit).astype(int).tolist()):
        changed = values.copy()
        changed[s:] = rng.uniform(0, 500, len(values) - s)
        assert deferral_schedules.threshold_modes(config, jobs, frame, changed)[i] == act[i], i


@pytest.mark.parametrize(
    "fields",
    [
        {"seed": 1},
        {"seed": 2, "slack_h": 0.5, "urgency_mix": (0.1, 0.1, 0.8)},
        {"seed": 3, "slack_h": 48, "interruptible_share": 1.0, "bands": "p10,p50"},
        {
            "seed": 4,
            "workload": "gaia-azure",
            "span_h": 720,
            "threshold_forecast": "noisy",
        },
        {"seed": 5, "urgency_mix": (1.0, 0.0, 0.0)},
    ],
    ids=[
        "defaults",
        "little-slack",
        "long-slack-all-interruptible",
        "gaia-a-month",
        "all-critical",
    ],
)
def test_no_feasible_deadline_is_missed_and_critical_jobs_never_move(inputs, fields):
    document = study(inputs, **fields)
    for row in document["table"]:
        assert row["feasible_deadlines"] == 300, row
        assert row["deadline_misses"] == 0 and row["critical_moved"] == 0, row
    if fields.get("urgency_mix") == (1.0, 0.0, 0.0):
        assert all(row["co2_kg"] == pytest.approx(figures(document)[(row["region"], "run_now")]["co2_kg"]) for row in document["table"])


def test_better_knowledge_never_does_worse(inputs):
    """Per flexible job the perfect plan is the best of the starts any forecast can pick, and the oracle's
    interruptible plan is at least as good: oracle <= perfect <= noisy (on average), persistence, run_now."""
    for seed in (1, 2, 3):
        table = figures(study(inputs, seed=seed, jobs=500))
        for region in ("ES", "US-CAL-CISO"):
            co2 = {strategy: row["co2_kg"] for (r, strategy), row in table.items() if r == region}
            assert co2["oracle"] <= co2["forecast_perfect"] + 1e-9
            for other in ("forecast_noisy", "forecast_persistence", "run_now"):
                assert co2["forecast_perfect"] <= co2[other] + 1e-9, (
                    seed,
                    region,
                    other,
                )
            assert table[(region, "forecast_noisy")]["runs"] == 3 and table[(region, "forecast_noisy")]["co2_kg_std"] > 0


def test_same_seed_same_document_and_another_seed_another(inputs):
    first, again, other = study(inputs), study(inputs), study(inputs, seed=2)
    for document in (first, again, other):
        document.pop("elapsed_s")
    assert orjson.dumps(first) == orjson.dumps(again)
    assert first["table"] != other["table"]


def test_a_regions_figures_do_not_depend_on_the_others(inputs):
    alone, together = (
        study(inputs, regions="US-CAL-CISO"),
        study(inputs, regions="ES,US-CAL-CISO"),
    )
    assert alone["regions"]["US-CAL-CISO"] == together["regions"]["US-CAL-CISO"]


def test_the_document_says_what_it_holds(inputs):
    document = study(inputs, forecasts="all")
    assert document["study"] == "deferral" and document["schema_version"] == 1 and document["seed"] == 1
    es = document["regions"]["ES"]
    assert (es["signal"], es["unit"], es["step_min"], es["start"]) == (
        "average",
        "gCO2eq/kWh",
        60,
        "2021-01-08T00:00Z",
    )
    assert list(es["strategies"]) == [
        "run_now",
        "threshold",
        "forecast_perfect",
        "forecast_noisy",
        "forecast_persistence",
        "oracle",
    ]
    assert any("ES: forecast_issued skipped" in note for note in document["notes"])
    jobs = document["jobs"]
    assert jobs["critical"] + jobs["normal"] + jobs["flexible"] == 300 and jobs["server"] == "Server 5"
    assert len(document["table"]) == 12 and orjson.loads(orjson.dumps(document)) == document


def test_build_jobs_deadlines_follow_urgency(inputs):
    fleet, _ = inputs
    config = DeferralConfig(jobs=2000, seed=7)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(7).spawn(2)]
    jobs = deferral_schedules.build_jobs(config, fleet, streams, DATA)
    room = jobs.deadline_min - jobs.arrival_min
    assert np.allclose(room[jobs.urgency == C], jobs.fast_min[jobs.urgency == C])
    assert np.allclose(room[jobs.urgency == N], jobs.fast_min[jobs.urgency == N] * ECO.slowdown)
    assert np.allclose(room[jobs.urgency == F], jobs.fast_min[jobs.urgency == F] + 720)
    assert not jobs.interruptible[jobs.urgency != F].any() and 0.4 < jobs.interruptible[jobs.urgency == F].mean() < 0.6
    assert jobs.arrival_min[0] == 0 and jobs.arrival_min[-1] == pytest.approx(168 * 60)
    assert (jobs.power_w[:, 1] < jobs.power_w[:, 0]).all()  # ECO always draws less, for longer


def test_a_start_outside_a_series_names_it(inputs):
    with pytest.raises(
        ValueError,
        match=r"US-CAL-CISO: the study needs 2023-12-24.*inside its series, 2021-01-01T00:00Z \.\. 2024-01-01T00:00Z",
    ):
        study(inputs, regions="US-CAL-CISO", start="2023-12-31")


def test_a_region_from_shared_needs_its_file(inputs, tmp_path):
    fleet, prices = inputs
    config = DeferralConfig(jobs=10, seed=1, regions="ES,DE")
    with pytest.raises(ValueError, match=r"region DE needs .*ger_ci\.csv .*never shipped"):
        deferral.run_deferral(config, fleet, prices, data_dir=DATA, shared_dir=tmp_path)


@needs_shared
def test_the_shared_regions_run_with_their_own_signals(inputs):
    document = study(inputs, regions="DE,GB,FR,CAISO_NORTH", jobs=200, seeds=2)
    regions = document["regions"]
    assert regions["CAISO_NORTH"]["signal"] == "marginal" and regions["CAISO_NORTH"]["step_min"] == 5
    assert "forecast_issued" in regions["CAISO_NORTH"]["strategies"] and "forecast_issued" not in regions["DE"]["strategies"]
    assert {r["signal"] for name, r in regions.items() if name != "CAISO_NORTH"} == {"average"}
    assert all(row["deadline_misses"] == 0 and row["critical_moved"] == 0 for row in document["table"])


def test_every_region_has_a_source():
    assert tuple(deferral_regions.SOURCES) == DEFERRAL_REGIONS


@pytest.mark.parametrize(
    "fields, needle",
    [
        ({"regions": "ES,XX"}, "regions"),
        ({"regions": ""}, "regions"),
        ({"forecasts": "perfect,crystal"}, "forecasts"),
        ({"urgency_mix": (0.5, 0.5, 0.5)}, "summing to 1"),
        ({"start": "next tuesday"}, "ISO"),
        ({"bands": "p70,p30"}, "rising"),
        ({"jobs": "12"}, "jobs"),
        ({"seeds": 0}, "seeds"),
        ({"policies": "all"}, "policies"),
    ],
    ids=[
        "unknown-region",
        "no-region",
        "unknown-forecast",
        "mix-not-one",
        "bad-start",
        "falling-bands",
        "string-jobs",
        "no-seeds",
        "placement-field",
    ],
)
def test_bad_configs_name_the_field(fields, needle):
    with pytest.raises(ValidationError, match=needle):
        DeferralConfig(**fields)


def test_cli_runs_the_study(tmp_path, capsys):
    out = tmp_path / "defer"
    flags = [
        "--study",
        "deferral",
        "--regions",
        "ES,NO",
        "--jobs",
        "200",
        "--seed",
        "4",
        "--seeds",
        "2",
        "--forecasts",
        "perfect,noisy",
        "--out",
        str(out),
    ]
    assert evaluate.main(flags) == 0
    printed = capsys.readouterr().out
    assert "forecast_noisy" in printed and "saved %" in printed
    document = orjson.loads((out / "results.json").read_bytes())
    assert document["config"]["regions"] == ["ES", "NO"] and document["seed"] == 4
    with (out / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["region"], r["strategy"]) for r in rows][:5] == [
        ("ES", s)
        for s in (
            "run_now",
            "threshold",
            "forecast_perfect",
            "forecast_noisy",
            "oracle",
        )
    ]
    assert float(rows[0]["co2_kg"]) == pytest.approx(document["table"][0]["co2_kg"])
    with pytest.raises(SystemExit):
        evaluate.main(["--study", "deferral", "--regions", "MARS", "--out", str(out)])
    assert "--regions" in capsys.readouterr().err


def test_progress_counts_every_job_plan_and_cancel_stops(inputs):
    fleet, prices = inputs
    seen: list[tuple[int, int, str]] = []
    config = DeferralConfig(jobs=300, seed=1, seeds=2, regions="ES", forecasts="perfect,noisy")
    deferral.run_deferral(
        config,
        fleet,
        prices,
        data_dir=DATA,
        progress=lambda d, t, label: seen.append((d, t, label)),
    )
    assert seen[-1][0] == seen[-1][1] == 300 * (3 + 1 + 2)  # run_now, threshold, oracle; perfect; noisy x 2
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    with pytest.raises(deferral.EvaluationCancelled, match="cancelled during ES run_now"):
        deferral.run_deferral(config, fleet, prices, data_dir=DATA, cancel=lambda: True)


def test_region_series_line_up_with_the_shipped_grid():
    region = deferral_regions.load_region("NO", "lca", DATA, SHARED)
    assert isinstance(region, Region) and region.series.step_min == 60 and region.issued is None
    assert region.series.start == np.datetime64("2021-01-01T00:00") and region.series.n == 26_280
