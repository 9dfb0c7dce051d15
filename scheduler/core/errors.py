"""TaskPilot's exception family, in one place (as httpx keeps its own in `_exceptions.py`).

    TaskPilotError
    ├── DatasetError            a data file is missing or malformed (start-up, studies)
    │   └── ScenarioUnavailable a scenario's data could not be built
    ├── InputError              a request's input was refused; `errors` lists {index|row, field, message}
    │   ├── JobValidationError  jobs of a batch or CSV
    │   ├── PlanInputError      the planner's jobs (defined in scheduler.timeshift.inputs, beside its messages)
    │   └── WorkflowInputError  a workflow's tasks; each problem names the task (`task`, `index`) and `field`
    ├── SeriesError             a carbon series or forecast is malformed (also a ValueError)
    ├── SessionError            a session cannot serve the request; `status` is the HTTP status
    │   ├── BadSessionId, SessionFull (413)
    │   └── SessionsFull, ServerFull (503)
    ├── EvaluationCancelled     a simulation's caller cancelled it between two chunks
    ├── WorkflowError           a workflow or task cannot do what was asked; `status` is the HTTP status
    │   ├── WorkflowNotFound (404), WorkflowConflict (409)
    │   └── WorkflowTooLarge (413)
    └── IllegalTransition       a state change the table in scheduler.core.states does not allow (a bug, never input)

The web layer maps each to one HTTP answer (web/errors.py); none of them is ever a 500.
"""

from typing import Any


class TaskPilotError(Exception):
    """Base of every error TaskPilot raises on purpose."""


class DatasetError(TaskPilotError, RuntimeError):
    """A data file is missing or malformed; the message names the file and the problem."""


class ScenarioUnavailable(DatasetError):
    """A scenario's data could not be built; the message says which file or setting and why."""


class InputError(TaskPilotError, ValueError):
    """Input was rejected; `errors` holds {index|row, field, message} for every problem."""

    def __init__(self, errors: list[dict[str, Any]], message: str | None = None):
        super().__init__(message or f"{len(errors)} invalid field(s)")
        self.errors = errors


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


class ServerFull(SessionError):
    """All sessions together hold max_total_jobs jobs: the process's memory bound."""

    status = 503


class EvaluationCancelled(TaskPilotError):
    """The caller's cancel() returned True between two chunks of jobs."""


class WorkflowInputError(InputError):
    """A workflow was rejected, whole: `errors` holds {task, index, field, message} (task: the task's id as
    sent, or None for the workflow's own fields), and nothing was stored."""


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
