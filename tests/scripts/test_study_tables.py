"""Smoke tests of the scripts that print docs/simulator.md's published tables, on tiny real runs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.cli import evaluate

ROOT = Path(__file__).resolve().parents[2]
T_1DF = 12.706205  # Student's t, 97.5 %, one degree of freedom: two runs


def script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], capture_output=True, text=True, cwd=ROOT, check=False)


def row(out: str, policy: str) -> list[str]:
    lines = [line for line in out.splitlines() if line.startswith(f"| {policy} |")]
    assert lines, f"no row for {policy} in:\n{out}"
    return [cell.strip() for cell in lines[0].strip("|").split("|")]


def two_value_cell(a: float, b: float, spec: str) -> str:
    """What a table prints for the mean of two runs: the half-width is t(1) x s / sqrt(2) = t(1) x |a - b| / 2."""
    return f"{(a + b) / 2:{spec}} ± {T_1DF * abs(a - b) / 2:{spec}}"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("runs")
    paths = []
    for seed in (1, 2):
        argv = ["--scenario", "grid", "--policies", "least_loaded,greenest_free", "--jobs", "200", "--seed", str(seed)]
        assert evaluate.main([*argv, "--out", str(out / f"seed{seed}")]) == 0
        paths.append(out / f"seed{seed}" / "results.json")
    return paths


def test_seeds_table_prints_each_policy_and_the_reference_over_the_runs(two_runs: list[Path]) -> None:
    done = script("seeds_table.py", *map(str, two_runs))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 runs, seeds 1, 2: mean ± 95 % CI")
    docs = [json.loads(p.read_text()) for p in two_runs]
    for name in ("least_loaded", "greenest_free"):
        a, b = (next(p for p in d["policies"] if p["policy"] == name) for d in docs)
        cells = row(done.stdout, name)
        assert cells[1] == two_value_cell(a["co2_kg"], b["co2_kg"], ",.2f")
        assert cells[2] == two_value_cell(a["co2_with_idle_kg"], b["co2_with_idle_kg"], ",.1f")
    ref = row(done.stdout, "constrained_reference")
    assert ref[5] == "+0.0 ± 0.0 %" and ref[6] == "2 of 2"  # the reference meets its own target in every run
    assert row(done.stdout, "least_loaded")[6] == "2 of 2"  # least_loaded's completion is the target
    assert "Lower bound on CO2 incl. idle" in done.stdout


def test_seeds_table_refuses_runs_with_different_policies(two_runs: list[Path], tmp_path: Path) -> None:
    other = json.loads(two_runs[1].read_text())
    other["policies"] = other["policies"][:1]
    (tmp_path / "results.json").write_text(json.dumps(other))
    done = script("seeds_table.py", str(two_runs[0]), str(tmp_path / "results.json"))
    assert done.returncode != 0 and "every run needs the same policies" in done.stderr


def test_dqn_study_runs_each_seed_once_and_tables_them(tmp_path: Path) -> None:
    args = ("--seeds", "1-2", "--jobs", "200", "--workloads", "task", "--maps", "default", "--out", str(tmp_path))
    done = script("dqn_study.py", *args)
    assert done.returncode == 0, done.stderr
    assert "task, default map, 2 seeds (1-2), 200 jobs: mean ± 95 % CI" in done.stdout
    docs = [json.loads((tmp_path / f"task-default-{seed}" / "results.json").read_text()) for seed in (1, 2)]
    assert [d["seed"] for d in docs] == [1, 2]
    for name in ("least_loaded", "greenest_free", "round_robin", "tier_agents", "dqn"):
        a, b = (next(p for p in d["policies"] if p["policy"] == name) for d in docs)
        assert row(done.stdout, name)[1] == two_value_cell(a["co2_with_idle_kg"], b["co2_with_idle_kg"], ",.1f")
    assert row(done.stdout, "least_loaded")[2] == "+0.0 ± 0.0 %"
    assert row(done.stdout, "constrained_reference")[5] == "+0.0 ± 0.0 %"
    assert "| lower bound (no schedule meeting the target emits less) |" in done.stdout
    # a second call reuses the runs already there: the same table, no run written again
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/results.json")}
    again = script("dqn_study.py", *args)
    heading = "\ntask, default map"
    assert again.returncode == 0 and again.stdout == done.stdout[done.stdout.index(heading) :]  # evaluate's own lines gone
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*/results.json")} == stamps
