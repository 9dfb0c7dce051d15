import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from scheduler.core.errors import DatasetError
from scheduler.data.grid import REGIONS_FILE, ZONES, load_grid, load_regions
from scheduler.settings import ROOT

DATA = ROOT / "dataset_rl"
SHARED = ROOT.parent / "shared" / "data" / "grid-carbon" / "electricitymaps-hourly"


@pytest.fixture(scope="module")
def grid():
    return load_grid(DATA)


def test_every_zone_is_hourly_for_three_years(grid):
    assert grid.zones == ZONES
    assert grid.start == np.datetime64("2021-01-01T00", "h")
    assert grid.n_hours == 3 * 8760  # 2021-2023 has no leap day
    assert (grid.direct_g_per_kwh >= 0).all() and (grid.lca_g_per_kwh >= grid.direct_g_per_kwh).all()  # life cycle adds to direct


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is absent: cannot compare the shipped copy with its source")
@pytest.mark.parametrize("zone", ZONES)
def test_shipped_values_equal_the_source(grid, zone):
    z = grid.zone_index(zone)
    for year, offset in ((2021, 0), (2023, 2 * 8760)):
        with open(SHARED / f"{zone}_{year}_hourly.csv", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        direct = np.array([float(r["Carbon Intensity gCO\u2082eq/kWh (direct)"]) for r in rows])
        lca = np.array([float(r["Carbon Intensity gCO\u2082eq/kWh (LCA)"]) for r in rows])
        np.testing.assert_array_equal(grid.direct_g_per_kwh[z, offset : offset + 8760], direct)
        np.testing.assert_array_equal(grid.lca_g_per_kwh[z, offset : offset + 8760], lca)


def test_clock_conversions(grid):
    assert grid.hour_of(np.datetime64("2023-01-01T05:30")) == 2 * 8760 + 5
    assert str(grid.time_of(2 * 8760 + 5.5)) == "2023-01-01T05:30"


def test_a_gap_in_a_zone_file_names_the_file_and_row(tmp_path: Path):
    shutil.copytree(DATA / "grid", tmp_path / "grid")
    path = tmp_path / "grid" / "NO.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:10] + lines[11:]))  # drop 09:00 (file line 11): line 11 now jumps from 08 to 10
    with pytest.raises(DatasetError, match=r"grid/NO.csv: not hourly at row 11 \(2021-01-01T08 -> 2021-01-01T10\)"):
        load_grid(tmp_path)


def test_the_default_regions_give_every_pool_three_grids(world, grid):
    zones = load_regions(DATA / REGIONS_FILE, world.fleet.names, grid.zones)
    for pool in world.fleet.pools:
        assert len(set(zones[pool].tolist())) == len(pool)


@pytest.mark.parametrize(
    "name, expected", [("regions-americas.csv", {"BR", "US-CAL-CISO"}), ("regions-europe.csv", {"ES", "NO"})], ids=["americas", "europe"]
)
def test_the_regional_maps_give_every_pool_both_of_their_grids(world, grid, name, expected):
    zones = load_regions(DATA / name, world.fleet.names, grid.zones)
    for pool in world.fleet.pools:
        assert {grid.zones[z] for z in zones[pool]} == expected


@pytest.mark.parametrize(
    "body, needle",
    [
        ("server,zone\nServer 1,NO\n", "no zone for Server 2"),
        ("server,zone\nServer 1,XX\n", "row 2: unknown zone 'XX'"),
        ("server,zone\nServer 99,NO\n", "row 2: unknown server 'Server 99'"),
        ("server,zone\n" + "".join(f"Server {i},NO\n" for i in range(1, 10)) + "Server 1,ES\n", "row 11: 'Server 1' is listed twice"),
    ],
    ids=["missing-server", "unknown-zone", "unknown-server", "duplicate"],
)
def test_a_bad_regions_file_is_named_with_its_row(tmp_path: Path, world, body, needle):
    path = tmp_path / "regions.csv"
    path.write_text(body)
    with pytest.raises(DatasetError, match=needle):
        load_regions(path, world.fleet.names, ZONES)
