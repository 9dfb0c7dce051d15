"""The task and workflow state machines: every legal move allowed, every other one refused."""

import itertools

import pytest

from scheduler.core.errors import IllegalTransition
from scheduler.core.states import (
    TASK_FINAL,
    TASK_INITIAL,
    TASK_STATES,
    TASK_TRANSITIONS,
    WORKFLOW_FINAL,
    WORKFLOW_STATES,
    WORKFLOW_TRANSITIONS,
    TaskState,
    check_task_transition,
    check_workflow_transition,
)

LEGAL = {
    ("pending", "queued"), ("pending", "deferred"), ("pending", "upstream_failed"), ("pending", "cancelled"),
    ("deferred", "queued"), ("deferred", "cancelled"),
    ("queued", "running"), ("queued", "cancelled"),
    ("running", "succeeded"), ("running", "retrying"), ("running", "dead"), ("running", "queued"), ("running", "cancelled"),
    ("retrying", "queued"), ("retrying", "cancelled"),
    ("succeeded", "rolled_back"),
    ("dead", "queued"),
    ("upstream_failed", "pending"),
}  # fmt: skip
"""Written out by hand, not read from the table: a change to the table must change this too."""


def test_the_vocabulary_is_the_issue_s() -> None:
    assert TASK_STATES == (
        "pending", "deferred", "queued", "running", "retrying", "succeeded", "dead", "cancelled", "upstream_failed", "rolled_back",
    )  # fmt: skip
    assert WORKFLOW_STATES == ("running", "succeeded", "failed", "cancelled")
    assert TaskState.UPSTREAM_FAILED == "upstream_failed" and set(TASK_TRANSITIONS) == set(TASK_STATES)
    assert {"succeeded", "dead", "cancelled", "upstream_failed", "rolled_back"} == TASK_FINAL
    assert {"succeeded", "failed", "cancelled"} == WORKFLOW_FINAL


@pytest.mark.parametrize("source, target", sorted(LEGAL))
def test_every_legal_task_transition_is_allowed(source: str, target: str) -> None:
    check_task_transition(source, target)


@pytest.mark.parametrize("source, target", sorted(set(itertools.product(TASK_STATES, TASK_STATES)) - LEGAL))
def test_every_other_task_transition_is_refused(source: str, target: str) -> None:
    with pytest.raises(IllegalTransition, match=f"from {source} to {target}"):
        check_task_transition(source, target)


@pytest.mark.parametrize("target", TASK_STATES)
def test_a_new_task_starts_pending_deferred_or_queued(target: str) -> None:
    if target in TASK_INITIAL:
        check_task_transition(None, target)
    else:
        with pytest.raises(IllegalTransition, match="from nothing"):
            check_task_transition(None, target)


def test_final_states_leave_only_by_hand_or_by_rollback() -> None:
    exits = {(s, t) for s in TASK_FINAL for t in TASK_TRANSITIONS[s]}
    assert exits == {("succeeded", "rolled_back"), ("dead", "queued"), ("upstream_failed", "pending")}


WORKFLOW_LEGAL = {("running", "succeeded"), ("running", "failed"), ("running", "cancelled"), ("failed", "running")}


@pytest.mark.parametrize("source, target", sorted(itertools.product(WORKFLOW_STATES, WORKFLOW_STATES)))
def test_workflow_transitions(source: str, target: str) -> None:
    assert set(WORKFLOW_TRANSITIONS) == set(WORKFLOW_STATES)
    if (source, target) in WORKFLOW_LEGAL:
        check_workflow_transition(source, target)
    else:
        with pytest.raises(IllegalTransition):
            check_workflow_transition(source, target)
