"""Where each region of the deferral study gets its carbon signal, and reading it.

**Signals.** ES, NO, US-CAL-CISO and BR: the shipped Electricity Maps hourly *average* intensity,
2021-2023 (`basis` direct or lca). DE (15-min), GB and FR (30-min): lets-wait-awhile's 2020 *average*
intensity from ENTSO-E generation; CAISO_NORTH: WattTime's 5-min *marginal* signal (MOER, lbs/MWh
x 0.45359237 -> g/kWh), June-July 2023, the only region with issued forecasts (every 5 min, 5..65 min
ahead). The last four live in ../shared/data, which is never shipped: asking for them without it is a
ValueError naming the path.

Kept apart from the study itself because the web layer needs only `check_deferral` (file checks, cheap)
to refuse a request before a run starts, and because adding a region is a change here alone.
`SHARED_DATA_DIR` is read when a check or a load runs, so tests can point it elsewhere.
"""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from scheduler.data import workloads
from scheduler.data.carbon_csv import read_issued_forecasts, read_series_csv
from scheduler.data.carbon_series import CarbonSeries
from scheduler.data.grid import load_grid
from scheduler.data.issued_forecasts import IssuedForecasts
from scheduler.settings import ROOT
from scheduler.sim.config import DEFERRAL_REGIONS, DeferralConfig

SHARED_DATA_DIR = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Source:
    """Where a region's signal comes from; `path` and `issued` are relative to ../shared/data."""

    signal: str  # "average" or "marginal"
    label: str
    path: str | None = None  # None: a shipped Electricity Maps zone (dataset_rl/grid/<zone>.csv)
    unit: str = "g_per_kwh"
    issued: str | None = None


_LWA, _WT = "grid-carbon/lets-wait-awhile-2020", "grid-carbon/watttime-caiso-north-2023"
_EM, _LWA_LABEL = ("Electricity Maps, 2021-2023", "lets-wait-awhile, from ENTSO-E generation, 2019-12-20..2021-01-09")
SOURCES: dict[str, Source] = {
    "ES": Source("average", _EM),
    "NO": Source("average", _EM),
    "US-CAL-CISO": Source("average", _EM),
    "BR": Source("average", _EM),
    "DE": Source("average", _LWA_LABEL, f"{_LWA}/ger_ci.csv"),
    "GB": Source("average", _LWA_LABEL, f"{_LWA}/gb_ci.csv"),
    "FR": Source("average", _LWA_LABEL, f"{_LWA}/fr_ci.csv"),
    "CAISO_NORTH": Source(
        "marginal",
        "WattTime MOER (CAISO North), 2023-06-08..07-08, from lbs/MWh",
        f"{_WT}/watttime2023_caiso-north_actual.csv",
        "lbs_per_mwh",
        f"{_WT}/watttime2023_caiso-north_forecast.csv",
    ),
}
assert tuple(SOURCES) == DEFERRAL_REGIONS


@dataclass(frozen=True)
class Region:
    """A region's actual signal and, where they exist, the forecasts issued for it."""

    name: str
    series: CarbonSeries  # actual intensity, g/kWh
    issued: IssuedForecasts | None


def _shown(path: Path) -> str:
    return str(Path("..", *path.relative_to(ROOT.parent).parts)) if path.is_relative_to(ROOT.parent) else str(path)


def region_files(name: str, data_dir: Path, shared_dir: Path) -> list[Path]:
    """The files a region reads: its shipped grid CSV, or its series (and issued forecasts) in shared_dir."""
    source = SOURCES[name]
    if source.path is None:
        return [data_dir / "grid" / f"{name}.csv"]
    return [shared_dir / p for p in (source.path, source.issued) if p is not None]


def check_deferral(config: DeferralConfig, data_dir: Path, shared_dir: Path | None = None) -> None:
    """ValueError naming the missing file when a region's data is not there (cheap: file checks)."""
    shared_dir = SHARED_DATA_DIR if shared_dir is None else shared_dir
    for name in config.regions:
        for path in region_files(name, data_dir, shared_dir):
            if not path.is_file():
                where = "../shared/data, which is never shipped" if SOURCES[name].path else "the data directory"
                raise ValueError(f"region {name} needs {_shown(path)} (from {where}); it is absent")
    if config.workload == "gaia-azure" and config.jobs > workloads.GAIA_SAMPLE_ROWS:
        raise ValueError(f"gaia-azure ships {workloads.GAIA_SAMPLE_ROWS:,} jobs; the deferral study takes at most that many from it")


def load_region(name: str, basis: str, data_dir: Path, shared_dir: Path, cache_dir: Path | None = None) -> Region:
    """The region's actual series in g/kWh (shipped zones through the simulator's grid cache, so both read
    the same numbers) and its issued forecasts, if any."""
    source = SOURCES[name]
    if source.path is None:
        grid = load_grid(data_dir, cache_dir, (name,))
        start = grid.start.astype("datetime64[m]")
        return Region(name, CarbonSeries(start, 60, grid.intensity(basis)[0].astype(np.float64), name=name), None)
    series = replace(read_series_csv(shared_dir / source.path, unit=source.unit), name=name)
    issued = read_issued_forecasts(shared_dir / source.issued, unit=source.unit) if source.issued else None
    return Region(name, series, issued)
