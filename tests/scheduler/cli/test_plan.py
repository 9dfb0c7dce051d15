"""scheduler.timeshift.requests and .inputs: job files and objects, the output document, and the command line end to end."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scheduler.cli.plan import main
from scheduler.data.carbon_series import CarbonSeries
from scheduler.settings import ROOT
from scheduler.timeshift.inputs import PlanInputError, jobs_to_slots, parse_job_dicts, read_jobs_csv
from scheduler.timeshift.requests import plan_request

WATTTIME = ROOT.parent / "shared" / "data" / "grid-carbon" / "watttime-caiso-north-2023"
needs_watttime = pytest.mark.skipif(
    not WATTTIME.is_dir(),
    reason=f"the WattTime files are not at {WATTTIME} (../shared is absent)",
)
SERIES = CarbonSeries(np.datetime64("2023-01-01T00:00"), 60, np.array([5.0, 1.0, 1.0, 9.0, 2.0]))
SERIES_CSV = "time,ci\n" + "".join(f"2023-01-01T{h:02d}:00Z,{v}\n" for h, v in enumerate([5, 1, 1, 9, 2]))
JOBS_CSV = """job_id,submit_time,duration_min,deadline,interruptible,power_w
fixed,2023-01-01T00:30Z,60,,,2000
block,2023-01-01T00:00Z,120,2023-01-01T05:00Z,no,1000
pieces,2023-01-01T00:00Z,150,300,yes,1000
"""
HEADER = "job_id,submit_time,duration_min,deadline,interruptible,power_w\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_job_file_reads_every_field_form(tmp_path):
    table = read_jobs_csv(write(tmp_path, "jobs.csv", JOBS_CSV))
    assert table.job_id == ["fixed", "block", "pieces"]
    # An ISO time and minutes after submission
    np.testing.assert_array_equal(table.deadline_min, [np.nan, 300.0, 300.0])
    np.testing.assert_array_equal(table.interruptible, [False, False, True])
    np.testing.assert_array_equal(table.power_w, [2000, 1000, 1000])
    assert (
        read_jobs_csv(
            write(
                tmp_path,
                "j.csv",
                "job_id,submit_time,duration_min\na,2023-01-01T00:00Z,30\n",
            )
        ).power_w[0]
        == 1.0
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "job_id,submit_time\na,2023-01-01T00:00Z\n",
            {
                "row": 1,
                "field": "duration_min",
                "message": "required column 'duration_min' is missing",
            },
        ),
        (
            HEADER.rstrip() + ",cpu\na,2023-01-01T00:00Z,60,,,,1\n",
            {"row": 1, "field": "cpu"},
        ),
        (
            HEADER + "a,2023-01-01T00:00Z,sixty,,,\n",
            {
                "row": 2,
                "field": "duration_min",
                "message": "must be a number > 0 and at most 527040, got 'sixty'",
            },
        ),
        (
            HEADER + "a,2023-01-01T00:00Z,60,,,\nb,2023-01-01T00:00Z,-5,,,\n",
            {"row": 3, "field": "duration_min"},
        ),
        (HEADER + "a,yesterday,60,,,\n", {"row": 2, "field": "submit_time"}),
        (
            HEADER + "a,2023-01-01T00:00Z,60,,,\nb,2023-01-01T00:00Z,120,2023-01-01T01:00Z,,\n",
            {"row": 3, "field": "deadline"},
        ),
        (HEADER + "a,2023-01-01T00:00Z,60,30,,\n", {"row": 2, "field": "deadline"}),
        (HEADER + "a,2023-01-01T00:00Z,60,soon,,\n", {"row": 2, "field": "deadline"}),
        (
            HEADER + "a,2023-01-01T00:00Z,60,,maybe,\n",
            {"row": 2, "field": "interruptible"},
        ),
        (HEADER + "a,2023-01-01T00:00Z,60,,,0\n", {"row": 2, "field": "power_w"}),
        (
            HEADER + "a,2023-01-01T00:00Z,60,,,\na,2023-01-01T01:00Z,60,,,\n",
            {
                "row": 3,
                "field": "job_id",
                "message": "'a' is used twice (first at row 2)",
            },
        ),
        (
            HEADER + ",2023-01-01T00:00Z,60,,,\n",
            {"row": 2, "field": "job_id", "message": "is required"},
        ),
        (HEADER + "a,2023-01-01T00:00Z,60\n", {"row": 2, "field": None}),
        (HEADER, {"row": None, "message": "the file has no job rows"}),
        # Regression: a repeated column silently kept its last cell
        (
            HEADER.rstrip() + ",power_w\na,2023-01-01T00:00Z,60,,,5,7\n",
            {"row": 1, "field": "power_w", "message": "column 'power_w' appears 2 times"},
        ),
    ],
    ids=[
        "missing-column",
        "unknown-column",
        "bad-number",
        "negative",
        "bad-time",
        "deadline-early",
        "deadline-minutes-early",
        "bad-deadline",
        "bad-flag",
        "zero-power",
        "duplicate-id",
        "empty-id",
        "short-row",
        "no-rows",
        "repeated-column",
    ],
)
def test_job_file_errors_name_row_and_field(tmp_path, text, expected):
    with pytest.raises(PlanInputError) as info:
        read_jobs_csv(write(tmp_path, "jobs.csv", text))
    assert any(expected.items() <= e.items() for e in info.value.errors), info.value.errors


def test_an_early_deadline_names_both_fields(tmp_path):
    with pytest.raises(
        PlanInputError,
        match=r"row 2, deadline: 2023-01-01T01:00Z is before submit_time \+ duration_min \(2023-01-01T02:00Z\)",
    ):
        read_jobs_csv(
            write(
                tmp_path,
                "jobs.csv",
                HEADER + "a,2023-01-01T00:00Z,120,2023-01-01T01:00Z,,\n",
            )
        )


def test_job_objects_report_errors_by_index():
    ok = {"job_id": "a", "submit_time": "2023-01-01T00:00Z", "duration_min": 60}
    with pytest.raises(PlanInputError) as info:
        parse_job_dicts(
            [
                ok,
                {**ok, "job_id": "b", "duration_min": True, "cpu": 3},
                {"job_id": "c"},
                "x",
            ]
        )
    got = {(e["index"], e["field"]) for e in info.value.errors}
    assert got == {
        (1, "duration_min"),
        (1, "cpu"),
        (2, "submit_time"),
        (2, "duration_min"),
        (3, None),
        (3, "job_id"),
        (3, "submit_time"),
        (3, "duration_min"),
    }
    table = parse_job_dicts([{**ok, "deadline": 90, "interruptible": True, "power_w": "5"}])
    assert (table.deadline_min[0], table.interruptible[0], table.power_w[0]) == (
        90.0,
        True,
        5.0,
    )


def test_jobs_outside_the_series_are_errors_and_late_deadlines_are_clipped():
    table = parse_job_dicts(
        [
            {"job_id": "a", "submit_time": "2022-12-31T23:00Z", "duration_min": 60},
            {"job_id": "b", "submit_time": "2023-01-01T04:30Z", "duration_min": 60},
        ]
    )
    with pytest.raises(PlanInputError) as info:
        jobs_to_slots(table, SERIES)
    assert [(e["index"], e["field"]) for e in info.value.errors] == [
        (0, "submit_time"),
        (1, "duration_min"),
    ]
    jobs, warnings = jobs_to_slots(
        parse_job_dicts(
            [
                {
                    "job_id": "a",
                    "submit_time": "2023-01-01T01:00Z",
                    "duration_min": 60,
                    "deadline": "2023-01-02T00:00Z",
                }
            ]
        ),
        SERIES,
    )
    assert jobs.deadline[0] == 5.0 and "clipped" in warnings[0] and "index 0" in warnings[0]


def test_a_coarser_step_holds_jobs_to_the_readings_not_the_grid():
    """Regression: at --step-min 120 the grid runs 00:00..06:00 round readings of 00:00..05:00, and a
    job at 05:10 was planned on the edge slot's average instead of being refused."""
    late = [{"job_id": "a", "submit_time": "2023-01-01T05:10Z", "duration_min": 30}]
    with pytest.raises(
        PlanInputError, match=r"index 0, submit_time: 2023-01-01T05:10Z is outside the series \(2023-01-01T00:00Z \.\. 2023-01-01T05:00Z\)"
    ):
        plan_request(SERIES, late, step_min=120)
    open_ended = [{"job_id": "a", "submit_time": "2023-01-01T03:00Z", "duration_min": 30, "deadline": 600}]
    result = plan_request(SERIES, open_ended, step_min=120)
    assert result["plans"][0]["deadline"] == "2023-01-01T05:00Z" and "05:00Z" in result["warnings"][0]


