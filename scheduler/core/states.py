"""Every name TaskPilot gives a class of job or decision, and the int8 codes that index them.

The one vocabulary of Python, the API and the page (web/routes/assets.py serves these tuples to the
page as an ES module), as Celery keeps every state name in `celery/states.py`. A code is the position
of its name in the tuple: records hold codes, answers hold names. Task and workflow states (the
executor's) are strings, with the table of legal moves between them.
"""

from enum import StrEnum

from scheduler.core.errors import IllegalTransition

TIERS: tuple[str, str, str] = ("green", "balanced", "performance")
"""Tier names in pool order: green gets the smallest servers, performance the largest."""

LATENCIES: tuple[str, str, str] = ("low", "medium", "high")

URGENCIES: tuple[str, str, str] = ("critical", "normal", "flexible")
CRITICAL, NORMAL, FLEXIBLE = 0, 1, 2

BANDS: tuple[str, str, str] = ("low", "medium", "high")
"""Carbon bands, on whichever scale a decision uses (scheduler.core.bands)."""
LOW, MEDIUM, HIGH = 0, 1, 2

SCENARIOS: tuple[str, str] = ("reference", "grid")
"""Where a session's energy and carbon figures come from (scheduler/placement/scenario.py); read in any case (folded)."""


def folded(name: object) -> object:
    """A name as people type it (" Grid") in the vocabulary's spelling ("grid"); anything else as it is, for
    the name's own check to refuse."""
    return name.strip().lower() if isinstance(name, str) else name


MODES: tuple[str, str] = ("fast", "eco")
"""Execution modes; their physics is scheduler.core.energy.MODES, in the same order."""

ACTIONS: tuple[str, str, str] = ("run now, FAST", "run now, ECO", "defer")
RUN_FAST, RUN_ECO, DEFER = 0, 1, 2

STATUSES: tuple[str, str, str] = ("scheduled", "deferred", "released")
"""A decision's status: placed to run now; deferred to a later start; deferred and its start reached."""
SCHEDULED, DEFERRED, RELEASED = 0, 1, 2

# Why the when-policy (scheduler.timeshift.policy) took its action; xai.when says each in words.
REASON_CRITICAL, REASON_LOW, REASON_HIGH_ECO, REASON_ECO_LATE, REASON_NOT_FLEXIBLE = range(5)
REASON_NO_ROOM, REASON_DEFERRED, REASON_NOW_GREENEST, REASON_TOO_SHORT = range(5, 9)

# --- running tasks (scheduler.execution) --------------------------------------------------------------
# Strings, not codes: the store keeps them as text and every answer says them as they are.


class TaskState(StrEnum):
    """A task's life: where it waits, runs and ends (like Celery's PENDING .. SUCCESS, plus a DAG's own)."""

    PENDING = "pending"  # waiting for its dependencies
    DEFERRED = "deferred"  # dependencies met, waiting for its greener start (the when-policy's)
    QUEUED = "queued"  # ready: waiting for a worker of its pool
    RUNNING = "running"  # an attempt is running
    RETRYING = "retrying"  # an attempt failed: waiting out the backoff before the next
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # out of attempts, or an error that is not retried: in the dead-letter list
    CANCELLED = "cancelled"
    UPSTREAM_FAILED = "upstream_failed"  # a parent it needs to succeed will never succeed
    ROLLED_BACK = "rolled_back"  # succeeded, then undone by its compensation (a saga's rollback)


class WorkflowState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TASK_STATES: tuple[str, ...] = tuple(s.value for s in TaskState)
WORKFLOW_STATES: tuple[str, ...] = tuple(s.value for s in WorkflowState)
ATTEMPT_OUTCOMES: tuple[str, ...] = ("succeeded", "failed", "timed_out", "interrupted", "cancelled")
"""How an attempt ended (GET /workflows/{id}'s attempts[].outcome; the page's Gantt colours its bars by it)."""

TASK_FINAL: frozenset[str] = frozenset({"succeeded", "dead", "cancelled", "upstream_failed", "rolled_back"})
"""States nothing moves a task out of by itself (Celery's READY_STATES): only a person (retry, which revives a
dead task and its upstream_failed children) or a saga's rollback (succeeded -> rolled_back) does."""
TASK_WAITING: frozenset[str] = frozenset({"pending", "deferred", "queued", "retrying"})
TASK_INITIAL: frozenset[str] = frozenset({"pending", "deferred", "queued"})
"""Where a task starts: pending with dependencies; deferred or queued without."""
WORKFLOW_FINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})

TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"queued", "deferred", "upstream_failed", "cancelled"}),
    "deferred": frozenset({"queued", "cancelled"}),
    "queued": frozenset({"running", "cancelled"}),
    # running -> queued: the attempt was interrupted (its process died with the service, or a shutdown's grace ran out)
    "running": frozenset({"succeeded", "retrying", "dead", "queued", "cancelled"}),
    "retrying": frozenset({"queued", "cancelled"}),
    "succeeded": frozenset({"rolled_back"}),
    "dead": frozenset({"queued"}),  # retried by hand (POST /jobs/{id}/retry)
    "upstream_failed": frozenset({"pending"}),  # its dead parent was retried by hand
    "cancelled": frozenset(),
    "rolled_back": frozenset(),
}
"""Every legal move; any other is refused (scheduler.core.errors.IllegalTransition)."""
WORKFLOW_TRANSITIONS: dict[str, frozenset[str]] = {
    "running": frozenset({"succeeded", "failed", "cancelled"}),
    "failed": frozenset({"running"}),  # a dead task retried by hand
    "succeeded": frozenset(),
    "cancelled": frozenset(),
}


def check_task_transition(source: str | None, target: str) -> None:
    """Raise IllegalTransition unless a task may move from `source` to `target` (None: a new task)."""
    allowed = TASK_INITIAL if source is None else TASK_TRANSITIONS.get(source, frozenset())
    if target not in allowed:
        raise IllegalTransition(f"a task may not move from {source or 'nothing'} to {target}")


def check_workflow_transition(source: str, target: str) -> None:
    if target not in WORKFLOW_TRANSITIONS.get(source, frozenset()):
        raise IllegalTransition(f"a workflow may not move from {source} to {target}")
