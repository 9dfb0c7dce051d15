"""The physical energy model against hand-computed cases (Server_L.xlsx figures, fleet order)."""

import numpy as np
import pytest

from scheduler.core import energy


@pytest.fixture(scope="module")
def machines(world):
    return energy.build_machines(world.fleet)


def test_a_cpu_job_on_the_smallest_server(machines):
    # Server 1: 4 cores at 1.2, 80 W idle, 160 W peak. cpu 50 % of 16 cores = 8 cores, no duration given:
    # base 0.6 min x 50 = 30 min at rate 2.4; on 1.2 twice as long, and 8 cores on 4: twice again.
    w = energy.job_work(np.array([50.0]), np.array([50.0]))
    assert w.cores[0] == 8.0 and w.base_min[0] == 30.0
    assert energy.runtime_min(machines, w)[0, 0] == pytest.approx(120.0)
    assert energy.power_w(machines, w)[0, 0] == pytest.approx(160.0)  # all cores: idle 80 + range 80
    assert energy.energy_kwh(machines, w)[0, 0] == pytest.approx(160.0 * 2.0 / 1000.0)  # 160 W x 2 h = 0.32 kWh


def test_a_small_job_on_a_big_server_pays_its_core_share(machines):
    # Server 9: 64 cores at 4.0, 320 W idle, 680 W peak; 2.4 cores -> share 0.0375.
    w = energy.job_work(np.array([15.0]), np.array([39.0]), duration_min=np.array([40.0]))
    share = 2.4 / 64
    assert energy.runtime_min(machines, w)[0, 8] == pytest.approx(40.0 * 2.4 / 4.0)
    assert energy.power_w(machines, w)[0, 8] == pytest.approx(share * 320 + share * 360)
    wh = energy.energy_kwh(machines, w)[0, 8] * 1000.0
    assert wh == pytest.approx(share * 680 * (24.0 / 60.0))  # W x h = Wh


def test_gpu_servers_speed_up_parallel_work_as_the_seed_says(machines):
    # size 1000, intensity 0.9: base 10 / (0.9 + 0.5) min. Server 3 has a GPU: speed-up 1 + 3 x 0.9,
    # plus 39 % of 64 GB over PCIe at 16 GB/s. Server 2 has none.
    w = energy.job_work(np.array([15.0]), np.array([39.0]), size=np.array([1000.0]), intensity=np.array([0.9]))
    base = 10.0 / 1.4
    runtime = energy.runtime_min(machines, w)[0]
    assert runtime[1] == pytest.approx(base * 2.4 / 1.5)
    assert runtime[2] == pytest.approx(base * 2.4 / 1.8 / 3.7 + 0.39 * 64 / 16 / 60)


def test_duration_beats_size_beats_the_cpu_default():
    w = energy.job_work(
        np.array([10.0, 10.0, 10.0]),
        np.zeros(3),
        duration_min=np.array([7.0, np.nan, np.nan]),
        size=np.array([2000.0, 2000.0, np.nan]),
        intensity=np.array([0.5, 0.5, np.nan]),
    )
    np.testing.assert_allclose(w.base_min, [7.0, 10.0 * 2**1.5, 6.0])
    assert w.intensity[2] == 0.0  # not given: CPU only


def test_eco_mode_by_hand_and_on_the_whole_fleet(machines):
    """ECO: half the cores at 80 % clock. By hand on Server 1 (4 cores, 80-160 W), a 1-core job:
    FAST 0.25 x 80 + 80 x 0.25 = 40 W; ECO 0.125 x 80 + 80 x 0.125 x 0.8^3 = 15.12 W, for 2.5x as long."""
    work = energy.job_work(np.array([6.25]), np.array([10.0]), duration_min=np.array([60.0]))
    fast, eco = energy.power_w(machines, work)[0, 0], energy.power_w(machines, work, energy.ECO)[0, 0]
    assert fast == pytest.approx(40.0) and eco == pytest.approx(15.12)
    assert energy.energy_kwh(machines, work, energy.ECO)[0, 0] == pytest.approx(
        15.12 * 2.5 * energy.runtime_min(machines, work)[0, 0] / 60 / 1000
    )
    # docs/when-to-run.md's figures: on every server, cpu 1..100 %, ECO draws 37-38 % of the power and 5.5-7.4 % less energy.
    many = energy.job_work(np.linspace(1, 100, 100), np.full(100, 20.0))
    power = energy.power_w(machines, many, energy.ECO) / energy.power_w(machines, many)
    used = energy.energy_kwh(machines, many, energy.ECO) / energy.energy_kwh(machines, many)
    assert power.min() >= 0.37 and power.max() <= 0.38 and used.min() >= 0.925 and used.max() <= 0.946
    assert energy.ECO.slowdown == pytest.approx(2.5) and energy.FAST.slowdown == 1.0