def test_the_output_document_by_hand(tmp_path):
    result = plan_request(SERIES, read_jobs_csv(write(tmp_path, "jobs.csv", JOBS_CSV)))
    assert result["series"] == {
        "start": "2023-01-01T00:00Z",
        "end": "2023-01-01T05:00Z",
        "step_min": 60,
        "source_step_min": 60,
        "slots": 5,
        "unit": "g/kWh",
        "source_unit": "g_per_kwh",
        "column": "intensity",
    }
    assert (result["jobs"], result["flexible_jobs"], result["warnings"]) == (3, 2, [])
    # 2 kW x 3 g/kWh h + 1 kW x 6 + 1 kW x 6.5 = 18.5 g
    assert result["baseline"] == {"emissions_kg": 0.0185}
    assert set(result["strategies"]) == {"run_now", "perfect"}
    assert result["strategies"]["perfect"] == {
        "emissions_kg": 0.011,
        "saved_kg": 0.0075,
        "saved_pct": 40.541,
        "runs": 1,
        "deadline_misses": 0,
        "mean_delay_min": 60.0,
    }
    fixed, block, pieces = result["plans"]
    assert fixed["runs"]["perfect"] == [["2023-01-01T00:30Z", "2023-01-01T01:30Z"]] and fixed["deadline"] is None
    assert block["runs"]["perfect"] == [["2023-01-01T01:00Z", "2023-01-01T03:00Z"]] and block["baseline_start"] == "2023-01-01T00:00Z"
    assert pieces["runs"]["perfect"] == [
        ["2023-01-01T01:00Z", "2023-01-01T03:00Z"],
        ["2023-01-01T04:00Z", "2023-01-01T04:30Z"],
    ]
    assert pieces["deadline"] == "2023-01-01T05:00Z" and pieces["interruptible"] is True


