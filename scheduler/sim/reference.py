"""The constrained reference: the least CO2 (idle included) found at a mean completion no worse than least_loaded's.

The question it answers: how much CO2 could the fleet have saved against the policies compared, without
finishing jobs later on average than `least_loaded` does? It is computed offline, with hindsight (every
queue and every future carbon value known), in two parts:

1. A search over a price on time. `Hindsight(weight)` places each job, in arrival order, on the pool
   server that minimises   dynamic CO2 of the job there + idle CO2 of stretching the run + weight x completion,
   each exact given the jobs placed before it (stretching: past the later of the latest finish so far and
   the earliest end any placement can have, `earliest_end_min`): the start comes from the server's FIFO queue
   (ServerQueue.earliest_start, as the oracle reads it), the carbon from the future series. weight (g per
   minute of completion) trades CO2 for time: near 0 it is a CO2 oracle that also counts idle power, large
   it is earliest-finish-time. The search starts at the largest weight and bisects log(weight)
   (REFERENCE_STEPS times) for the smallest weight whose run still completes no later on average than
   least_loaded's, keeping the run with the least CO2 incl. idle among every run that met the target (the
   completion is not exactly monotone in the weight, so the last one is not always the best).
2. The comparison's own schedules. Every policy run whose mean completion meets the target is a
   candidate too (least_loaded always does: the target is its own), and the reference is the candidate
   with the least CO2 incl. idle.

What it is, then: a heuristic with hindsight, not a proven lower bound. Beside it comes one
(scheduler/sim/reference_bound.py, a Lagrangian relaxation without capacity): the best CO2 incl. idle at the
target lies between the two, so their ratio says how far from optimal the reference can be. Part 2 makes "no policy in the
comparison emits less CO2 incl. idle at a mean completion no worse than least_loaded's" true by
construction; part 1 is what makes it worth beating (`source` says whether a search run or a policy won).
A policy that is not in the comparison may beat it; the relaxation's bound holds for every schedule.

Why "dynamic CO2 + stretching": with the linear power curve, the CO2 incl. idle of a run is the fleet's
idle power x carbon over the horizon (first arrival to last finish) plus each job's dynamic energy x
carbon (simulator.account: a job's share of the idle power is taken back from the idle figure), so these
two terms are exactly what a job adds. With SPECpower's curve a job's charge also depends on its
neighbours and the key is an approximation; every candidate is still scored exactly by simulator.account.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scheduler.core import units
from scheduler.core.series import integral_at
from scheduler.sim.config import REFERENCE_STEPS
from scheduler.sim.metrics import Summary, summarise
from scheduler.sim.reference_bound import earliest_end_min, lower_bound_g
from scheduler.sim.simulator import MILLI, FleetState, Problem, Run, simulate

NAME = "constrained_reference"
WEIGHT_RANGE_G_PER_MIN = (1e-4, 1e4)
"""The search's bracket for the price on time: at 1e-4 g/min a day's wait costs 0.14 g, well under one job's
CO2 (grams), so the least CO2 decides; at 1e4 a second costs 170 g, so the earliest finish decides."""


class Hindsight:
    """Each job on the pool server with the least dynamic CO2 + stretching CO2 + weight x completion."""

    def __init__(self, problem: Problem, weight_g_per_min: float):
        self.name = f"hindsight(weight={weight_g_per_min:.4g})"
        lists, m, fleet = problem.lists, problem.machines, problem.fleet
        self._pools, self._tier, self._runtime, self._cores = lists.pools, lists.tier, lists.runtime_min, lists.cores_milli
        share = problem.cores_milli / (fleet.cores * MILLI)
        dynamic = problem.energy_kwh - units.kwh(share * m.p_idle_w, problem.runtime_min)  # the idle share is the fleet's anyway
        self._dynamic = problem.pool_rows(np.maximum(dynamic, 0.0))
        clock = problem.clock
        self._carbon, self._start_h = clock.carbon_mean_one, clock.start_h
        idle_kw = np.bincount(clock.server_zone, weights=m.p_idle_w / 1000.0, minlength=len(clock.carbon))
        self._idle = [(kw, cum, values) for kw, (cum, values) in zip(idle_kw.tolist(), clock.carbon_tables) if kw > 0]
        self._weight = weight_g_per_min
        # Stretching is counted past the latest finish so far, or past the earliest the run can end, whichever is
        # later: no placement ends before every job has arrived and run on its fastest pool server, so the idle CO2
        # up to then is sunk. (From the first arrival instead, early long jobs were charged for an end the later
        # arrivals push back anyway: at least_loaded's completion the search ended 3 % higher on CO2 incl. idle.)
        self._last = earliest_end_min(problem)

    def _stretch_g(self, finish_min: float) -> float:
        """Idle CO2 of every server from the run's end so far to `finish_min`: what extending the run costs."""
        if finish_min <= self._last:
            return 0.0
        h0, h1 = self._start_h + self._last / 60.0, self._start_h + finish_min / 60.0
        return sum(kw * (integral_at(cum, values, h1) - integral_at(cum, values, h0)) for kw, cum, values in self._idle)

    def choose(self, job: int, now_min: float, state: FleetState) -> int:
        best, best_key, best_finish = -1, math.inf, 0.0
        runtime, dynamic, cores = self._runtime[job], self._dynamic[job], self._cores[job]
        for k, s in enumerate(self._pools[self._tier[job]]):
            start = state.queues[s].earliest_start(now_min, cores[k])
            finish = start + runtime[k]
            key = dynamic[k] * self._carbon(s, start, runtime[k]) + self._stretch_g(finish) + self._weight * (finish - now_min)
            if key < best_key:  # strict: a tie keeps the lower position, met first
                best, best_key, best_finish = s, key, finish
        self._last = max(self._last, best_finish)
        return best

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Reference:
    """The constrained reference of one evaluation, and how it was found."""

    summary: Summary  # its figures, as a policy's (policy = NAME)
    target_completion_mean_min: float  # least_loaded's mean completion: the constraint
    source: str  # "hindsight search" or the name of the policy whose own schedule it is
    weight_g_per_min: float | None  # the search run's price on time, when a search run won
    search: list[dict[str, float]]  # every search run: weight, mean completion, CO2 incl. idle, met
    lower_bound_kg: float  # no schedule meeting the target emits less CO2 incl. idle (reference_bound)
    lower_bound_weight_g_per_min: float  # the multiplier that gave it

    def gaps(self, summaries: list[Summary]) -> list[dict[str, float | str | bool]]:
        """Each policy's CO2 incl. idle above the reference (kg and % of it), and whether it met the target."""
        ref = self.summary.co2_with_idle_kg
        return [
            {
                "policy": s.policy,
                "co2_with_idle_kg": s.co2_with_idle_kg - ref,
                "percent": 100.0 * (s.co2_with_idle_kg - ref) / ref if ref > 0 else 0.0,
                "meets_completion": s.completion_mean_min <= self.target_completion_mean_min,
            }
            for s in summaries
        ]

    def to_json(self, summaries: list[Summary]) -> dict:
        return {
            "name": NAME,
            "what": "least CO2 incl. idle found with hindsight at a mean completion no worse than least_loaded's; "
            "a heuristic search plus every policy's own schedule, not a proven bound",
            "target_completion_mean_min": self.target_completion_mean_min,
            "source": self.source,
            "weight_g_per_min": self.weight_g_per_min,
            "summary": self.summary.as_dict(),
            "lower_bound": {
                "co2_with_idle_kg": self.lower_bound_kg,
                "weight_g_per_min": self.lower_bound_weight_g_per_min,
                "holds_for": "any schedule of these jobs (one non-preemptive run each on its pool, start >= arrival) "
                "with a mean completion no worse than least_loaded's; capacity is relaxed, so it is usually not reachable",
            },
            "gaps": self.gaps(summaries),
            "search": self.search,
        }


