"""TaskPilot's exception family, in one place (as httpx keeps its own in `_exceptions.py`).

    TaskPilotError
    ├── DatasetError            a data file is missing or malformed (start-up, studies)
    │   └── ScenarioUnavailable a scenario's data could not be built
    ├── InputError              input refused: `errors` lists the first {index|row, field, message, hint?}; `omitted` counts the rest
    │   ├── JobValidationError  jobs of a batch or CSV
    │   ├── PlanInputError      the planner's jobs (defined in scheduler.timeshift.inputs, beside its messages)
    │   └── WorkflowInputError  a workflow's tasks; each problem names the task (`task`, `index`) and `field`
    ├── SeriesError             a carbon series or forecast is malformed (also a ValueError)
    ├── SessionError            a session cannot serve the request; `status` is the HTTP status
    │   ├── BadSessionId, SessionFull (413), ClientFull (413)
    │   └── SessionsFull, ServerFull (503)
    ├── EvaluationCancelled     a simulation's caller cancelled it between two chunks
    ├── WorkflowError           a workflow or task cannot do what was asked; `status` is the HTTP status
    │   ├── WorkflowNotFound (404), WorkflowConflict (409)
    │   └── WorkflowTooLarge (413)
    └── IllegalTransition       a state change the table in scheduler.core.states does not allow (a bug, never input)

The web layer maps each to one HTTP answer (web/errors.py); none of them is ever a 500.
"""

import reprlib
from collections.abc import Iterable
from itertools import islice
from typing import Any


class TaskPilotError(Exception):
    """Base of every error TaskPilot raises on purpose."""


class DatasetError(TaskPilotError, RuntimeError):
    """A data file is missing or malformed; the message names the file and the problem."""


class ScenarioUnavailable(DatasetError):
    """A scenario's data could not be built; the message says which file or setting and why."""


MAX_ERRORS = 100
"""Problems an InputError lists unless told otherwise (the API's TASKPILOT_MAX_ERRORS); the rest are counted."""
ECHO_CHARS = 40
"""An input value quoted in a message is cut to this many characters: a body may hold 8 MB strings."""


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 2, 3, 3, 3, 3
_REPR.maxstring = _REPR.maxother = ECHO_CHARS


def quote(value: Any, limit: int = ECHO_CHARS) -> str:
    """`value` as a message quotes it: its repr, cut to `limit` characters (the cut marked with ...). A
    container is summarised by reprlib, not repr'd whole (repr of a million-item list is megabytes)."""
    try:
        text = repr(value[:limit]) if isinstance(value, str) else _REPR.repr(value)
    except ValueError:  # an integer past Python's 4,300-digit str() limit
        return f"<a {type(value).__name__} too long to quote>"
    return text if len(text) <= limit and (not isinstance(value, str) or len(value) <= limit) else text[: limit - 3] + "..."


def cut(text: str, limit: int = ECHO_CHARS) -> str:
    """A name from the input (an unknown key or column) as a message shows it: cut to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class InputError(TaskPilotError, ValueError):
    """Input was rejected; `errors` holds {index|row, field, message, hint?} for the first problems found.

    `omitted` counts the problems found but not listed. When checking stopped early at the cap (a body
    with a million bad fields is not checked to the end), `exact` is False and `omitted` is the
    validator's own count, which can differ from the listed problems' way of counting."""

    items_at: tuple[str, ...] | None = ()
    """Where the list that a problem's `index` counts in is, from the input's root (the API's `loc`):
    () when the input is that list, None when the input is one item (then `index` is 0 and says nothing)."""

    def __init__(self, errors: list[dict[str, Any]], message: str | None = None, *, omitted: int = 0, exact: bool = True):
        super().__init__(message or f"{len(errors) + omitted} invalid field(s)")
        self.errors = errors
        self.omitted = omitted
        self.exact = exact


class Problems:
    """The problems found in one input, gathered from several checks. Each check's problems come in the
    order of where they are (index or row) and only its first `limit` are kept, the rest counted: together
    they hold the input's first `limit` problems in order, whatever the check that found each."""

    def __init__(self, limit: int = MAX_ERRORS):
        self.limit = max(1, limit)
        self.items: list[dict[str, Any]] = []
        self.more = 0
        self.exact = True

    def add(self, found: Iterable[dict[str, Any]]) -> None:
        """One check's problems, in order: the first `limit` are kept, the others only counted."""
        rest = iter(found)
        self.items += islice(rest, self.limit)
        self.more += sum(1 for _ in rest)

    def count(self, n: int) -> None:
        """`n` more problems, counted by a validator that stopped listing them: about, not exactly."""
        self.more += max(0, n)
        self.exact = False

    @property
    def full(self) -> bool:
        """As many problems as will be listed: a further check can stop at its first."""
        return len(self.items) >= self.limit

    def __bool__(self) -> bool:
        return bool(self.items) or self.more > 0

    def error(self, kind: type["InputError"], where: str = "index") -> "InputError":
        """`kind` holding the first `limit` problems in the order of `where` (problems of the whole input,
        `where` None, first), and the count of the rest."""
        ordered = sorted(self.items, key=lambda e: -1 if e.get(where) is None else e[where])
        return kind(ordered[: self.limit], omitted=self.more + max(0, len(ordered) - self.limit), exact=self.exact)


class JobValidationError(InputError):
    """A batch of jobs was rejected, whole."""


class SeriesError(TaskPilotError, ValueError):
    """A carbon series or forecast file (or list) is malformed; the message names where."""


class SessionError(TaskPilotError):
    """Base of the session family; `status` is the HTTP status the API answers with."""

    status = 400


class BadSessionId(SessionError):
    status = 400


class SessionsFull(SessionError):
    status = 503


class SessionFull(SessionError):
    """The session holds max_session_jobs jobs; it must be reset."""

    status = 413


class ClientFull(SessionError):
    """The sessions one client address started hold max_client_jobs jobs: its share of max_total_jobs."""

    status = 413


class ServerFull(SessionError):
    """All sessions together hold max_total_jobs jobs: the process's memory bound."""

    status = 503


class EvaluationCancelled(TaskPilotError):
    """The caller's cancel() returned True between two chunks of jobs."""


class WorkflowInputError(InputError):
    """A workflow was rejected, whole: `errors` holds {task, index, field, message} (task: the task's id as
    sent, or None for the workflow's own fields), and nothing was stored."""

    items_at = ("tasks",)


class WorkflowError(TaskPilotError):
    """Base of the workflow family; `status` is the HTTP status the API answers with."""

    status = 400


class WorkflowNotFound(WorkflowError):
    status = 404


class WorkflowConflict(WorkflowError):
    """The workflow or task is not in a state that allows it (cancel a finished workflow, retry a live task)."""

    status = 409


class WorkflowTooLarge(WorkflowError):
    """More tasks, or larger params, than the configured limits."""

    status = 413


class IllegalTransition(TaskPilotError):
    """A task or workflow was asked to move between two states the state machine does not connect."""