def random_jobs(n: int, rng: np.random.Generator) -> list[dict]:
    submit = np.datetime64("2023-01-01T00:00") + rng.integers(0, 60 * 24 * 5, n).astype("timedelta64[m]")
    return [
        {
            "job_id": f"j{i}",
            "submit_time": f"{t}Z",
            "duration_min": float(d),
            "deadline": float(d + s),
            "interruptible": bool(k),
        }
        for i, (t, d, s, k) in enumerate(
            zip(
                submit,
                rng.uniform(30, 600, n),
                rng.uniform(0, 1440, n),
                rng.random(n) < 0.5,
            )
        )
    ]


def test_seeds_replay_and_differ():
    rng = np.random.default_rng(0)
    series = CarbonSeries(np.datetime64("2023-01-01T00:00"), 30, rng.uniform(50, 400, 48 * 7))
    jobs = random_jobs(60, rng)
    kinds = ("noisy", "persistence")
    a, b = (plan_request(series, jobs, kinds, error=0.2, seeds=4, seed=1) for _ in range(2))
    assert a == b
    other = plan_request(series, jobs, kinds, error=0.2, seeds=4, seed=2)
    assert [p["runs"]["noisy"] for p in a["plans"]] != [p["runs"]["noisy"] for p in other["plans"]]
    assert [p["runs"]["persistence"] for p in a["plans"]] == [p["runs"]["persistence"] for p in other["plans"]]
    noisy, perfect = a["strategies"]["noisy"], a["strategies"]["perfect"]
    assert noisy["runs"] == 4 and noisy["emissions_kg_std"] > 0 and perfect["emissions_kg"] <= noisy["emissions_kg"]
    assert perfect["emissions_kg"] <= a["strategies"]["persistence"]["emissions_kg"] <= a["baseline"]["emissions_kg"] * 1.2
    first = plan_request(series, jobs, kinds, error=0.2, seeds=1, seed=1)
    assert [p["runs"]["noisy"] for p in first["plans"]] == [p["runs"]["noisy"] for p in a["plans"]]  # stream 0 is shown


