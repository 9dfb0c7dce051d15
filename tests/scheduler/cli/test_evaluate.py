"""The CLI, `python -m scheduler.evaluate`, end to end: outputs, replay, its world and its flags."""

import argparse
import csv
import re

import orjson
import pytest

from scheduler.cli import evaluate
from scheduler.settings import ROOT
from scheduler.sim.config import EvaluationConfig
from scheduler.sim.policies import POLICIES
from scheduler.studies import report_html

DATA = ROOT / "dataset_rl"


def run_cli(out, *flags: str) -> bytes:
    """results.json of a small CLI run on the grid scenario."""
    assert evaluate.main(["--workload", "task", "--policies", "all", "--jobs", "300", "--out", str(out), *flags]) == 0
    return (out / "results.json").read_bytes()


def test_cli_end_to_end(tmp_path, capsys):
    out = tmp_path / "out"
    code = evaluate.main(
        ["--workload", "task", "--scenario", "grid", "--policies", "all", "--jobs", "400", "--seed", "9", "--out", str(out)]
    )
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
    # The constrained reference: its row, each policy's gap, and the document's block; the oracle named for what it is.
    assert re.search(r"^constrained_reference .* \+0\.0 %$", printed, re.MULTILINE)
    assert re.search(r"^oracle .* slower$", printed, re.MULTILINE) and "the job-CO2 oracle" in printed
    assert "lower bound at that completion (Lagrangian relaxation, capacity relaxed)" in printed
    reference = document["reference"]
    assert [g["policy"] for g in reference["gaps"]] == list(POLICIES) and '"reference"' in page
    assert reference["source"] in ("hindsight search", *POLICIES)


def test_no_reference_skips_it(tmp_path, capsys):
    assert evaluate.main(["--policies", "greedy", "--jobs", "50", "--seed", "1", "--no-reference", "--out", str(tmp_path)]) == 0
    assert "constrained_reference" not in capsys.readouterr().out
    assert orjson.loads((tmp_path / "results.json").read_bytes())["reference"] is None


def assert_offline(page: str) -> None:
    """Nothing loaded from elsewhere: outside the inlined Chart.js (whose banner names its web site)
    no src, href, url(), @import or URL at all, and no element that could fetch one."""
    library = report_html.CHART_JS.read_text() if report_html.CHART_JS.is_file() else ""
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


@pytest.mark.parametrize(
    "path", [ROOT / "frontend" / "static" / "sample_jobs.csv", DATA / "sample_100_jobs.csv"], ids=["dashboard", "reference"]
)
def test_the_job_csv_a_user_has_runs_and_says_what_it_did_not_simulate(tmp_path, capsys, path):
    out = tmp_path / "job-csv"
    assert evaluate.main(["--workload", str(path), "--policies", "greedy,oracle", "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    notes = orjson.loads((out / "results.json").read_bytes())["workload"]["notes"]
    assert "estimated_kwh" in notes[-1] and all(f"note: {n}" in printed for n in notes)
    assert "estimated_kwh" in (out / "report.html").read_text()  # in the data its Notes list shows


def test_the_scenario_flag_is_read_in_any_case(tmp_path):
    out = tmp_path / "ref"
    assert evaluate.main(["--scenario", "Reference", "--jobs", "30", "--policies", "greedy", "--seed", "1", "--out", str(out)]) == 0
    assert orjson.loads((out / "results.json").read_bytes())["clock"]["scenario"] == "reference"


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--forecasts", "noisy"], "--forecasts: the deferral study's (--study deferral)"),
        (["--seeds", "3", "--slack-h", "6"], "--slack-h, --seeds: the deferral study's"),
        (["--study", "deferral", "--policies", "greedy"], "--policies: the placement study's"),
        (["--study", "deferral", "--scenario", "grid", "--load=0.5"], "--scenario, --load: the placement study's"),
        (["--study", "deferral", "--no-reference"], "--reference: the placement study's"),
    ],
    ids=["forecasts-in-placement", "two-deferral-flags", "policies-in-deferral", "placement-flags-in-deferral", "reference-in-deferral"],
)
def test_a_flag_the_study_does_not_read_is_refused(tmp_path, capsys, flags, needle):
    with pytest.raises(SystemExit) as info:
        evaluate.main([*flags, "--jobs", "10", "--out", str(tmp_path / "x")])
    assert info.value.code == 2 and needle in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_forecast_is_the_deferral_studys_forecasts(tmp_path):
    """--forecast, as the plan command spells it, is the deferral study's --forecasts (it was refused as ambiguous)."""
    out = tmp_path / "deferral"
    flags = ["--study", "deferral", "--regions", "ES", "--jobs", "40", "--seed", "1", "--forecast", "persistence", "--out", str(out)]
    assert evaluate.main(flags) == 0
    document = orjson.loads((out / "results.json").read_bytes())
    assert document["config"]["forecasts"] == ["persistence"]
    page = (out / "report.html").read_text()  # the deferral study's report: self-contained, as the placement one
    assert_offline(page)
    assert "new Chart(" in page and '"study":"deferral"' in page


def test_same_seed_same_bytes_whatever_the_environment(tmp_path, monkeypatch, capsys):
    """The world is built from the evaluation's seed and the CLI's own flags: the server's TASKPILOT_*
    variables (another seed, pre-training, regions, basis) change nothing."""
    first = run_cli(tmp_path / "a", "--seed", "9")
    for name, value in {
        "SEED": "123",
        "PRETRAIN_EPISODES": "3",
        "REGIONS_FILE": str(tmp_path / "none.csv"),
        "GRID_BASIS": "lca",
        "POWER_CURVE": "specpower",
        "GRID_START": "2021-06-01T00:00Z",
        "DATA_DIR": str(tmp_path),
    }.items():
        monkeypatch.setenv(f"TASKPILOT_{name}", value)
    assert run_cli(tmp_path / "b", "--seed", "9") == first
    assert run_cli(tmp_path / "c", "--seed", "10") != first


def test_regions_flag_picks_the_map(tmp_path, capsys):
    document = orjson.loads(run_cli(tmp_path / "eu", "--seed", "3", "--regions", str(DATA / "regions-europe.csv")))
    assert set(document["clock"]["server_zone"].values()) == {"ES", "NO"}
    assert evaluate.main(["--regions", str(tmp_path / "missing.csv"), "--jobs", "10", "--out", str(tmp_path / "x")]) == 1
    assert "missing.csv: cannot be read" in capsys.readouterr().err


def test_pretraining_is_part_of_the_config_not_of_the_world(tmp_path):
    """The CLI's world is built without pre-training; the run pre-trains its agents, as many episodes
    as --pretrain-episodes says, and the document records it."""
    first = run_cli(tmp_path / "a", "--seed", "9", "--pretrain-episodes", "20")
    assert orjson.loads(first)["config"]["pretrain_episodes"] == 20
    assert run_cli(tmp_path / "b", "--seed", "9", "--pretrain-episodes", "21") != first
    args = argparse.Namespace(data_dir=DATA, regions=None)
    assert evaluate.world_settings(args, EvaluationConfig(seed=1)).pretrain_episodes == 0


def test_a_start_outside_the_series_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        evaluate.main(["--scenario", "reference", "--start-hour", "8760", "--out", str(tmp_path)])
    assert "start_hour must be at most 8759 in the reference scenario" in capsys.readouterr().err
