"""Real grid carbon intensity per zone, and which zone each server draws its power from.

The series are Electricity Maps' hourly *average* carbon intensity (gCO2eq/kWh) for 2021-2023, shipped
in `dataset_rl/grid/` (ODbL, see DATA.md): `direct` counts only the emissions of burning fuel at the
plants, `lca` adds the life cycle (building plants, mining fuel). Average intensity describes the mix
that powered the grid; it is not a *marginal* signal (the emissions of one more kWh), so every figure
derived from it is labelled "average".

Time is in hours since `GridSeries.start` (2021-01-01 00:00 UTC); an hour's value holds for the whole
hour, and reading past the end wraps around to the start of the series.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scheduler.core.errors import DatasetError
from scheduler.data.datasets import read_columns

ZONES: tuple[str, ...] = ("BR", "ES", "NO", "US-CAL-CISO")
"""Electricity Maps zone ids shipped in dataset_rl/grid/<zone>.csv."""
ZONE_NAMES = {"BR": "Brazil", "ES": "Spain", "NO": "Norway", "US-CAL-CISO": "California (CAISO)"}
GRID_DIR = "grid"
REGIONS_FILE = "regions.csv"
"""server,zone rows in the data directory: the grid each server is powered from."""
BASES: tuple[str, str] = ("direct", "lca")
SIGNAL_KIND = "average"


@dataclass(frozen=True)
class GridSeries:
    """Hourly average carbon intensity of each zone on one shared clock."""

    zones: tuple[str, ...]
    start: np.datetime64  # first hour, UTC
    direct_g_per_kwh: np.ndarray  # (n_zones, n_hours)
    lca_g_per_kwh: np.ndarray  # (n_zones, n_hours)

    @property
    def n_hours(self) -> int:
        return self.direct_g_per_kwh.shape[1]

    def intensity(self, basis: str = "direct") -> np.ndarray:
        """(n_zones, n_hours) gCO2eq/kWh for `basis` ("direct" or "lca")."""
        if basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
        return self.direct_g_per_kwh if basis == "direct" else self.lca_g_per_kwh

    def zone_index(self, zone: str) -> int:
        if zone not in self.zones:
            raise ValueError(f"unknown zone {zone!r}; known: {', '.join(self.zones)}")
        return self.zones.index(zone)

    def hour_of(self, when: np.datetime64) -> int:
        """Hours from the series start to `when` (UTC), rounded down."""
        return int((np.datetime64(when, "h") - self.start) // np.timedelta64(1, "h"))

    def time_of(self, hour: float) -> np.datetime64:
        return self.start + np.timedelta64(int(np.floor(hour * 60)), "m")


def load_grid(data_dir: Path, cache_dir: Path | None = None, zones: tuple[str, ...] = ZONES) -> GridSeries:
    """Read every zone's file, checking that all are hourly, gap-free and on the same clock."""
    direct, lca, start, hours = [], [], None, None
    for zone in zones:
        path = data_dir / GRID_DIR / f"{zone}.csv"
        cols = read_columns(path, ("direct_g_per_kwh", "lca_g_per_kwh"), ("datetime_utc",), cache_dir=cache_dir)
        stamps = np.array(np.char.rstrip(cols["datetime_utc"], "Z"), dtype="datetime64[h]")
        steps = np.diff(stamps).astype(np.int64)
        gap = np.flatnonzero(steps != 1)
        if gap.size:
            raise DatasetError(f"{GRID_DIR}/{zone}.csv: not hourly at row {gap[0] + 3} ({stamps[gap[0]]} -> {stamps[gap[0] + 1]})")
        if start is not None and (stamps[0] != start or len(stamps) != hours):
            raise DatasetError(f"{GRID_DIR}/{zone}.csv: covers {stamps[0]} + {len(stamps)} h, other zones {start} + {hours} h")
        if (cols["direct_g_per_kwh"] < 0).any() or (cols["lca_g_per_kwh"] < 0).any():
            raise DatasetError(f"{GRID_DIR}/{zone}.csv: negative carbon intensity")
        start, hours = stamps[0], len(stamps)
        direct.append(cols["direct_g_per_kwh"])
        lca.append(cols["lca_g_per_kwh"])
    return GridSeries(tuple(zones), start, np.vstack(direct), np.vstack(lca))


def load_regions(path: Path, server_names: tuple[str, ...], zones: tuple[str, ...]) -> np.ndarray:
    """(n_servers,) zone index of each server, in fleet order, from a `server,zone` CSV.

    Every server must be listed exactly once and every zone must be one of `zones`; a problem names
    the file, the row and the value."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise DatasetError(f"{path.name}: cannot be read ({exc})") from exc
    found: dict[str, int] = {}
    for i, row in enumerate(rows, start=2):
        server, zone = (row.get("server") or "").strip(), (row.get("zone") or "").strip()
        if server not in server_names:
            raise DatasetError(f"{path.name}: row {i}: unknown server {server!r}")
        if zone not in zones:
            raise DatasetError(f"{path.name}: row {i}: unknown zone {zone!r} (known: {', '.join(zones)})")
        if server in found:
            raise DatasetError(f"{path.name}: row {i}: {server!r} is listed twice")
        found[server] = zones.index(zone)
    missing = [s for s in server_names if s not in found]
    if missing:
        raise DatasetError(f"{path.name}: no zone for {', '.join(missing)}")
    return np.array([found[s] for s in server_names], dtype=np.intp)
