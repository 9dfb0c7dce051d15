"""The GPU-fraction study's split model, queues and oracle (scheduler/sim/gpu_cluster.py), against hand-computed cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.sim.gpu_cluster import FRACTIONS, Cluster, cost_usd, energy_j, idle_time
from scheduler.sim.gpu_workload import BANDWIDTH_MB_S, MEAN_BASE_S, SECONDS_PER_UNIT, GpuTasks, draw_tasks


def test_idle_time_is_the_slower_part_plus_the_transfer() -> None:
    # T = 10 s, speed-up 4 (intensity 1), whole transfer 2 s.
    assert idle_time(10, 4, 2, 0.0) == 10.0  # all on the CPU, nothing moved
    assert idle_time(10, 4, 2, 0.5) == pytest.approx(5.0 + 1.0)  # CPU 5 s, GPU 1.25 s, half the data: 1 s
    assert idle_time(10, 4, 2, 0.8) == pytest.approx(2.0 + 1.6)  # CPU 2 s = GPU 2 s: balanced
    assert idle_time(10, 4, 2, 1.0) == pytest.approx(2.5 + 2.0)


def test_the_best_fraction_is_inside_0_1_where_the_linear_model_has_it_at_an_end() -> None:
    # The seed's model, (1 - f) T + f (T / S + X), is linear in f: its minimum is at 0 or 1 for every task.
    # Ours balances the parts: here 0.8 beats both ends (3.6 s against 10 s and 4.5 s).
    times = [idle_time(10, 4, 2, f) for f in FRACTIONS]
    assert FRACTIONS[int(np.argmin(times))] == pytest.approx(0.8)
    linear = [(1 - f) * 10 + f * (10 / 4 + 2) for f in FRACTIONS]
    assert int(np.argmin(linear)) in (0, len(FRACTIONS) - 1)


def test_a_split_holds_the_cpu_for_its_part_and_one_gpu_for_its_part() -> None:
    cluster = Cluster()
    assert cluster.run(0.0, 10.0, 4.0, 2.0, 0.8, 1) == pytest.approx(3.6)
    assert cluster.cpu_free == pytest.approx(2.0)
    assert cluster.gpu_free.tolist() == pytest.approx([0.0, 2.0, 0.0, 0.0])
    # Arrives at 1 s, intensity 0 (no speed-up), whole transfer 1 s, half on GPU 1: both parts wait until 2 s,
    # run 5 s each, then half the data moves: 7 + 0.5.
    assert cluster.run(1.0, 10.0, 1.0, 1.0, 0.5, 1) == pytest.approx(7.5)
    assert cluster.cpu_free == pytest.approx(7.0)
    assert cluster.gpu_free.tolist() == pytest.approx([0.0, 7.0, 0.0, 0.0])


def test_a_whole_task_touches_one_device_only() -> None:
    cluster = Cluster()
    cluster.gpu_free[:] = 50.0
    assert cluster.run(0.0, 10.0, 4.0, 2.0, 0.0, 2) == pytest.approx(10.0)  # f = 0 does not wait for the busy GPU
    assert cluster.gpu_free.tolist() == [50.0] * 4
    cluster = Cluster()
    cluster.cpu_free = 50.0
    assert cluster.run(0.0, 10.0, 4.0, 2.0, 1.0, 0) == pytest.approx(4.5)  # f = 1 does not wait for the busy CPU
    assert cluster.cpu_free == 50.0


def test_the_oracle_on_an_idle_cluster_balances_the_parts() -> None:
    assert Cluster().best(0.0, 10.0, 4.0, 2.0) == (pytest.approx(0.8), 0)


def test_the_oracle_keeps_a_task_whose_transfer_outweighs_it_on_the_cpu() -> None:
    # T = 1 s and 5 s of data: 1 + 4f for f <= 0.8, so f = 0 (1 s); every GPU ties, the first is named.
    assert Cluster().best(0.0, 1.0, 4.0, 5.0) == (0.0, 0)


def test_the_oracle_reads_the_queues() -> None:
    # The CPU is busy until 4 s; no speed-up, no transfer: 4 + 10 (1 - f) = 10 f at f = 0.7, finishing at 7 s.
    cluster = Cluster()
    cluster.cpu_free = 4.0
    assert cluster.best(0.0, 10.0, 1.0, 0.0) == (pytest.approx(0.7), 0)
    # GPU 0 busy: the same split goes to GPU 1, the first free one.
    cluster.gpu_free[0] = 30.0
    assert cluster.best(0.0, 10.0, 1.0, 0.0) == (pytest.approx(0.7), 1)
    # Every device busy long: the CPU until 100 s, the GPUs until 30 s: all on a GPU (30 + 10 = 40 s).
    cluster.cpu_free, cluster.gpu_free[:] = 100.0, 30.0
    assert cluster.best(0.0, 10.0, 1.0, 0.0) == (1.0, 0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 50), min_size=5, max_size=5),
    st.floats(0, 20),
    st.floats(0.05, 70),
    st.floats(1, 4),
    st.floats(0, 5),
)
def test_finishes_agrees_with_run_and_best_is_their_minimum(free, arrival, base, speedup, transfer) -> None:
    def fresh() -> Cluster:
        cluster = Cluster()
        cluster.cpu_free, cluster.gpu_free[:] = free[0], free[1:]
        return cluster

    table = fresh().finishes(arrival, base, speedup, transfer, FRACTIONS)
    for i, f in enumerate(FRACTIONS):
        for g in range(4):
            assert table[i, g] == pytest.approx(fresh().run(arrival, base, speedup, transfer, float(f), g))
    f, g = fresh().best(arrival, base, speedup, transfer)
    assert fresh().run(arrival, base, speedup, transfer, f, g) == pytest.approx(table.min())


def test_energy_and_cost_count_each_devices_part() -> None:
    one = GpuTasks(np.zeros(1), np.array([100.0]), np.array([1.0]), np.array([100.0]))
    base = SECONDS_PER_UNIT * 1000 / 1.5  # N^1.5 = 1,000; I + 0.5 = 1.5
    assert one.base_s[0] == pytest.approx(base)
    assert one.transfer_s[0] == pytest.approx(100 / BANDWIDTH_MB_S)
    assert energy_j(one, np.array([0.0]))[0] == pytest.approx(30 * base)
    assert energy_j(one, np.array([1.0]))[0] == pytest.approx(50 * base / 4)
    assert energy_j(one, np.array([0.5]))[0] == pytest.approx(30 * base / 2 + 50 * base / 8)
    assert cost_usd(one, np.array([0.5]))[0] == pytest.approx((0.40 * base / 2 + 2.50 * base / 8) / 3600)


def test_the_workload_has_the_seeds_ranges_and_its_load() -> None:
    tasks = draw_tasks(50_000, 1.0, np.random.default_rng(3))
    assert tasks.size.min() >= 100 and tasks.size.max() <= 5_000
    assert tasks.intensity.min() >= 0 and tasks.intensity.max() <= 1
    assert tasks.memory_mb.min() >= 10 and tasks.memory_mb.max() <= 500
    assert tasks.arrival_s[0] == 0 and np.all(np.diff(tasks.arrival_s) >= 0)
    # Load 1.0: the tasks' base time fills the CPU alone; MEAN_BASE_S is the distribution's mean.
    assert tasks.base_s.mean() == pytest.approx(MEAN_BASE_S, rel=0.02)
    assert tasks.base_s.sum() / tasks.arrival_s[-1] == pytest.approx(1.0, rel=0.03)
    assert np.array_equal(draw_tasks(100, 1.0, np.random.default_rng(3)).size, draw_tasks(100, 1.0, np.random.default_rng(3)).size)
