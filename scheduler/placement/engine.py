"""run_batch: place a batch of jobs, each on a server of its tier pool, and learn from it.

Pools are disjoint, so a tier's jobs only ever see that tier's loads and agent: the batch is split by
tier, each tier's jobs run through its agent in submission order, and the results are put back in
order. The state each job sees comes from the series at the session's pointer, which advances by one
per job across all tiers, as in the reference.
"""

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from rl.agent import SequenceResult, TierAgent, run_sequence
from rl.dqn import DQNAgent
from rl.features import static_features
from scheduler.core.errors import DatasetError, ScenarioUnavailable
from scheduler.core.fleet import Fleet
from scheduler.core.job_batch import JobBatch
from scheduler.core.scoring import TIER_WEIGHTS, PoolScores, pool_scores
from scheduler.core.states import TIERS
from scheduler.core.timing import Timing
from scheduler.data.signals import Signals
from scheduler.placement import dqn_place
from scheduler.placement.scenario import ReferenceScenario, Scenario, StepMetrics


@dataclass(frozen=True)
class Runtime:
    """A scenario and the tier agents pre-trained on its states; `dqn`, when set (grid scenario with
    TASKPILOT_GRID_POLICY=dqn), places its sessions' jobs instead of the agents (scheduler/placement/dqn_place.py)."""

    scenario: Scenario
    pretrained: tuple[TierAgent, ...]
    dqn: DQNAgent | None = None


@dataclass(frozen=True, eq=False)
class World:
    """The process-wide, read-only inputs of every decision.

    `pretrained` are the reference scenario's agents; other scenarios are built by `builders` on first
    use (the grid scenario reads three years of hourly data), once, and shared by every session."""

    fleet: Fleet
    signals: Signals
    pretrained: tuple[TierAgent, ...]
    builders: Mapping[str, Callable[[], Runtime]] = field(default_factory=dict)
    _built: dict[str, Runtime] = field(default_factory=dict, repr=False)
    _failed: dict[str, "ScenarioUnavailable"] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._built["reference"] = Runtime(ReferenceScenario(self.fleet, self.signals), self.pretrained)

    @property
    def scenario_names(self) -> tuple[str, ...]:
        return ("reference", *self.builders)

    def runtime(self, name: str) -> Runtime:
        """The named scenario's runtime, built on first use; ValueError for an unknown name.

        A scenario whose data cannot be built (a missing or bad file, a clock outside the series)
        raises ScenarioUnavailable, now and on every later call: the files will not heal, and
        re-reading three years of data per request would only slow the answer down."""
        if name not in self._built:
            if name not in self.builders:
                raise ValueError(f"unknown scenario {name!r}; known: {', '.join(self.scenario_names)}")
            with self._lock:
                if name not in self._built:
                    try:
                        self._built[name] = self.builders[name]()
                    except (DatasetError, ValueError) as exc:
                        self._failed[name] = ScenarioUnavailable(f"the {name} scenario is unavailable: {exc}")
                if name in self._failed:
                    raise self._failed[name]
        return self._built[name]


@dataclass
class EngineState:
    """What a session's decisions depend on and change."""

    loads: np.ndarray  # (n_servers,) int64 jobs placed on each server
    pointer: int  # position in the series of the next job
    agents: list[TierAgent]  # one per tier, the session's own copies
    rngs: list[np.random.Generator]  # one exploration stream per tier
    scenario: Scenario  # where energy and carbon figures come from
    forecast_rng: np.random.Generator  # the noisy forecast's draws (grid scenario)
    dqn: DQNAgent | None = None  # places the jobs instead of the agents (read only, shared by every session)


