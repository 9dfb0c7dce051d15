"""The GPU-fraction study (scheduler/studies/gpu_fraction*.py, scheduler/cli/gpu_fraction.py): figures, win/loss,
confidence intervals, determinism per seed, and a smoke run of the command with its files."""

import csv
import multiprocessing
import subprocess
import sys

import numpy as np
import orjson
import pytest
from pydantic import ValidationError
from scipy import stats

from scheduler.cli import gpu_fraction as cli
from scheduler.core.stats import T_975
from scheduler.settings import ROOT
from scheduler.sim.gpu_workload import MAX_SEEDS, POLICY_NAMES, GpuFractionConfig, GpuTasks
from scheduler.studies import gpu_fraction_report as report
from scheduler.studies.gpu_fraction import PolicyRun, run_study, seed_figures, win_loss

FAST = ("hybrid_ml", "greedy", "random", "round_robin")


def _run(time, energy, cost) -> PolicyRun:
    n = len(time)
    per_task = {"time": np.array(time, float), "energy": np.array(energy, float), "cost": np.array(cost, float)}
    return PolicyRun(np.zeros(n), np.zeros(n, dtype=int), np.array(time, float), per_task, 0.0)


def test_win_loss_counts_tasks_won_and_metrics_won() -> None:
    runs = {"oracle": _run([1, 2, 3, 4], [5, 5, 5, 5], [1, 1, 1, 1]), "other": _run([2, 2, 1, 9], [4, 4, 4, 4], [1, 1, 1, 2])}
    matrices = win_loss(runs, warmup=0)
    assert matrices["time"] == [[0.0, 0.5], [0.25, 0.0]]  # oracle faster on tasks 0 and 3, other on 2, task 1 a tie
    assert matrices["energy"] == [[0.0, 0.0], [1.0, 0.0]]
    assert matrices["cost"] == [[0.0, 0.25], [0.0, 0.0]]
    assert matrices["metrics_won"] == [[0, 2], [1, 0]]  # totals: time 10 < 14, energy 20 > 16, cost 4 < 5
    assert win_loss(runs, warmup=3)["time"] == [[0.0, 1.0], [0.0, 0.0]]  # only the task after the warm-up


def test_efficiency_is_oracle_over_policy_after_the_warm_up() -> None:
    tasks = GpuTasks(np.arange(4.0), np.full(4, 100.0), np.zeros(4), np.full(4, 10.0))
    runs = {"oracle": _run([1, 2, 3, 4], [5, 5, 5, 5], [1, 1, 1, 1]), "other": _run([9, 2, 6, 8], [5, 5, 5, 2], [1, 1, 1, 1])}
    runs["oracle"].fraction[:] = [0.9, 0.9, 0.2, 0.6]
    runs["other"].fraction[:] = [0.0, 0.0, 0.3, 0.6]
    figures = seed_figures(tasks, runs, warmup=2)
    assert figures["other"]["fraction_gap"] == pytest.approx(0.05)  # |0.3 - 0.2| and 0 after the warm-up
    assert figures["other"]["fraction_r2"] == pytest.approx(1 - 0.01 / 0.08)  # labels 0.2, 0.6 around 0.4
    assert figures["other"]["efficiency_time"] == pytest.approx(7 / 14)
    assert figures["other"]["efficiency_energy"] == pytest.approx(10 / 7)  # above 1: the oracle does not minimise energy
    assert figures["other"]["time_mean_s"] == pytest.approx(25 / 4)
    assert figures["oracle"]["efficiency_time"] == 1.0


def test_the_t_table_covers_every_seed_count_the_study_takes() -> None:
    for df in range(1, MAX_SEEDS):
        assert T_975[df - 1] == pytest.approx(stats.t.ppf(0.975, df), abs=1e-6)


