"""The servers, sorted by CPU, split into the three tier pools, with their power and speed figures."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ServerTable:
    """Rows of Server_L.xlsx in file order; power in watts."""

    ids: np.ndarray  # (n_servers,) int64
    cpu: np.ndarray  # (n_servers,) float64, cores
    gpu: np.ndarray  # (n_servers,) float64, devices
    cpu_rate: np.ndarray  # (n_servers,) float64
    gpu_rate: np.ndarray  # (n_servers,) float64
    p_idle_w: np.ndarray  # (n_servers,) float64
    p_peak_w: np.ndarray  # (n_servers,) float64


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one fleet per process
class Fleet:
    """The servers in CPU order (ties keep file order) and the tier pools over them."""

    names: tuple[str, ...]  # "Server <ID>", sorted by CPU ascending
    pools: tuple[np.ndarray, np.ndarray, np.ndarray]  # server positions of each tier pool
    perf: np.ndarray  # (n_servers,) (CPU x cpu_rate + GPU x gpu_rate) / 1000
    latency_proxy: np.ndarray  # (n_servers,) 1 / cpu_rate
    p_idle_w: np.ndarray  # (n_servers,)
    p_peak_w: np.ndarray  # (n_servers,)
    capacity_tier: np.ndarray  # (n_servers,) position / (n - 1): 0 smallest .. 1 largest
    cores: np.ndarray  # (n_servers,) CPU cores
    gpus: np.ndarray  # (n_servers,) GPU devices
    cpu_rate: np.ndarray  # (n_servers,) relative speed of one core
    gpu_rate: np.ndarray  # (n_servers,) relative speed of the GPUs

    @property
    def n_servers(self) -> int:
        return len(self.names)

    def pool_names(self, tier: int) -> tuple[str, ...]:
        return tuple(self.names[i] for i in self.pools[tier])


def build_fleet(table: ServerTable) -> Fleet:
    """Sort servers by CPU (stable) and cut them into thirds: green, balanced, performance.

    For a fleet whose size is not a multiple of three the first pools get the extra server, as
    `np.array_split` does.
    """
    order = np.argsort(table.cpu, kind="stable")
    n = len(order)
    pools = tuple(np.asarray(p, dtype=np.intp) for p in np.array_split(np.arange(n), 3))
    cpu, gpu = table.cpu[order], table.gpu[order]
    cpu_rate, gpu_rate = table.cpu_rate[order], table.gpu_rate[order]
    return Fleet(
        names=tuple(f"Server {i}" for i in table.ids[order]),
        pools=pools,  # type: ignore[arg-type]
        perf=(cpu * cpu_rate + gpu * gpu_rate) / 1000.0,
        latency_proxy=1.0 / cpu_rate,
        p_idle_w=table.p_idle_w[order],
        p_peak_w=table.p_peak_w[order],
        capacity_tier=np.arange(n) / max(n - 1, 1),
        cores=cpu,
        gpus=gpu,
        cpu_rate=cpu_rate,
        gpu_rate=gpu_rate,
    )