@dataclass(frozen=True)
class BatchRecord:
    """Everything decided in one run; the per-server tables are recomputed from it when asked for."""

    scenario: Scenario  # the figures below came from it, and the per-server tables are recomputed by it
    job_ids: np.ndarray  # (n,) int64
    jobs: JobBatch
    pointer: int  # series position of the first job
    chosen: np.ndarray  # (n,) server position
    loads_before: np.ndarray  # (n, n_servers) int64 server loads when the job was placed
    q_values: np.ndarray  # (n, pool_size) the agent's Q(s, .) over the job's pool
    explored: np.ndarray  # (n,) bool, epsilon step
    reward: np.ndarray  # (n,) quality score of the chosen server, 0..1
    rl_reward: np.ndarray  # (n,) training reward: quality minus overload penalty
    energy_kwh: np.ndarray  # (n,) on the chosen server
    cost: np.ndarray  # (n,) on the chosen server
    co2_kg: np.ndarray  # (n,) on the chosen server
    co2_baseline_kg: np.ndarray  # (n,) mean over the performance pool: the "run everything big" baseline
    carbon_factor: np.ndarray  # (n,) at decision time
    runtime_min: np.ndarray  # (n,) on the chosen server; NaN in the reference scenario (no runtime model)
    intensity_g_per_kwh: np.ndarray  # (n,) grid average intensity on the chosen server; NaN in the reference scenario
    rival: np.ndarray  # (n,) server position: the best-scored other server the job could take; -1 when none
    weight_gap: np.ndarray  # (n, widest pool + 4) the agent's W[chosen] - W[rival] when it decided (see _weight_gap)
    quality_gap: np.ndarray  # (n,) quality of the chosen server minus the rival's; 0 without a rival
    lead_metric: np.ndarray  # (n,) int8 metric (perf, cost, co2, lat) adding most to that gap
    cause_terms: np.ndarray  # (n, 2) int8 features (pool loads, then the four static) with the largest positive terms; -1: none
    energy_by_server: np.ndarray  # (n_servers,) kWh the batch's jobs would use on each server, run now (FAST)
    co2_by_server: np.ndarray  # (n_servers,) kg CO2 the same
    timing: Timing | None = None  # when and how each job runs (grid scenario); None: all now, FAST

    def __len__(self) -> int:
        return len(self.job_ids)