def test_capacity_is_reported():
    rng = np.random.default_rng(4)
    series = CarbonSeries(np.datetime64("2023-01-01T00:00"), 60, rng.uniform(50, 400, 24 * 7))
    result = plan_request(series, random_jobs(40, rng), ("persistence",), capacity=2)
    assert {"capacity_overflows", "deadline_misses"} <= set(result["strategies"]["persistence"])
    assert result["settings"]["capacity"] == 2 and result["strategies"]["perfect"]["deadline_misses"] == 0


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def inputs(tmp_path: Path, jobs: str = JOBS_CSV, series: str = SERIES_CSV) -> list[str]:
    """--carbon and --jobs for files holding `series` and `jobs`."""
    return [
        "--carbon",
        str(write(tmp_path, "s.csv", series)),
        "--jobs",
        str(write(tmp_path, "jobs.csv", jobs)),
    ]


def test_cli_writes_plan_json(tmp_path, capsys):
    out = tmp_path / "plan.json"
    extra = ["--forecast", "noisy,persistence", "--seeds", "3", "--out"]
    code, stdout, _ = run_cli([*inputs(tmp_path), *extra, str(out)], capsys)
    assert code == 0 and "perfect" in stdout and f"wrote {out}" in stdout
    result = json.loads(out.read_text())
    assert list(result["strategies"]) == ["run_now", "perfect", "noisy", "persistence"]
    assert result["strategies"]["noisy"]["runs"] == 3
    assert set(result["plans"][1]["runs"]) == {"perfect", "noisy", "persistence"}
    code, stdout, _ = run_cli([*inputs(tmp_path), "--out", "-"], capsys)
    assert code == 0 and json.loads(stdout)["baseline"]["emissions_kg"] == 0.0185
    before = sorted(tmp_path.iterdir())
    code, stdout, _ = run_cli(inputs(tmp_path), capsys)
    assert code == 0 and stdout.splitlines()[1].split()[0] == "strategy"
    assert sorted(tmp_path.iterdir()) == before  # no --out: nothing is written


@pytest.mark.parametrize(
    "extra, jobs, needle",
    [
        (
            [],
            HEADER + "a,2023-01-01T00:00Z,120,2023-01-01T01:00Z,,\n",
            "error: jobs.csv: row 2, deadline: 2023-01-01T01:00Z is before submit_time + duration_min",
        ),
        (
            [],
            HEADER + "a,2023-01-02T00:00Z,60,,,\n",
            "error: jobs.csv: row 2, submit_time: 2023-01-02T00:00Z is outside the series",
        ),
        (
            ["--step-min", "7"],
            JOBS_CSV,
            "error: step_min must be a whole number of minutes dividing 1440, got 7",
        ),
        (["--column", "co2"], JOBS_CSV, "error: s.csv: no column 'co2'"),
        # Regression: an infinite or overflowing error gave NaN emissions (null in the JSON) and exit 0
        (["--forecast", "noisy", "--forecast-error", "inf"], JOBS_CSV, "forecast error a finite number >= 0"),
        (["--forecast", "noisy", "--forecast-error", "1e308", "--seeds", "2"], JOBS_CSV, "overflows"),
    ],
    ids=["early-deadline", "outside", "odd-step", "no-column", "infinite-error", "overflowing-error"],
)
def test_cli_reports_bad_input_with_exit_2(tmp_path, capsys, extra, jobs, needle):
    code, stdout, stderr = run_cli([*inputs(tmp_path, jobs), *extra], capsys)
    assert code == 2 and needle in stderr and "Traceback" not in stderr and stdout == ""


