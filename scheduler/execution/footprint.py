"""The energy and CO2 of an attempt: an estimate from its measured runtime, and RAPL's measured CPU energy
where the machine exposes it.

estimate: measured runtime x the chosen server's power in the task's mode (its power model, or the job's
own power_w, as placement computed it) x the intensity of the server's zone over the run (grid sessions; the
reference scenario has no gCO2/kWh, so no CO2 there). The label says so wherever the figure is shown.
"""

from pathlib import Path

from scheduler.core import units

ESTIMATE_LABEL = "estimate from measured runtime"
MEASURED_LABEL = "measured: RAPL CPU package energy while the attempt ran (the whole package, other processes included)"
RAPL = Path("/sys/class/powercap")


def estimate(placement: dict[str, float | str | None], runtime_s: float) -> tuple[float | None, float | None]:
    """(kWh, kg CO2) of `runtime_s` seconds on the placement's server and mode; CO2 None without an intensity."""
    power_w = placement.get("power_w")
    if not isinstance(power_w, (int, float)):
        return None, None
    energy = float(units.kwh(float(power_w), runtime_s / 60.0))
    intensity = placement.get("intensity_g")
    return energy, float(units.co2_kg(energy, float(intensity))) if isinstance(intensity, (int, float)) else None


def rapl_zones() -> list[Path]:
    """The package-level RAPL energy counters (intel-rapl:N), where readable."""
    try:
        return sorted(p for p in RAPL.glob("intel-rapl:*") if p.name.count(":") == 1 and (p / "energy_uj").is_file())
    except OSError:
        return []


def rapl_read(zones: list[Path]) -> list[tuple[int, int]] | None:
    """(energy_uj, max_energy_range_uj) of each zone, or None when any cannot be read (no permission)."""
    try:
        return [(int((z / "energy_uj").read_text()), int((z / "max_energy_range_uj").read_text())) for z in zones] or None
    except (OSError, ValueError):
        return None


def rapl_joules(before: list[tuple[int, int]] | None, after: list[tuple[int, int]] | None) -> float | None:
    """Joules between two reads, each counter's wrap-around undone."""
    if before is None or after is None or len(before) != len(after):
        return None
    return sum(((b - a) % rng if b < a else b - a) for (a, rng), (b, _) in zip(before, after)) / 1e6