def run_batch(world: World, state: EngineState, job_ids: np.ndarray, jobs: JobBatch) -> BatchRecord:
    """Decide, learn and advance `state` for `jobs` (in order); returns the record of the decisions."""
    fleet, n = world.fleet, len(jobs)
    step = state.scenario.evaluate(np.arange(state.pointer, state.pointer + n, dtype=np.int64), jobs)
    metrics = step.metrics
    static = static_features(step.carbon_factor, step.price, jobs.cpu, jobs.memory)
    pool_width = max(len(p) for p in fleet.pools)
    chosen = np.empty(n, np.intp)
    reward = np.empty(n)
    rl_reward = np.empty(n)
    explored = np.zeros(n, bool)
    rival = np.full(n, -1, np.intp)
    weight_gap = np.zeros((n, pool_width + 4))
    quality_gap = np.zeros(n)
    lead_metric = np.zeros(n, np.int8)
    cause_terms = np.full((n, 2), -1, np.int8)
    q_values = np.full((n, pool_width), np.nan)
    loads_start = state.loads.copy()
    use_dqn = state.dqn is not None and step.runtime_min is not None and n > 0
    figures = dqn_place.server_figures(state.scenario, step, jobs) if use_dqn else None  # type: ignore[arg-type]
    for tier in range(len(TIERS)):
        rows = np.flatnonzero(jobs.tier == tier)
        if rows.size == 0:
            continue
        pool = fleet.pools[tier]
        scores = pool_scores(fleet, tier, metrics.take(rows), None if step.latency is None else step.latency[rows])
        quality = scores.final  # (m, pool_size)
        first_loads = state.loads[pool].copy()
        allowed = meets_deadline(step.runtime_min, jobs.deadline_min, rows, pool)
        if figures is not None:
            result = _dqn_result(state.dqn, figures, rows, pool, tier, pool_width, allowed, quality)  # type: ignore[arg-type]
            state.loads[pool] += np.bincount(result.actions, minlength=len(pool))
        else:
            pool_loads = first_loads.tolist()
            draws = state.rngs[tier].random((rows.size, 2))
            agent = state.agents[tier]
            result = run_sequence(
                agent, pool_loads, static[rows], quality, draws, 1.0 / agent.config.overload_divisor, allowed=allowed, record_weights=True
            )
            state.loads[pool] = pool_loads
        chosen[rows] = pool[result.actions]
        reward[rows] = quality[np.arange(rows.size), result.actions]
        rl_reward[rows] = result.rl_reward
        explored[rows] = result.explored
        versus = _rival(quality, result.actions, allowed)
        rival[rows] = np.where(versus >= 0, pool[versus], -1)
        gap = _weight_gap(result.weights, result.actions, versus)
        weight_gap[rows] = _layout(gap, pool_width)
        quality_gap[rows], lead_metric[rows], cause_terms[rows] = _cause(
            scores, TIER_WEIGHTS[tier], result.actions, versus, gap, static[rows], first_loads
        )
        q_values[rows, : len(pool)] = result.q_values
    placed = np.zeros((n, fleet.n_servers), np.int64)
    placed[np.arange(n), chosen] = 1
    loads_before = loads_start + np.cumsum(placed, axis=0) - placed
    rows = np.arange(n)
    energy_kwh, cost, co2_kg = metrics.energy_kwh[rows, chosen], metrics.cost[rows, chosen], metrics.co2_kg[rows, chosen]
    runtime_min, intensity = _chosen(step.runtime_min, chosen), _chosen(step.intensity_g_per_kwh, chosen)
    timing = state.scenario.plan_when(step, jobs, chosen, state.forecast_rng) if n else None
    if timing is not None:
        # Placement is decided on the run-now figures; what the job then draws and emits follows its
        # mode and start, measured on the actual signal.
        energy_kwh, co2_kg, runtime_min, intensity = timing.energy_kwh, timing.co2_kg, timing.runtime_min, timing.intensity_g
        cost = energy_kwh * state.scenario.price_at(timing.start_h)
    record = BatchRecord(
        state.scenario,
        job_ids,
        jobs,
        state.pointer,
        chosen,
        loads_before,
        q_values,
        explored,
        reward,
        rl_reward,
        energy_kwh=energy_kwh,
        cost=cost,
        co2_kg=co2_kg,
        co2_baseline_kg=metrics.co2_kg[:, fleet.pools[-1]].mean(axis=1),
        carbon_factor=step.carbon_factor,
        runtime_min=runtime_min,
        intensity_g_per_kwh=intensity,
        rival=rival,
        weight_gap=weight_gap,
        quality_gap=quality_gap,
        lead_metric=lead_metric,
        cause_terms=cause_terms,
        energy_by_server=metrics.energy_kwh.sum(axis=0),
        co2_by_server=metrics.co2_kg.sum(axis=0),
        timing=timing,
    )
    state.pointer += n
    return record


def _dqn_result(
    agent: DQNAgent,
    figures: dict[str, np.ndarray],
    rows: np.ndarray,
    pool: np.ndarray,
    tier: int,
    pool_width: int,
    allowed: np.ndarray | None,
    quality: np.ndarray,
) -> SequenceResult:
    """The DQN's choices in the tier agents' record shape: no exploration, its reward the quality score (it
    does not learn online), and zero linear weights, so the explanation names no agent feature as a cause
    and rests on the quality gap to the rival."""
    actions, q = dqn_place.place(agent, figures, rows, pool, tier, pool_width, allowed)
    m, size = len(rows), len(pool)
    weights = np.zeros((m, size, size + 4))
    return SequenceResult(actions, q, quality[np.arange(m), actions], np.zeros(m, bool), weights)


