"""Units, in one place: watt-minutes to kWh, grams to kilograms, the intensity label and the tolerance.

Names carry their unit (`energy_kwh`, `carbon_g_per_kwh`, `duration_min`), as the Carbon Aware SDK
does; these helpers are the only places a conversion factor is written.
"""

from typing import TypeVar

import numpy as np

Number = TypeVar("Number", float, np.ndarray)
"""Arrays in, arrays out; floats in, floats out: the helpers never change a value's type."""

INTENSITY_UNIT = "gCO2eq/kWh"
"""Average (not marginal) grid carbon intensity, as Electricity Maps publishes it."""

EPS = 1e-9
"""Tolerance of comparisons between times (hours or slots) and of ties between costs: sums of floats
that should be equal differ by far less, and no real quantity is this small."""


def kwh(watts: Number, minutes: Number) -> Number:
    """Energy of `watts` drawn for `minutes`: W x min / 60 (-> Wh) / 1000 (-> kWh)."""
    return watts * minutes / 60.0 / 1000.0


def kg(grams: Number) -> Number:
    """Grams to kilograms."""
    return grams / 1000.0


def co2_kg(energy_kwh: Number, intensity_g_per_kwh: Number) -> Number:
    """Emissions of `energy_kwh` drawn at `intensity_g_per_kwh`, in kg."""
    return energy_kwh * intensity_g_per_kwh / 1000.0


def co2_kg_of_area(watts: Number, intensity_area: Number) -> Number:
    """Emissions in kg of `watts` drawn over an intensity integral in g/kWh x h: W x (g/kWh x h) / 1e6
    (W x h = Wh, / 1000 = kWh; x g/kWh = g, / 1000 = kg)."""
    return watts * intensity_area / 1e6
