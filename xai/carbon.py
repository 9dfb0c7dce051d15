"""The carbon clause of an explanation, and the name of the band scale a decision uses.

One scale per decision (docs/placement.md): a reference session bands its unitless proxy factor on the fixed
scale of scheduler.core.bands.CARBON_BAND_EDGES; a grid session bands the chosen server's zone with the
when-policy's BandPolicy (fixed gCO2eq/kWh thresholds, or percentiles of the zone's last week), the band its
`carbon_band` field and its "When:" sentence give. The text says which scale, with the thresholds in force.
"""

import math

from scheduler.core.bands import CARBON_BAND_EDGES

FACTOR = "factor"
"""The reference sessions' scale: the proxy factor against CARBON_BAND_EDGES."""


def scale_text(kind: str, window_h: int, low: float, high: float) -> str:
    """The scale a band was read on, with its thresholds: kind "factor", "absolute" or "percentile"."""
    if kind == FACTOR:
        return f"fixed scale of the unitless 0-1 proxy: low below {CARBON_BAND_EDGES[0]:g}, high from {CARBON_BAND_EDGES[1]:g}"
    if kind == "absolute":
        return f"fixed scale: low below {low:.0f}, high from {high:.0f} gCO2eq/kWh"
    return f"percentiles of the zone's last {window_h} h: low below {low:.0f}, high from {high:.0f} gCO2eq/kWh"


GIVEN = ("", "energy", "co2")
"""Whose figure a grid decision's energy or CO2 is (scheduler.placement.given): the model's, or the job's own
estimated_kwh ("energy") or co2_kg ("co2"). Reference sessions keep the model's ("")."""


def carbon_clause(
    band: str,
    factor: float,
    intensity_g: float,
    zone: str | None,
    scale: str,
    chosen: str,
    energy_kwh: float,
    co2_kg: float,
    given: str = "",
) -> str:
    """The carbon sentence: the band on the decision's scale (`scale`, from scale_text), then what the job
    uses and emits on the chosen server, saying which figure is the job's own (`given`, one of GIVEN).
    intensity_g is NaN (and zone None) in reference sessions."""
    if math.isnan(intensity_g):
        level = f" The carbon proxy was {band} (factor {factor:.2f}; {scale});"
    else:
        level = (
            f" The {zone} grid, which {chosen} draws from, read {intensity_g:.0f} gCO2eq/kWh in the hour before submission:"
            f" the {band} band ({scale});"
        )
    if given == "energy":
        return f"{level} on {chosen} the job uses {energy_kwh:.4f} kWh, from the energy it gave, and emits {co2_kg:.4f} kg CO2."
    if given == "co2":
        return f"{level} on {chosen} the job uses {energy_kwh:.4f} kWh and emits {co2_kg:.4f} kg CO2, the figure it gave (co2_kg)."
    return f"{level} on {chosen} the job uses {energy_kwh:.4f} kWh and emits {co2_kg:.4f} kg CO2."


def pool_energy_clause(pool: tuple[str, ...], lo: float, hi: float, least_server: str, least_kwh: float, given: str = "") -> str:
    """The pool described by what this job would use on its servers (lo..hi kWh), run now, against the fleet's
    least; a job that gave its energy (`given` "energy") uses that on every server."""
    low, high = f"{lo:.4f}", f"{hi:.4f}"
    if given == "energy":
        return f"; run now, this job would use {low} kWh on any server, the energy it gave (estimated_kwh)."
    span = f"{low} kWh on each" if low == high else f"{low}-{high} kWh on them"
    if least_server in pool:
        return f"; run now, this job would use {span}, the least in the fleet on {least_server}."
    return f"; run now, this job would use {span}, against {least_kwh:.4f} kWh on {least_server}, the least in the fleet."
