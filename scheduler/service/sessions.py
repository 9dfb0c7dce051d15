"""Sessions: each visitor's queue, history, loads, series pointer, agents and random streams.

A session's randomness comes from one integer seed: the client's (`GET /session?seed=N`) or one derived
from the root seed and the session id, so the same seed and the same requests give the same decisions
in any process. `reset()` rebuilds the session from that seed. Each session has its own lock; the store
has one more for its map. Idle sessions expire after the TTL. At the cap the least recently used session
that is idle and holds no jobs makes room: a session holding jobs lives out its TTL, so a flood of new
(empty) sessions cannot push a visitor's work out; when none can go, a new session is refused (503).

Each session remembers its owner, the client (address) that started it: the jobs of one owner's sessions
are bounded together (max_client_jobs), so one client cannot fill the process's total on its own.
"""

import bisect
import hashlib
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from scheduler.core.errors import BadSessionId, ClientFull, ServerFull, SessionFull, SessionsFull
from scheduler.core.job_batch import JobBatch, concat
from scheduler.core.states import DEFER
from scheduler.placement.engine import BatchRecord, EngineState, World, run_batch

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
Admit = Callable[[], None]
"""Called before a session is created; raises to refuse it."""
EXPIRED_MEMORY = 10_000
"""How many expired ids are remembered, so a returning client is told its session expired."""


