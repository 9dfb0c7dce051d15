"""RAPL, read from a fake sysfs tree (this machine has none): package zones found and subzones left out, joules
between two reads with the counter's wrap-around undone, an unreadable counter giving no figure rather than a
wrong one, and a worker's run measuring the energy its task used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scheduler.execution import footprint, worker_main
from scheduler.execution.kinds import REGISTRY, TaskContext

RANGE = 262_143_328_850  # a real package's max_energy_range_uj


def zone(root: Path, name: str, energy_uj: int, max_range: int = RANGE) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "energy_uj").write_text(f"{energy_uj}\n")
    (folder / "max_energy_range_uj").write_text(f"{max_range}\n")
    return folder


@pytest.fixture
def sysfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(footprint, "RAPL", tmp_path)
    return tmp_path


def test_package_zones_are_found_and_subzones_left_out(sysfs: Path) -> None:
    zone(sysfs, "intel-rapl:1", 5)
    zone(sysfs, "intel-rapl:0", 7)
    zone(sysfs, "intel-rapl:0:0", 3)  # the cores of package 0: already inside its package's figure
    (sysfs / "intel-rapl:2").mkdir()  # no counter
    assert [z.name for z in footprint.rapl_zones()] == ["intel-rapl:0", "intel-rapl:1"]


def test_no_powercap_folder_means_no_zones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(footprint, "RAPL", tmp_path / "absent")
    assert footprint.rapl_zones() == []


def test_joules_between_reads_with_the_wrap_around_undone(sysfs: Path) -> None:
    a, b = zone(sysfs, "intel-rapl:0", RANGE - 1_000_000), zone(sysfs, "intel-rapl:1", 10_000_000)
    zones = footprint.rapl_zones()
    before = footprint.rapl_read(zones)
    (a / "energy_uj").write_text("2000000\n")  # wrapped: 1 J to the top of the range, then 2 J
    (b / "energy_uj").write_text("14000000\n")  # 4 J
    assert footprint.rapl_joules(before, footprint.rapl_read(zones)) == pytest.approx(7.0)


def test_an_unreadable_counter_gives_no_figure(sysfs: Path) -> None:
    folder = zone(sysfs, "intel-rapl:0", 1)
    zones = footprint.rapl_zones()
    (folder / "energy_uj").write_text("permission denied is what a non-root read of a real counter gets\n")
    assert footprint.rapl_read(zones) is None
    assert footprint.rapl_joules(None, [(1, RANGE)]) is None and footprint.rapl_joules([(1, RANGE)], [(1, RANGE), (2, RANGE)]) is None


def test_a_workers_run_measures_what_its_task_used(sysfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(REGISTRY, "_kinds", dict(REGISTRY._kinds))  # the kind below is this test's alone
    counter = zone(sysfs, "intel-rapl:0", 1_000_000) / "energy_uj"

    def burn(params: dict[str, Any], context: TaskContext) -> None:
        counter.write_text("3500000\n")  # the package used 2.5 J while the task ran

    REGISTRY.kind("test-burn")(burn)
    outcome = worker_main.run_one("test-burn", {}, TaskContext("w", "t", 1, 0, 0), footprint.rapl_zones())
    assert outcome[0] == "succeeded" and outcome[-1] == pytest.approx(2.5)
    assert worker_main.run_one("test-burn", {}, TaskContext("w", "t", 1, 0, 0), [])[-1] is None  # no zones: no figure