def test_the_study_is_deterministic_per_seed_and_changes_with_it() -> None:
    config = GpuFractionConfig(tasks=400, warmup=100, policies=FAST)
    a, b, c = run_study(config), run_study(config), run_study(config.model_copy(update={"seed": 2}))
    strip = lambda d: [{k: v for k, v in r.items() if not k.startswith("elapsed")} for r in d["table"]]  # noqa: E731
    assert strip(a) == strip(b) and a["win_loss"] == b["win_loss"] and a["curve"] == b["curve"]
    assert strip(a) != strip(c)


def test_a_smoke_run_of_the_command_writes_the_report(tmp_path, capsys) -> None:
    out = tmp_path / "gpu"
    argv = ["--study", "gpu-fraction", "--tasks", "1200", "--seeds", "2", "--warmup", "200", "--dqn-episodes", "4", "--out", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "hybrid_ml" in printed and "dqn" in printed and "goal: hybrid_ml at" in printed and "row beats column" in printed
    document = orjson.loads((out / "results.json").read_bytes())
    assert document["policies"] == list(POLICY_NAMES) and document["seeds"] == [1, 2]
    assert document["hybrid_trainings"] == 23  # tasks 50, 100, ..., 1150
    oracle = document["table"][0]
    assert oracle["policy"] == "oracle" and oracle["efficiency_time"] == 1.0 and oracle["efficiency_time_ci"] == 0.0
    # The split model puts the oracle's fraction strictly inside 0..1 for most tasks.
    assert sum(document["oracle_fractions"]["share"][1:-1]) > 0.5 and oracle["split_share"] > 0.5
    assert len(document["win_loss"]["time"]) == len(POLICY_NAMES)
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 2 * len(POLICY_NAMES) and {r["seed"] for r in rows} == {"1", "2"}
    page = (out / "report.html").read_text()
    assert "TaskPilot GPU-fraction study report" in page and '"hybrid_ml"' in page and "/*DATA*/" not in page
    assert report.format_markdown(document).startswith("| policy | time s |")


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--tasks", "5"], "--tasks: Input should be greater than or equal to 100"),
        (["--policies", "oracle,fastest"], "fastest"),
        (["--seeds", "0"], "--seeds: Input should be greater than or equal to 1"),
        (["--load", "0"], "--load: Input should be greater than 0"),
        (["--tasks", "500", "--warmup", "500"], "--warmup: Value error, must be below tasks (500)"),
        (["--jobs", "500"], "unrecognized arguments: --jobs 500"),  # the placement study's flag: not this study's
    ],
)
def test_bad_flags_are_refused_naming_them(tmp_path, capsys, flags, named) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--study", "gpu-fraction", "--out", str(tmp_path), *flags])
    assert exc.value.code == 2
    assert named in capsys.readouterr().err


def test_the_config_reads_policy_lists_and_keeps_the_oracle() -> None:
    assert GpuFractionConfig(policies="greedy, hybrid_ml").policies == ("oracle", "hybrid_ml", "greedy")
    assert GpuFractionConfig(policies="all").policies == POLICY_NAMES
    with pytest.raises(ValidationError, match="name at least one"):
        GpuFractionConfig(policies="")
    with pytest.raises(ValidationError, match="warmup"):
        GpuFractionConfig(tasks=500, warmup=500)
    assert cli.requested(["--study=gpu-fraction"]) and cli.requested(["--x", "1", "--study", "gpu-fraction"])
    assert not cli.requested(["--study", "deferral"]) and not cli.requested(["--study"])


def test_python_m_scheduler_evaluate_hands_the_study_its_command_line(tmp_path, capsys) -> None:
    from scheduler.cli import evaluate

    assert evaluate.main(["--study=gpu-fraction", "--tasks", "300", "--warmup", "50", "--policies", "greedy", "--out", str(tmp_path)]) == 0
    assert "greedy" in capsys.readouterr().out and (tmp_path / "report.html").is_file()
    with pytest.raises(SystemExit) as exc:
        evaluate.main(["--study", "gpu-fraction", "--help"])
    assert exc.value.code == 0 and "--dqn-episodes" in capsys.readouterr().out


