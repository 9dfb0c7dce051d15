"""The evaluation: run_evaluation (what the API calls), its config, and the CLI end to end."""

import csv
import re

import numpy as np
import orjson
import pytest
from pydantic import ValidationError

from scheduler import evaluate
from scheduler.evaluate import EvaluationCancelled, EvaluationConfig, render_html, run_evaluation
from scheduler.grid import REGIONS_FILE, load_grid, load_regions
from scheduler.policies import POLICIES
from scheduler.settings import ROOT

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


def test_a_policy_does_not_depend_on_the_others(world, grid, regions):
    alone = run_evaluation(world, grid, EvaluationConfig(workload="task", jobs=300, seed=3, policies="random"), regions=regions)
    together = run_evaluation(world, grid, EvaluationConfig(workload="task", jobs=300, seed=3, policies="greedy,random"), regions=regions)
    assert alone.summaries[0] == together.summaries[1]


def test_drawn_seed_is_reported_and_replays(world, grid, regions):
    first = run_evaluation(world, grid, EvaluationConfig(workload="task", jobs=200, policies="random,tier_agents"), regions=regions)
    again = run_evaluation(world, grid, EvaluationConfig(workload="task", jobs=200, policies="random,tier_agents", seed=first.seed), regions=regions)
    assert first.summaries == again.summaries


def test_progress_and_cancel(world, grid, regions):
    seen = []
    config = EvaluationConfig(workload="poisson", jobs=5000, seed=1, policies="round_robin,oracle")
    run_evaluation(world, grid, config, regions=regions, progress=lambda done, total, name: seen.append((done, total, name)))
    assert seen[-1] == (10_000, 10_000, "oracle")
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    with pytest.raises(EvaluationCancelled, match="round_robin after 4096 of 10000"):
        run_evaluation(world, grid, config, regions=regions, cancel=lambda: True)


def test_reference_scenario_needs_no_grid(world):
    result = run_evaluation(world, None, EvaluationConfig(scenario="reference", jobs=200, seed=2, policies="greedy,oracle"))
    assert "proxy" in result.clock["carbon_kind"]
    assert set(result.clock["server_zone"].values()) == {"proxy"}


def test_grid_scenario_without_grid_is_refused(world):
    with pytest.raises(ValueError, match="needs the grid series"):
        run_evaluation(world, None, EvaluationConfig(jobs=10, seed=1))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("policies", "greedy,fastest", "fastest"), ("policies", "greedy,greedy", "distinct"), ("jobs", evaluate.MAX_JOBS + 1, "less than or equal"),
     ("workload", "/etc/passwd.csv", "task"), ("colour", "red", "Extra inputs")],
    ids=["unknown-policy", "repeated-policy", "too-many-jobs", "path-as-workload", "unknown-field"],
)  # fmt: skip
def test_bad_config_is_named(field, value, message):
    with pytest.raises(ValidationError, match=message):
        EvaluationConfig(**{field: value})


def test_all_means_every_policy():
    assert EvaluationConfig(policies="all").policies == POLICIES


def test_cli_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    code = evaluate.main(["--workload", "task", "--scenario", "grid", "--policies", "all", "--jobs", "400", "--seed", "9", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert all(name in printed for name in POLICIES) and "lower bound" in printed
    document = orjson.loads((out / "results.json").read_bytes())
    assert [p["policy"] for p in document["policies"]] == list(POLICIES) and document["seed"] == 9
    assert document["lower_bound"]["co2_kg"] <= min(p["co2_kg"] for p in document["policies"])
    with (out / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["policy"] for r in rows] == list(POLICIES)
    assert float(rows[0]["co2_kg"]) == pytest.approx(document["policies"][0]["co2_kg"])
    page = (out / "report.html").read_text()
    assert_offline(page)
    assert "new Chart(" in page and '"policies"' in page


def assert_offline(page: str) -> None:
    """Nothing loaded from elsewhere: outside the inlined Chart.js (whose banner names its web site)
    no src, href, url(), @import or URL at all, and no element that could fetch one."""
    library = evaluate.CHART_JS.read_text() if evaluate.CHART_JS.is_file() else ""
    own = page.replace(library, "")
    assert library == "" or len(own) < len(page)  # the library really is inlined
    assert not re.search(r"<(link|img|iframe|script\s+src)\b|\bsrc\s*=|\bhref\s*=|@import|url\(|https?://", own, re.IGNORECASE)


def test_cli_reads_a_workload_file_and_reports_errors(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    path.write_text("arrival_time,length,cpus\n0,1,2\n0.5,2,4\n1,0.5,1\n")
    assert evaluate.main(["--workload", str(path), "--policies", "greedy,oracle", "--seed", "1", "--out", str(tmp_path / "a")]) == 0
    assert orjson.loads((tmp_path / "a" / "results.json").read_bytes())["workload"]["name"] == "mine"
    assert evaluate.main(["--workload", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "b")]) == 1
    assert "file not found" in capsys.readouterr().err


def test_html_escapes_every_value():
    hostile = "</script><script>alert(1)</script>&<b>"
    page = render_html({"workload": {"name": hostile}, "policies": []})
    assert hostile not in page and "<script>alert(1)" not in page
    data = page.split('id="data">', 1)[1].split("</script>", 1)[0]
    assert orjson.loads(data)["workload"]["name"] == hostile  # JSON.parse sees the text unchanged


def test_result_units(world, grid, regions):
    result = run_evaluation(world, grid, EvaluationConfig(workload="gaia-azure", jobs=300, seed=4, policies="least_loaded"), regions=regions)
    summary = result.summaries[0]
    assert summary.co2_kg < summary.energy_kwh  # kg CO2 per kWh is below 1 on these grids (g/kWh < 1000)
    assert 0 < summary.utilisation <= 1 and summary.slo_miss <= 1
    assert np.isclose(sum(result.server_utilisation["least_loaded"][s] * c for s, c in enumerate(world.fleet.cores)) / world.fleet.cores.sum(),
                      summary.utilisation)  # fmt: skip