def derive_seed(root_seed: int, session_id: str) -> int:
    """A stable 63-bit seed from the root seed and the id (not Python's salted hash())."""
    digest = hashlib.sha256(f"{root_seed}:{session_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass
class Session:
    id: str
    seed: int
    world: World
    created: float
    last_used: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    queue: list[tuple[np.ndarray, JobBatch]] = field(default_factory=list)
    history: list[BatchRecord] = field(default_factory=list)
    next_job_id: int = 0
    scenario: str = "reference"
    owner: str = ""
    """The client that started the session (web.ratelimit.client_key); its jobs count toward that client's share."""
    engine: EngineState = field(init=False)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the state at creation: empty queue and history, zero loads, pointer 0, the
        pretrained agents and the random streams from the session's seed."""
        runtime = self.world.runtime(self.scenario)
        # The forecast stream comes after the tier streams, so adding it left their draws unchanged.
        *streams, forecast = np.random.SeedSequence(self.seed).spawn(len(runtime.pretrained) + 1)
        self.engine = EngineState(
            loads=np.zeros(self.world.fleet.n_servers, np.int64),
            pointer=0,
            agents=[a.copy() for a in runtime.pretrained],
            rngs=[np.random.Generator(np.random.PCG64(s)) for s in streams],
            scenario=runtime.scenario,
            forecast_rng=np.random.Generator(np.random.PCG64(forecast)),
            dqn=runtime.dqn,
        )
        self.queue = []
        self.history = []
        self.next_job_id = 0

    def enqueue(self, jobs: JobBatch) -> np.ndarray:
        """Queue `jobs`, returning their new ids (monotonic per session, from 1). A job is submitted at the
        clock it will be decided at (the pointer plus the jobs queued before it), and deadlines given as
        times are read on that clock: one that leaves too little time is a JobValidationError, and then
        nothing is queued."""
        jobs = self.engine.scenario.resolve_deadlines(jobs, self.engine.pointer + self.queued)
        ids = np.arange(self.next_job_id + 1, self.next_job_id + 1 + len(jobs), dtype=np.int64)
        self.next_job_id += len(jobs)
        if len(jobs):
            self.queue.append((ids, jobs))
        return ids

    def check_room(self, new_jobs: int, max_jobs: int) -> None:
        """Raise SessionFull when new_jobs more would exceed max_jobs (queued plus scheduled)."""
        held = self.queued + self.scheduled
        if held + new_jobs > max_jobs:
            raise SessionFull(
                f"this session holds {held} jobs and may hold {max_jobs} (TASKPILOT_MAX_SESSION_JOBS); "
                f"{new_jobs} more do not fit: POST /reset or use a new session"
            )

    def run(self, extra: JobBatch | None = None) -> BatchRecord:
        """Schedule the queue, plus `extra` jobs appended to it, in submission order."""
        if extra is not None:
            self.enqueue(extra)
        ids = np.concatenate([q[0] for q in self.queue]) if self.queue else np.empty(0, np.int64)
        jobs = concat([q[1] for q in self.queue])
        record = run_batch(self.world, self.engine, ids, jobs)
        self.queue = []
        if len(record):
            self.history.append(record)
        return record

    def queue_page(self, offset: int, limit: int) -> tuple[np.ndarray, JobBatch]:
        """Ids and jobs of queue positions offset .. offset + limit - 1, in submission order."""
        ids, jobs, start = [], [], 0
        for part_ids, part in self.queue:
            lo, hi = max(offset - start, 0), min(offset + limit - start, len(part_ids))
            if lo < hi:
                ids.append(part_ids[lo:hi])
                jobs.append(part.take(slice(lo, hi)))
            start += len(part_ids)
        return (np.concatenate(ids) if ids else np.empty(0, np.int64)), concat(jobs)

    @property
    def clock_h(self) -> float | None:
        """The session's clock (grid hours) now: where the next job will be decided; None without a clock."""
        hour_at = getattr(self.engine.scenario, "hour_at", None)
        return None if hour_at is None else float(hour_at(self.engine.pointer))

    def deferred_page(self, offset: int, limit: int) -> tuple[int, list[tuple[BatchRecord, int]]]:
        """Jobs deferred to a start still ahead of the session's clock, by planned start: their count
        and (record, row) of positions offset .. offset + limit - 1."""
        clock = self.clock_h
        if clock is None:
            return 0, []
        waiting = [
            (float(r.timing.start_h[row]), int(r.job_ids[row]), r, int(row))
            for r in self.history
            if r.timing is not None
            for row in np.flatnonzero((r.timing.action == DEFER) & (r.timing.start_h > clock))
        ]
        waiting.sort(key=lambda w: (w[0], w[1]))
        return len(waiting), [(r, row) for _, _, r, row in waiting[offset : offset + limit]]

    @property
    def holds_jobs(self) -> bool:
        """Queued or scheduled jobs: such a session is never evicted to make room for another."""
        return bool(self.queue or self.history)

    @property
    def queued(self) -> int:
        return sum(len(q[0]) for q in self.queue)

    @property
    def scheduled(self) -> int:
        return sum(len(r) for r in self.history)

    def find(self, job_id: int) -> tuple[BatchRecord, int] | None:
        """The record holding a scheduled job and its row, by binary search over the records."""
        firsts = [int(r.job_ids[0]) for r in self.history]
        i = bisect.bisect_right(firsts, job_id) - 1
        if i < 0:
            return None
        record = self.history[i]
        row = int(np.searchsorted(record.job_ids, job_id))
        return (record, row) if row < len(record) and record.job_ids[row] == job_id else None


class SessionStore:
    """Live sessions by id, with TTL, a cap and LRU eviction of idle sessions."""

    def __init__(
        self,
        world: World,
        root_seed: int,
        ttl_s: float,
        max_sessions: int,
        max_session_jobs: int = 200_000,
        max_total_jobs: int = 2_000_000,
        clock: Callable[[], float] = time.monotonic,
        default_scenario: str = "reference",
        max_client_jobs: int | None = None,
    ):
        self._world = world
        self._default_scenario = default_scenario
        self._root_seed = root_seed
        self._ttl_s = ttl_s
        self._max = max_sessions
        self._max_session_jobs = max_session_jobs
        self._max_total_jobs = max_total_jobs
        self._max_client_jobs = max_client_jobs
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._expired: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def check_room(self, session: Session, new_jobs: int) -> None:
        """Raise when `new_jobs` more would overfill the session (SessionFull), its owner's share
        (ClientFull) or the process (ServerFull). The totals are read without the store's lock: soft
        bounds, which two sessions adding at the same moment may pass by one batch."""
        session.check_room(new_jobs, self._max_session_jobs)
        sessions = list(self._sessions.values())
        if self._max_client_jobs is not None:
            mine = sum(s.queued + s.scheduled for s in sessions if s.owner == session.owner and s is not session)
            mine += session.queued + session.scheduled  # counted even if it was dropped from the map meanwhile
            if mine + new_jobs > self._max_client_jobs:
                raise ClientFull(
                    f"the sessions your address started hold {mine} jobs and may hold {self._max_client_jobs} together "
                    f"(TASKPILOT_MAX_CLIENT_JOBS); {new_jobs} more do not fit: POST /reset in a session you no longer need"
                )
        held = sum(s.queued + s.scheduled for s in sessions)
        if held + new_jobs > self._max_total_jobs:
            raise ServerFull(
                f"the server holds {held} jobs across all sessions and may hold {self._max_total_jobs} "
                f"(TASKPILOT_MAX_TOTAL_JOBS); try again after idle sessions expire, or reset yours"
            )

    def create(self, seed: int | None = None, scenario: str | None = None, owner: str = "", admit: Admit | None = None) -> Session:
        """A new session with an unguessable id; `seed` replaces the derived one, `scenario` the default.
        `admit()` is called first and may raise to refuse it (the web layer's rate limit on new sessions)."""
        session_id = str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
        self._world.runtime(scenario or self._default_scenario)  # build it (or fail) outside the store's lock
        with self._lock:
            return self._add(session_id, seed, scenario, owner, admit)

    def get(self, session_id: str, owner: str = "", admit: Admit | None = None) -> tuple[Session, str | None]:
        """The session with this id, created for `owner` when unknown (after `admit()`, as in create); the
        notice says when it had expired."""
        if not SESSION_ID.match(session_id):
            raise BadSessionId(f"X-Session-ID must be 1-64 characters of A-Z a-z 0-9 _ -; got {session_id[:80]!r}")
        with self._lock:
            now = self._clock()
            session = self._sessions.get(session_id)
            if session is not None and now - session.last_used > self._ttl_s and not session.lock.locked():
                self._drop(session_id)
                session = None
            if session is not None:
                session.last_used = now
                self._sessions.move_to_end(session_id)
                return session, None
            notice = None
            if session_id in self._expired:
                del self._expired[session_id]
                notice = f"session {session_id} had expired after {self._ttl_s:g} s idle or was evicted; this is a new, empty session"
            return self._add(session_id, None, None, owner, admit), notice

    def _add(self, session_id: str, seed: int | None, scenario: str | None, owner: str, admit: Admit | None) -> Session:
        if admit is not None:
            admit()
        now = self._clock()
        self._purge(now)
        if len(self._sessions) >= self._max:
            # Least recently used first; one holding jobs, or in use, stays until its TTL.
            victim = next((k for k, s in self._sessions.items() if not s.holds_jobs and not s.lock.locked()), None)
            if victim is None:
                raise SessionsFull(
                    f"all {self._max} sessions are busy or hold jobs (TASKPILOT_MAX_SESSIONS); a new session can start when "
                    f"one is reset or has been idle for {self._ttl_s:g} s (TASKPILOT_SESSION_TTL_S): try again later"
                )
            self._drop(victim)
        seed = derive_seed(self._root_seed, session_id) if seed is None else seed
        scenario = scenario or self._default_scenario
        session = Session(session_id, seed, self._world, created=now, last_used=now, scenario=scenario, owner=owner)
        self._sessions[session_id] = session
        return session

    def _purge(self, now: float) -> None:
        stale = [k for k, s in self._sessions.items() if now - s.last_used > self._ttl_s and not s.lock.locked()]
        for k in stale:
            self._drop(k)

    def _drop(self, session_id: str) -> None:
        del self._sessions[session_id]
        self._expired[session_id] = None
        if len(self._expired) > EXPIRED_MEMORY:
            self._expired.popitem(last=False)