@pytest.mark.parametrize(
    "extra, needle",
    [
        ("--forecast issued", "needs --forecast-file"),
        ("--forecast oracle", "unknown oracle"),
        ("--seeds 0", "--seeds"),
        ("--forecast persistence --seeds 3", "--seeds: the noisy forecast's; add noisy to --forecast"),
        ("--forecast perfect --seed=4 --forecast-error 0.2", "--forecast-error, --seed: the noisy forecast's"),
        ("--forecast-file issued.csv", "--forecast-file: read by --forecast issued only"),
    ],
    ids=["issued-without-file", "unknown-forecast", "no-seeds", "seeds-without-noisy", "noisy-flags-without-noisy", "file-without-issued"],
)
def test_cli_usage_errors_exit_2(tmp_path, capsys, extra, needle):
    with pytest.raises(SystemExit) as info:
        main([*inputs(tmp_path), *extra.split()])
    assert info.value.code == 2 and needle in capsys.readouterr().err


@pytest.mark.parametrize("step", [5, 15, 30, 60], ids=["5min", "15min", "30min", "60min"])
def test_cli_plans_on_every_step(tmp_path, capsys, step):
    # Two days, 5-min
    values = np.random.default_rng(8).uniform(50, 400, 288 * 2).round(3)
    t0 = np.datetime64("2023-03-01T00:00")
    series = "time,ci\n" + "".join(f"{t0 + np.timedelta64(5 * i, 'm')}Z,{v}\n" for i, v in enumerate(values))
    jobs = HEADER + "a,2023-03-01T01:00Z,120,,,500\nb,2023-03-01T02:00Z,90,1440,yes,500\nc,2023-03-01T03:10Z,200,900,,500\n"
    out = tmp_path / "plan.json"
    code, _, _ = run_cli(
        [*inputs(tmp_path, jobs, series), "--step-min", str(step), "--out", str(out)],
        capsys,
    )
    result = json.loads(out.read_text())
    assert code == 0 and (
        result["series"]["step_min"],
        result["series"]["source_step_min"],
    ) == (step, 5)
    assert result["strategies"]["perfect"]["deadline_misses"] == 0
    assert result["strategies"]["perfect"]["emissions_kg"] <= result["baseline"]["emissions_kg"]
    # Job a covers whole hours, so every step measures the same emissions for it.
    one = [
        {
            "job_id": "a",
            "submit_time": "2023-03-01T01:00Z",
            "duration_min": 120,
            "power_w": 500,
        }
    ]
    a = plan_request(CarbonSeries(t0, 5, values), one, step_min=step)
    assert a["baseline"]["emissions_kg"] == pytest.approx(500 * values[12:36].mean() * 2 / 1e6, rel=1e-5)


def test_cli_mixed_resolution_and_units(tmp_path, capsys):
    series = "time,ci\n" + "".join(
        f"2023-01-01T{t}Z,{v}\n"
        for t, v in (
            ("00:00", 100),
            ("01:00", 300),
            ("01:30", 200),
            ("02:00", 100),
            ("03:00", 100),
        )
    )
    args = [
        *inputs(tmp_path, HEADER + "a,2023-01-01T00:00Z,60,,,1000\n", series),
        "--out",
        "-",
    ]
    code, stdout, stderr = run_cli(args, capsys)
    result = json.loads(stdout)
    assert code == 0 and result["series"]["step_min"] == 30
    assert "30-min grid" in result["warnings"][0] and "30-min grid" in stderr
    # 1 kW x 1 h x 100 g/kWh
    assert result["baseline"]["emissions_kg"] == pytest.approx(0.1)
    code, stdout, _ = run_cli([*args, "--unit", "lbs_per_mwh"], capsys)
    assert json.loads(stdout)["baseline"]["emissions_kg"] == pytest.approx(0.1 * 0.45359237)


