"""The power curve read from dataset_rl/ (scheduler.data.power_curves)."""

import numpy as np
import pytest

from scheduler.core import energy
from scheduler.core.errors import DatasetError
from scheduler.data import power_curves
from scheduler.settings import ROOT


def test_the_specpower_curve_is_shipped_and_is_not_linear(world):
    curve = power_curves.load_power_curve(ROOT / "dataset_rl")
    assert curve[0] == 0.0 and curve[-1] == 1.0 and (np.diff(curve) > 0).all()
    assert curve[1] > 0.1 and curve[5] < 0.5  # the median server jumps at light load, then rises more slowly
    m = energy.build_machines(world.fleet, curve)
    w = energy.job_work(np.array([50.0]), np.array([0.0]))
    share = 8 / 16  # Server 4: 16 cores, 140 W idle, 290 W peak
    assert energy.power_w(m, w)[0, 3] == pytest.approx(share * 140 + 150 * curve[5])


def test_a_broken_curve_file_is_named(tmp_path):
    (tmp_path / power_curves.POWER_CURVE_FILE).write_text("utilisation,dynamic_fraction\n0.0,0.5\n")
    with pytest.raises(DatasetError, match="power_curve.csv"):
        power_curves.load_power_curve(tmp_path)


def test_a_curve_file_with_too_few_rows_is_named(tmp_path):
    (tmp_path / power_curves.POWER_CURVE_FILE).write_text("utilisation,dynamic_fraction\n0.0,0.0\n0.5,0.5\n1.0,1.0\n")
    with pytest.raises(DatasetError, match="power_curve.csv"):
        power_curves.load_power_curve(tmp_path)
