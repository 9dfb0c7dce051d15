"""Carbon series: reading any resolution, the mixed-resolution rule, resampling, units, errors."""

from pathlib import Path

import numpy as np
import pytest

from scheduler.core.errors import SeriesError
from scheduler.data.carbon_csv import read_issued_forecasts, read_series_csv
from scheduler.data.carbon_series import CarbonSeries, iso, parse_utc, series_from_lists
from scheduler.data.grid import load_grid
from scheduler.settings import ROOT

DATA = ROOT / "dataset_rl"
WATTTIME = ROOT.parent / "shared" / "data" / "grid-carbon" / "watttime-caiso-north-2023"
needs_watttime = pytest.mark.skipif(
    not WATTTIME.is_dir(),
    reason=f"the WattTime files are not at {WATTTIME} (../shared is absent)",
)
LBS = 0.45359237


def write(tmp_path: Path, text: str, name: str = "series.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def regular_csv(tmp_path: Path, step_min: int, values: list[float]) -> Path:
    t0 = np.datetime64("2023-01-01T00:00")
    rows = [f"{t0 + np.timedelta64(i * step_min, 'm')}Z,{v}" for i, v in enumerate(values)]
    return write(tmp_path, "time,intensity\n" + "\n".join(rows) + "\n", f"s{step_min}.csv")


@pytest.mark.parametrize("step", [5, 15, 30, 60], ids=["5min", "15min", "30min", "60min"])
def test_each_resolution_is_read_on_its_own_step(tmp_path, step):
    series = read_series_csv(regular_csv(tmp_path, step, [1, 2, 3, 4]))
    assert (series.step_min, series.n, series.name) == (step, 4, "intensity")
    assert series.start == np.datetime64("2023-01-01T00:00")
    assert series.end == np.datetime64("2023-01-01T00:00") + np.timedelta64(4 * step, "m")
    np.testing.assert_array_equal(series.values, [1, 2, 3, 4])


@pytest.mark.parametrize("step", [5, 15, 30, 60], ids=["5min", "15min", "30min", "60min"])
def test_resampling_to_every_other_step_keeps_the_integral(tmp_path, step):
    rng = np.random.default_rng(step)
    series = read_series_csv(regular_csv(tmp_path, step, rng.uniform(50, 500, 1440 // step).round(2).tolist()))
    for target in (5, 15, 30, 60):
        other = series.resample(target)
        assert other.step_min == target and other.n == 1440 // target
        # Same energy-weighted total
        assert other.values.sum() * target == pytest.approx(series.values.sum() * step)
        assert other.resample(step).values.sum() * step == pytest.approx(series.values.sum() * step)
    # Repeat, then average back
    np.testing.assert_allclose(series.resample(5).resample(step).values, series.values)


def test_coarser_steps_are_time_weighted_means_and_finer_ones_repeat():
    series = CarbonSeries(
        np.datetime64("2023-01-01T00:00"),
        15,
        np.array([1.0, 2.0, 3.0, 6.0, 10.0, 20.0]),
    )
    np.testing.assert_allclose(series.resample(30).values, [1.5, 4.5, 15.0])
    # The last hour is half covered: its mean
    np.testing.assert_allclose(series.resample(60).values, [3.0, 15.0])
    np.testing.assert_allclose(series.resample(5).values[:6], [1, 1, 1, 2, 2, 2])
    np.testing.assert_allclose(series.resample(45).values, [2.0, 12.0])


def test_resampled_slots_are_aligned_to_midnight():
    series = CarbonSeries(np.datetime64("2023-01-01T00:30"), 30, np.array([4.0, 8.0, 2.0]))
    hourly = series.resample(60)
    assert hourly.start == np.datetime64("2023-01-01T00:00")
    # 00:00 holds only the 00:30 reading
    np.testing.assert_allclose(hourly.values, [4.0, 5.0])


def test_a_mixed_resolution_file_is_forward_filled_on_the_finest_grid(tmp_path):
    text = "time,ci\n2023-01-01T00:00Z,10\n2023-01-01T01:00Z,20\n2023-01-01T01:30Z,30\n2023-01-01T03:00Z,40\n2023-01-01T03:30Z,50\n"
    series = read_series_csv(write(tmp_path, text))
    assert series.step_min == 30
    # Hourly rows, then a missing stretch
    np.testing.assert_array_equal(series.values, [10, 10, 20, 30, 30, 30, 40, 50])
    assert len(series.notes) == 1 and "30-min grid" in series.notes[0]
    np.testing.assert_allclose(series.resample(60).values, [10, 25, 30, 45])


def test_time_formats_and_offsets(tmp_path):
    text = (
        "Datetime (UTC),zone,ci\n2023-01-01 00:00:00,ES,1\n2023-01-01T01:00:00+00:00,ES,2\n"
        "2023-01-01T03:00+01:00,ES,3\n2023-01-01T03:00Z,ES,4\n"
    )
    series = read_series_csv(write(tmp_path, text))
    assert (series.step_min, series.name) == (60, "ci")  # the text column is skipped
    np.testing.assert_array_equal(series.values, [1, 2, 3, 4])
    assert parse_utc(["2023-06-08T12:00:00-05:00"])[0] == np.datetime64("2023-06-08T17:00:00")
    assert np.isnat(parse_utc(["soon", ""])).all()


def test_iso_is_utc_with_z_to_the_minute():
    assert iso(np.datetime64("2023-01-01T03:00:00")) == "2023-01-01T03:00Z"
    assert iso(np.array(["2023-01-01T03:00:30", "2023-01-01T04:00"], dtype="datetime64[s]")) == [
        "2023-01-01T03:00:30Z",
        "2023-01-01T04:00Z",
    ]


def test_slot_and_time_conversions():
    series = CarbonSeries(np.datetime64("2023-01-01T00:00"), 30, np.ones(10))
    assert series.slot_of(np.datetime64("2023-01-01T01:15")) == 2.5
    assert series.time_of(2.5) == np.datetime64("2023-01-01T01:15:00")


def test_lbs_per_mwh_are_converted_to_grams_per_kwh(tmp_path):
    series = read_series_csv(regular_csv(tmp_path, 5, [100, 200]), unit="lbs_per_mwh")
    np.testing.assert_allclose(series.values, [100 * LBS, 200 * LBS])
    assert series.unit == "g/kWh"


def test_series_from_lists_for_the_api():
    series = series_from_lists(
        ["2023-01-01T00:00Z", "2023-01-01T00:30Z", "2023-01-01T01:00Z"],
        [1, "2", 3.5],
        name="ci",
    )
    assert (series.step_min, series.name) == (30, "ci")
    np.testing.assert_array_equal(series.values, [1, 2, 3.5])
    with pytest.raises(SeriesError, match=r"index 1: column 'values': must be a number >= 0, got 'x'"):
        series_from_lists(["2023-01-01T00:00Z", "2023-01-01T00:30Z"], [1, "x"])


@pytest.mark.parametrize(
    "text, column, needle",
    [
        (
            "time,ci\n2023-01-01T00:00Z,1\nlater,2\n",
            None,
            r"series.csv: row 3: column 'time': cannot read 'later' as an ISO time",
        ),
        (
            "time,ci\n2023-01-01T00:00Z,1\n2023-01-01T01:00Z,-4\n",
            None,
            r"row 3: column 'ci': must be a number >= 0, got '-4'",
        ),
        (
            "time,ci\n2023-01-01T00:00Z,1\n2023-01-01T01:00Z,abc\n",
            None,
            r"row 3: column 'ci': must be a number >= 0, got 'abc'",
        ),
        (
            "time,ci\n2023-01-01T01:00Z,1\n2023-01-01T00:00Z,2\n",
            None,
            r"row 3: column 'time': time .* is not after",
        ),
        (
            "time,ci\n2023-01-01T00:00Z,1\n2023-01-01T00:00Z,2\n",
            None,
            r"row 3: column 'time': .*not after",
        ),
        (
            "time,ci\n2023-01-01T00:00Z,1\n2023-01-01T07:00Z,2\n",
            None,
            r"row 3: column 'time': a gap of 420 min",
        ),
        ("time,ci\n2023-01-01T00:00Z,1\n", None, r"at least 2 readings"),
        (
            "time,ci\n2023-01-01T00:00Z,1\n2023-01-01T00:07Z,2\n",
            None,
            r"must divide a day",
        ),
        (
            "time,ci\n2023-01-01T00:00Z,1\n2023-01-01T00:30:30Z,2\n",
            None,
            r"row 3: column 'time': times must be whole minutes",
        ),
        (
            "time,ci\n2023-01-01T00:00Z,1\n",
            "co2",
            r"no column 'co2'; columns: time, ci",
        ),
        ("time,zone\n2023-01-01T00:00Z,ES\n", None, r"no numeric column"),
        ("", None, r"the file is empty"),
        # Regression: every time at hh:mm:30 passed (whole minutes apart) and the series moved 30 s
        (
            "time,ci\n2023-01-01T00:00:30Z,1\n2023-01-01T01:00:30Z,2\n",
            None,
            r"row 2: column 'time': times must be whole minutes",
        ),
        # Regression: 1e308 overflowed the planner's prefix sums into NaT start times
        (
            "time,ci\n2023-01-01T00:00Z,1e308\n2023-01-01T01:00Z,2\n",
            None,
            r"row 2: column 'ci': must be a number >= 0, got '1e308' \(at most 1e\+06\)",
        ),
    ],
    ids=[
        "time",
        "negative",
        "text",
        "unsorted",
        "duplicate",
        "gap",
        "one-row",
        "odd-step",
        "seconds",
        "no-column",
        "no-number",
        "empty",
        "seconds-on-every-row",
        "huge",
    ],
)
def test_a_bad_series_file_names_row_and_column(tmp_path, text, column, needle):
    with pytest.raises(SeriesError, match=needle):
        read_series_csv(write(tmp_path, text), column=column)


def test_an_empty_cell_is_no_reading(tmp_path):
    series = read_series_csv(
        write(
            tmp_path,
            "time,ci\n2023-01-01T00:00Z,1\n2023-01-01T01:00Z,\n2023-01-01T02:00Z,3\n",
        )
    )
    assert series.step_min == 120  # the readings left are two hours apart
    np.testing.assert_array_equal(series.values, [1, 3])


def test_a_first_empty_cell_does_not_hide_the_value_column(tmp_path):
    """Regression: the column was picked from row 2 alone, so an empty first reading made it 'no numeric column'."""
    series = read_series_csv(write(tmp_path, "time,ci\n2023-01-01T00:00Z,\n2023-01-01T01:00Z,2\n2023-01-01T02:00Z,3\n"))
    assert series.name == "ci" and series.start == np.datetime64("2023-01-01T01:00")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0, 1e300], ids=["nan", "inf", "negative", "huge"])
def test_a_series_built_in_code_is_checked_too(bad):
    """The API's zone series and the deferral study build CarbonSeries directly, not from a file."""
    with pytest.raises(SeriesError, match=r"slot 1 \(2023-01-01T01:00Z\): intensity must be in 0\.\.1e\+06"):
        CarbonSeries(np.datetime64("2023-01-01T00:00"), 60, np.array([1.0, bad]))


def test_the_shipped_hourly_grid_reads_as_the_simulator_reads_it():
    series = read_series_csv(DATA / "grid" / "ES.csv", column="direct_g_per_kwh")
    grid = load_grid(DATA, zones=("ES",))
    assert (series.start, series.step_min, series.n) == (
        np.datetime64("2021-01-01T00:00"),
        60,
        grid.n_hours,
    )
    np.testing.assert_array_equal(series.values, grid.direct_g_per_kwh[0])
    # The first numeric column
    assert read_series_csv(DATA / "grid" / "ES.csv").name == "direct_g_per_kwh"


@needs_watttime
def test_the_watttime_files():
    series = read_series_csv(WATTTIME / "watttime2023_caiso-north_actual.csv", unit="lbs_per_mwh")
    assert (series.step_min, series.n, series.name) == (5, 8928, "Caiso_North")
    issued = read_issued_forecasts(WATTTIME / "watttime2023_caiso-north_forecast.csv", unit="lbs_per_mwh")
    assert issued.step_min == 5 and len(issued.request) > 8900
    times, values = issued.issue(0)
    # 5..65 min ahead
    assert times[0] - issued.request[0] == np.timedelta64(5, "m") and len(times) == 13
    assert values[0] == pytest.approx(412.406182804 * LBS)


def test_an_issued_forecast_file_names_bad_rows(tmp_path):
    path = write(
        tmp_path,
        "request_time,forecast_time,v\n2023-01-01T00:00Z,2023-01-01T00:05Z,1\n2023-01-01T00:00Z,soon,2\n",
    )
    with pytest.raises(SeriesError, match=r"row 3: column 'forecast_time'"):
        read_issued_forecasts(path)
    with pytest.raises(SeriesError, match=r"missing column\(s\) request_time"):
        read_issued_forecasts(write(tmp_path, "time,v\n2023-01-01T00:00Z,1\n", "f.csv"))


GB = ROOT.parent / "shared" / "data" / "grid-carbon" / "lets-wait-awhile-2020" / "gb_ci.csv"


@pytest.mark.skipif(not GB.is_file(), reason=f"{GB} is absent (../shared is absent)")
def test_a_real_mixed_resolution_file():
    # Half-hourly, then quarter-hourly from 2020-10-31; a str path is accepted too.
    series = read_series_csv(str(GB))
    assert series.step_min == 15 and "steps of 15, 30 min" in series.notes[0]
    half_hourly = series.resample(30)
    first_quarter = int(series.slot_of(np.datetime64("2020-10-31T00:00")))
    np.testing.assert_array_equal(half_hourly.values[: first_quarter // 2], series.values[:first_quarter:2])
