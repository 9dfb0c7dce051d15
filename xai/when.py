"""The "When:" sentence of a grid decision: what the when-policy (scheduler.timeshift.policy) decided for the job,
the band and the numbers behind it, and the forecast's part. Deterministic, like xai.templates; the
explanation of the placement comes first and this sentence follows it (also after an LLM's text).
"""

import math

from scheduler.core.energy import ECO
from scheduler.core.states import (
    BANDS,
    REASON_CRITICAL,
    REASON_ECO_LATE,
    REASON_HIGH_ECO,
    REASON_LOW,
    REASON_NO_ROOM,
    REASON_NOT_FLEXIBLE,
    REASON_NOW_GREENEST,
    REASON_TOO_SHORT,
)
from scheduler.core.timing import Timing, WhenConfig
from scheduler.core.units import EPS
from xai.carbon import scale_text


def kg(x: float) -> str:
    """Three significant digits, never in scientific notation (an ECO job's saving can be micrograms)."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    return f"{x:.{max(0, 2 - math.floor(math.log10(abs(x))))}f}"


def describe(
    timing: Timing,
    zones: list[str],
    labels: list[str],
    finish: list[str],
    deadlines: list[str],
    config: WhenConfig,
    excluded: list[list[str]] | None = None,
) -> list[str]:
    """The "When:" sentence of each job's explanation: what was decided, the band and its numbers,
    and the forecast's part. labels / finish / deadlines: the clock labels of start, finish, deadline;
    excluded: per job, the pool servers placement left out because they could not finish in time."""
    eco = f"ECO mode ({ECO.core_fraction:.0%} of its cores at {ECO.frequency:.0%} clock: {ECO.slowdown:g}x the runtime at lower power)"
    texts = []
    columns = zip(
        timing.reason.tolist(),
        timing.band.tolist(),
        timing.intensity_now_g.tolist(),
        timing.band_low_g.tolist(),
        timing.band_high_g.tolist(),
        timing.saved_expected_kg.tolist(),
        timing.forecast_g.tolist(),
        timing.finish_h.tolist(),
        timing.deadline_h.tolist(),
        zones,
        labels,
        finish,
        deadlines,
        range(len(timing)),
    )
    for reason, band, now, low, high, saved, fc, end, deadline, zone, start, finish_at, deadline_at, row in columns:
        scale = scale_text(config.bands.kind, config.bands.window_h, low, high)
        grid = f"the {zone} grid's latest reading is {now:.0f} gCO2eq/kWh, {BANDS[band]} band ({scale})"
        if reason == REASON_CRITICAL:
            text = f"When: now, in FAST mode: critical jobs are never deferred or slowed ({grid})."
        elif reason == REASON_LOW:
            text = f"When: now, in FAST mode: {grid}."
        elif reason == REASON_HIGH_ECO:
            effect = (
                f"it saves an expected {kg(saved)} kg CO2"
                if saved >= 0
                else f"it is expected to emit {kg(-saved)} kg CO2 more (its longer runtime draws more idle power)"
            )
            text = f"When: now, in {eco}: {grid}; {effect} against FAST mode."
        elif reason == REASON_ECO_LATE:
            text = f"When: now, in FAST mode: {grid}, but ECO mode would finish after the deadline {deadline_at}."
        elif reason == REASON_NOT_FLEXIBLE:
            text = f"When: now, in FAST mode: {grid}; only flexible jobs are deferred."
        elif reason == REASON_TOO_SHORT:
            text = f"When: now, in FAST mode: {grid}; the job is too short for waiting to save anything."
        elif reason == REASON_NO_ROOM:
            text = f"When: now, in FAST mode: {grid}, but the deadline {deadline_at} leaves no room to wait."
        elif reason == REASON_NOW_GREENEST:
            text = f"When: now, in FAST mode: {grid}, and the {config.forecast} forecast finds no greener window before {deadline_at}."
        else:
            pieces = len(timing.runs.get(row, ())) or 1
            how = f"in {pieces} pieces, finishing {finish_at}" if pieces > 1 else f"finishing {finish_at}"
            text = (
                f"When: deferred to {start} ({how}) in FAST mode: {grid}; the {config.forecast} forecast puts the chosen "
                f"hours at {fc:.0f} gCO2eq/kWh, within the deadline {deadline_at}; expected saving {kg(saved)} kg CO2."
            )
        if end > deadline + EPS:
            text += f" It finishes at {finish_at}, after its deadline {deadline_at}: no server of its pool can finish by then."
        if excluded and excluded[row]:
            text += f" Left out because they could not finish by the deadline: {', '.join(excluded[row])}."
        texts.append(text)
    return texts