def test_the_child_process_runner_reports_progress_and_stops_on_cancel() -> None:
    from scheduler.core.errors import EvaluationCancelled
    from scheduler.studies import gpu_fraction_child

    seen: list[tuple[int, int, str]] = []
    config = GpuFractionConfig(tasks=200, warmup=50, policies=("greedy",))
    document = gpu_fraction_child.run_in_child(config, progress=lambda *report: seen.append(report))
    assert seen == [(0, 400, "oracle"), (200, 400, "greedy")] and document["policies"] == ["oracle", "greedy"]
    # Cancelled once the DQN's pre-training has begun (long on purpose): the child is ended, not waited for.
    started: list[str] = []
    alive_at_cancel: list[multiprocessing.Process] = []
    studies = lambda: [p for p in multiprocessing.active_children() if p.name == "gpu-fraction-study"]  # noqa: E731

    def cancel() -> bool:
        if "dqn" in started:
            alive_at_cancel.extend(studies())
        return "dqn" in started

    with pytest.raises(EvaluationCancelled):
        gpu_fraction_child.run_in_child(
            GpuFractionConfig(tasks=200, warmup=50, policies=("dqn",), dqn_episodes=1_000),
            progress=lambda done, total, name: started.append(name),
            cancel=cancel,
        )
    assert started == ["oracle", "dqn"]
    [child] = alive_at_cancel  # the study's process was running when the cancel came...
    assert studies() == [] and not child.is_alive() and child.exitcode is not None  # ...and has ended, not been left behind


def test_a_failure_in_the_child_answers_a_fixed_message_and_logs_the_details(monkeypatch, caplog) -> None:
    """An OSError's message names a server path: the caller (GET /simulate/{id}) gets the exception's type only."""
    from scheduler.studies import gpu_fraction, gpu_fraction_child

    def broken(config, progress=None, cancel=None):
        raise FileNotFoundError(2, "No such file or directory", "/srv/taskpilot/secret/cache.npz")

    monkeypatch.setattr(gpu_fraction, "run_study", broken)
    sent: list[tuple[str, object]] = []

    class Out:  # the child's queue, as _child uses it
        put = sent.append

    gpu_fraction_child._child(GpuFractionConfig(tasks=200, warmup=50).model_dump(), Out())
    [(kind, payload)] = sent
    assert kind == "error"
    with caplog.at_level("ERROR", logger=gpu_fraction_child.__name__):
        error = gpu_fraction_child.failure(*payload)
    assert str(error) == "the GPU-fraction study failed in its process (FileNotFoundError; the server's log has the details)"
    assert "/srv/taskpilot/secret/cache.npz" in caplog.text and "Traceback" in caplog.text
    # The same through a real child process: a config that only the child validates fails there.
    with caplog.at_level("ERROR", logger=gpu_fraction_child.__name__), pytest.raises(RuntimeError) as raised:
        gpu_fraction_child.run_in_child(GpuFractionConfig.model_construct(**{**GpuFractionConfig().model_dump(), "tasks": 5}))
    assert str(raised.value) == "the GPU-fraction study failed in its process (ValidationError; the server's log has the details)"
    assert "greater than or equal to 100" in caplog.text


def test_the_child_keeps_pandas_out() -> None:
    """scikit-learn imports pandas when it is installed (30 MB); the child, run in a fresh interpreter, trains the
    forest without it, as it does where only requirements.txt is installed."""
    code = (
        "import sys\n"
        "from scheduler.sim.gpu_workload import GpuFractionConfig\n"
        "from scheduler.studies.gpu_fraction_child import _child\n"
        "sent = []\n"
        "class Out:\n"
        "    put = sent.append\n"
        "_child(GpuFractionConfig(tasks=200, warmup=50, policies=('hybrid_ml',)).model_dump(), Out())\n"
        "assert sent[-1][0] == 'done', sent[-1]\n"
        "assert 'sklearn.ensemble' in sys.modules, 'the forest was not trained'\n"
        "assert sys.modules.get('pandas') is None, 'the child imported pandas'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