def meets_deadline(runtime_min: np.ndarray | None, deadline_min: np.ndarray, rows: np.ndarray, pool: np.ndarray) -> np.ndarray | None:
    """(m, pool_size) bool: the pool servers on which each job, run now in FAST mode, finishes by its
    deadline; None when that leaves every job every server (no runtime model, no deadlines). A job no
    server can finish in time keeps them all: it will be late wherever it goes, and its explanation says so."""
    room = deadline_min[rows]
    if runtime_min is None or np.isnan(room).all():
        return None
    fits = runtime_min[np.ix_(rows, pool)] <= room[:, None] + 1e-9  # NaN (no deadline) compares False
    fits[np.isnan(room) | ~fits.any(axis=1)] = True
    return None if fits.all() else fits


def _rival(quality: np.ndarray, actions: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
    """(m,) pool index of the server each choice is explained against: the best-scored other server the job
    could take (lowest index on ties), so the chosen one's lead or deficit in quality is what the agent's
    values have to account for; -1 when the job could take no other."""
    rows = np.arange(len(actions))
    others = np.ones(quality.shape, bool) if allowed is None else allowed.copy()
    others[rows, actions] = False
    best = np.where(others, quality, -np.inf).argmax(axis=1)
    return np.where(others.any(axis=1), best, -1)


def _weight_gap(weights: np.ndarray, actions: np.ndarray, versus: np.ndarray) -> np.ndarray:
    """(m, pool_size + 4) W[chosen] - W[rival] of the weights each decision used: times the job's features phi
    it splits Q(chosen) - Q(rival) into one term per feature; zeros without a rival."""
    rows = np.arange(len(actions))
    gap = weights[rows, actions] - weights[rows, np.maximum(versus, 0)]
    gap[versus < 0] = 0.0
    return gap


def _layout(gap: np.ndarray, width: int) -> np.ndarray:
    """The record's layout of per-feature columns: load terms in the first pool_size columns (NaN up to
    `width` in smaller pools), the four job and grid terms in the last four."""
    size = gap.shape[1] - 4
    out = np.full((len(gap), width + 4), np.nan)
    out[:, :size] = gap[:, :size]
    out[:, width:] = gap[:, size:]
    return out


def _cause(
    scores: PoolScores,
    weights: np.ndarray,
    actions: np.ndarray,
    versus: np.ndarray,
    gap: np.ndarray,
    static: np.ndarray,
    first_loads: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the explanation of each choice rests on (scheduler.service.causes): the quality gap to the rival,
    the metric adding most to it, and the two features whose terms (W[chosen] - W[rival]) x phi favoured the
    chosen server most (phi rebuilt from the loads each job saw, as the agent built it)."""
    m, size = len(actions), len(first_loads)
    rows, other = np.arange(m), np.maximum(versus, 0)
    quality_gap = np.where(versus >= 0, scores.final[rows, actions] - scores.final[rows, other], 0.0)
    lead = (weights * (scores.parts[rows, :, actions] - scores.parts[rows, :, other])).argmax(axis=1)
    placed = np.zeros((m, size), np.int64)
    placed[rows, actions] = 1
    before = first_loads + np.cumsum(placed, axis=0) - placed
    phi = np.hstack((before / np.maximum(before.max(axis=1, keepdims=True), 1), static))
    terms = gap * phi
    order = np.argsort(-terms, axis=1, kind="stable")[:, :2]
    named = np.where(np.take_along_axis(terms, order, axis=1) > 0, order, -1)
    return quality_gap, lead.astype(np.int8), named.astype(np.int8)


def _chosen(table: np.ndarray | None, chosen: np.ndarray) -> np.ndarray:
    return np.full(len(chosen), np.nan) if table is None else table[np.arange(len(chosen)), chosen]


def step_at(record: BatchRecord, start: int, stop: int) -> StepMetrics:
    """The per-server figures of record rows start..stop-1, recomputed (exactly) by its scenario."""
    t = np.arange(record.pointer + start, record.pointer + stop, dtype=np.int64)
    return record.scenario.evaluate(t, record.jobs.take(slice(start, stop)))