@pytest.mark.parametrize("module", [["scheduler", "plan"], ["scheduler.plan"]], ids=["subcommand", "older-spelling"])
def test_python_dash_m_runs_end_to_end(tmp_path, module):
    out = tmp_path / "plan.json"
    command = [
        sys.executable,
        "-m",
        *module,
        *inputs(tmp_path),
        "--out",
        str(out),
    ]
    done = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["strategies"]["perfect"]["saved_pct"] == 40.541


@needs_watttime
def test_cli_with_watttime_issued_forecasts(tmp_path, capsys):
    rng = np.random.default_rng(1)
    submit = np.datetime64("2023-06-10T00:00") + (rng.integers(0, 20 * 288, 50) * 5).astype("timedelta64[m]")
    rows = zip(
        submit,
        rng.integers(30, 240, 50),
        rng.integers(0, 600, 50),
        rng.random(50) < 0.5,
    )
    jobs = HEADER + "".join(f"j{i},{t}Z,{d},{d + s},{k},1000\n" for i, (t, d, s, k) in enumerate(rows))
    out = tmp_path / "plan.json"
    args = [
        "--carbon",
        str(WATTTIME / "watttime2023_caiso-north_actual.csv"),
        "--jobs",
        str(write(tmp_path, "jobs.csv", jobs)),
    ]
    args += [
        "--unit",
        "lbs_per_mwh",
        "--forecast",
        "issued,persistence",
        "--out",
        str(out),
    ]
    code, _, _ = run_cli(
        [
            *args,
            "--forecast-file",
            str(WATTTIME / "watttime2023_caiso-north_forecast.csv"),
        ],
        capsys,
    )
    result = json.loads(out.read_text())
    assert code == 0 and (result["series"]["step_min"], result["series"]["column"]) == (
        5,
        "Caiso_North",
    )
    s = result["strategies"]
    assert s["issued"]["deadline_misses"] == 0 and s["perfect"]["emissions_kg"] <= s["issued"]["emissions_kg"]


def test_identical_noisy_runs_print_no_rounding_noise(tmp_path, capsys):
    """Three noisy runs that plan alike have a spread of 0, not the 1.39e-17 their sums' order left."""
    jobs = write(tmp_path, "jobs.csv", HEADER + "a,2022-01-03T00:00Z,120,720,,300\nb,2022-01-03T02:00Z,60,,true,100\n")
    out = tmp_path / "plan.json"
    args = ["--carbon", str(ROOT / "dataset_rl" / "grid" / "ES.csv"), "--jobs", str(jobs), "--forecast", "noisy", "--seeds", "3"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert json.loads(out.read_text())["strategies"]["noisy"]["emissions_kg_std"] == 0.0
    noisy = next(line for line in printed.splitlines() if line.startswith("noisy"))
    assert noisy.split()[3] == "0" and not any(c in printed for c in ("e-", "e+"))


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(0.141428, 6, "0.141428"), (1.41e-05, 6, "0.0000141"), (0.0, 6, "0"), (1234.5678, 6, "1234.57"), (0.000123456789, 4, "0.0001235")],
    ids=["grams", "below-1e-5", "zero", "kilograms", "four-digits"],
)
def test_table_figures_are_never_in_scientific_notation(value, digits, text):
    from scheduler.cli.plan import figure

    assert figure(value, digits) == text


def test_series_errors_come_in_row_order_whichever_check_found_them(tmp_path, capsys):
    """Row 2 runs past the series' end and row 3 starts after it: listed row 2 first (the outside check
    used to be reported before the past-the-end one, whatever the rows)."""
    jobs = HEADER + "a,2023-01-01T04:30Z,60,,,\nb,2023-01-02T00:00Z,60,,,\nc,2023-01-01T04:00Z,120,,,\n"
    code, _, stderr = run_cli(inputs(tmp_path, jobs), capsys)
    rows = [line.split(", ")[0].removeprefix("error: jobs.csv: ") for line in stderr.splitlines()]
    assert code == 2 and rows == ["row 2", "row 3", "row 4"]
