import numpy as np
import pytest

from scheduler.core.fleet import ServerTable, build_fleet


def table(cpu: list[float]) -> ServerTable:
    n = len(cpu)
    return ServerTable(np.arange(1, n + 1), np.array(cpu, float), np.zeros(n), np.ones(n), np.zeros(n), np.full(n, 10.0), np.full(n, 20.0))


def test_reference_fleet(world):
    fleet = world.fleet
    assert fleet.names == tuple(f"Server {i}" for i in range(1, 10))
    assert [p.tolist() for p in fleet.pools] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert fleet.capacity_tier.tolist() == [i / 8 for i in range(9)]
    assert fleet.perf[2] == pytest.approx((8 * 1.8 + 1 * 1.0) / 1000)


def test_sorted_by_cpu_ties_keep_file_order_and_uneven_thirds():
    fleet = build_fleet(table([32, 4, 16, 4, 8, 64, 8, 16, 2, 1]))
    assert fleet.names[:4] == ("Server 10", "Server 9", "Server 2", "Server 4")
    assert [len(p) for p in fleet.pools] == [4, 3, 3]
