"""The servers' power curve: how a server's dynamic power grows with its utilisation, read from `dataset_rl/`.

The shipped `power_curve.csv` is the median of SPECpower_ssj2008 results (dataset_rl/DATA.md); without it
the energy model uses a straight line (scheduler.core.energy.LINEAR_CURVE).
"""

import csv
from pathlib import Path

import numpy as np

from scheduler.core.errors import DatasetError

POWER_CURVE_FILE = "power_curve.csv"


def load_power_curve(data_dir: Path) -> np.ndarray:
    """The SPECpower-median curve shipped in `data_dir`: (11,) from 0 at idle to 1 at full load."""
    path = data_dir / POWER_CURVE_FILE
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = [(float(r["utilisation"]), float(r["dynamic_fraction"])) for r in csv.DictReader(f)]
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{POWER_CURVE_FILE}: cannot be read ({type(exc).__name__}: {exc})") from exc
    levels, curve = np.array(rows).T if rows else (np.array([]), np.array([]))
    if len(levels) != 11 or not np.allclose(levels, np.linspace(0, 1, 11)) or curve[0] != 0 or curve[-1] != 1 or (np.diff(curve) < 0).any():
        raise DatasetError(f"{POWER_CURVE_FILE}: needs utilisation 0.0..1.0 in steps of 0.1, rising from 0 to 1")
    return curve
