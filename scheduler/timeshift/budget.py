"""What a plan will cost, known from its shape before any of it is done: POST /plan refuses past its limits.

Three products bound a plan, each by one limit (`PlanLimits`, from TASKPILOT_MAX_PLAN_*):

- **slots**, the grid's length: memory in proportion to it (the series, its forecasts and prefix sums).
  An inline series is put on the finest grid its times allow (scheduler/data/carbon_series.py), so
  250,000 readings one minute and then six hours apart are 90 M one-minute slots from a 7 MB body.
  `inline_slots` counts them from the times alone, `resampled_slots` the grid a `step_min` asks for
  (and the finer one resampling goes through), before either is built.
- **work**, jobs x slots x forecast runs: each job's forecast window (submit to deadline, in slots; a
  job that cannot move counts one) summed over the jobs, times the plans made (perfect, persistence:
  one each; noisy: `seeds`). Time goes in proportion to it; the planner's memory does not, since it
  scores at most planner.CELLS jobs x slots at once.
- **pieces**, the [start, end] runs the answer may list: one per job that runs as one block, up to its
  duration in slots plus one for an interruptible job, for each strategy shown.

A plan over a limit raises PlanTooLarge, whose message names the product, its factors and the setting.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np

from scheduler.core.errors import TaskPilotError
from scheduler.data.carbon_series import DAY_MIN, MAX_GAP_MIN, CarbonSeries, parse_utc
from scheduler.timeshift.planner import PlanJobs, window_slots


class PlanTooLarge(TaskPilotError):
    """A plan is over one of its limits; the message says which product, of which fields, over which setting."""


@dataclass(frozen=True)
class PlanLimits:
    slots: int
    """TASKPILOT_MAX_PLAN_SLOTS: slots of the grid planned on."""
    work: int
    """TASKPILOT_MAX_PLAN_WORK: window slots x forecast runs."""
    pieces: int
    """TASKPILOT_MAX_PLAN_PIECES: [start, end] runs the answer may list."""


def inline_slots(times: Sequence[str]) -> int:
    """Slots the reader would put `times` on (at least: readings without a value only make it fewer);
    0 when the times are not a valid series, whose reader then says why."""
    if len(times) < 2:
        return 0
    when = parse_utc([str(t) for t in times])
    if np.isnat(when).any():
        return 0
    minutes = (when - when[0]).astype(np.int64) // 60
    steps = np.diff(minutes)
    if (steps <= 0).any() or (steps > MAX_GAP_MIN).any():
        return 0
    base = reduce(math.gcd, np.unique(steps).tolist())
    return int(minutes[-1] // base) + 1


def resampled_slots(series: CarbonSeries, step_min: int | None) -> int:
    """Slots of `series` on a `step_min` grid, or of the finer grid resampling goes through if larger
    (CarbonSeries.resample's arithmetic)."""
    if step_min is None or step_min == series.step_min or step_min <= 0 or DAY_MIN % step_min:
        return series.n  # an invalid step is the resampler's to refuse
    day = series.start.astype("datetime64[D]").astype("datetime64[m]")
    lead = int((series.start - day) // np.timedelta64(1, "m")) % step_min
    fine = math.gcd(series.step_min, step_min, lead)
    through = lead // fine + series.n * (series.step_min // fine)
    return max(through, -(-through // (step_min // fine)))


def check_slots(slots: int, step_min: int, limits: PlanLimits, what: str) -> None:
    if slots > limits.slots:
        raise PlanTooLarge(
            f"{what} spans {slots * step_min / DAY_MIN:,.1f} days / a {step_min}-minute step = {slots:,} slots; the limit is "
            f"{limits.slots:,} (TASKPILOT_MAX_PLAN_SLOTS): send a shorter span, or a coarser step_min"
        )


def check_plan(jobs: PlanJobs, runs: int, strategies: int, limits: PlanLimits) -> None:
    """PlanTooLarge when planning `jobs` `runs` times, or listing their runs for `strategies`, is over `limits`."""
    window = np.maximum(window_slots(jobs), 1.0)
    cells = int(window.sum())
    if cells * runs > limits.work:
        raise PlanTooLarge(
            f"the plan is {len(jobs):,} jobs whose forecast windows (submit to deadline) hold {cells:,} slots in all, "
            f"x {runs} forecast runs (perfect, persistence: 1 each; noisy: seeds) = {cells * runs:,} slot evaluations; the limit "
            f"is {limits.work:,} (TASKPILOT_MAX_PLAN_WORK): send fewer jobs, nearer deadlines, a coarser step_min or fewer seeds"
        )
    split = jobs.flexible & jobs.interruptible
    pieces = np.where(split, np.minimum(np.ceil(jobs.duration) + 1, window), 1.0)
    total = int(pieces.sum()) * strategies
    if total > limits.pieces:
        raise PlanTooLarge(
            f"the answer could list {total:,} runs: {int(split.sum()):,} interruptible jobs of up to duration_min / step_min + 1 "
            f"pieces each and {len(jobs) - int(split.sum()):,} others of one, x {strategies} strategies; the limit is "
            f"{limits.pieces:,} (TASKPILOT_MAX_PLAN_PIECES): send fewer or shorter interruptible jobs, or a coarser step_min"
        )