def constrained_reference(
    problem: Problem,
    runs: dict[str, Run],
    starvation_min: float,
    on_chunk: Callable[[int, int], None] | None = None,
) -> Reference:
    """The reference for `problem`, given the comparison's runs (least_loaded's among them).

    on_chunk(step, jobs_done) is simulate's progress callback for search run `step` (0-based); it may raise
    to cancel. At most REFERENCE_STEPS + 1 search runs."""
    if "least_loaded" not in runs:
        raise ValueError("the constrained reference needs least_loaded's run: its mean completion is the constraint")
    summaries = {name: summarise(problem, run, starvation_min) for name, run in runs.items()}
    target = summaries["least_loaded"].completion_mean_min
    search: list[dict[str, float]] = []
    best: tuple[float, str, float | None, Summary] | None = None  # (co2 incl. idle, source, weight, summary)

    def attempt(step: int, weight: float) -> bool:
        nonlocal best
        chunk = None if on_chunk is None else (lambda jobs: on_chunk(step, jobs))
        s = summarise(problem, simulate(problem, Hindsight(problem, weight), chunk), starvation_min)
        met = s.completion_mean_min <= target
        search.append(
            {"weight_g_per_min": weight, "completion_mean_min": s.completion_mean_min, "co2_with_idle_kg": s.co2_with_idle_kg, "met": met}
        )
        if met and (best is None or s.co2_with_idle_kg < best[0]):
            best = (s.co2_with_idle_kg, "hindsight search", weight, s)
        return met

    lo, hi = WEIGHT_RANGE_G_PER_MIN
    if attempt(0, hi):  # else not even the earliest finishes meet the target: the policies' schedules decide
        for step in range(1, REFERENCE_STEPS + 1):
            mid = math.sqrt(lo * hi)
            lo, hi = (lo, mid) if attempt(step, mid) else (mid, hi)
    for name, s in summaries.items():  # a policy's own schedule, when it meets the target and is lower
        if s.completion_mean_min <= target and (best is None or s.co2_with_idle_kg < best[0]):
            best = (s.co2_with_idle_kg, name, None, s)
    assert best is not None  # least_loaded meets its own target
    _, source, weight, summary = best
    summary = Summary(**{**summary.as_dict(), "policy": NAME})
    bound_g, bound_weight = lower_bound_g(problem, target)
    return Reference(summary, target, source, weight, search, units.kg(bound_g), bound_weight)
