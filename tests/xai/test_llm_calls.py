"""How many provider calls a batch's LLM refinements make (docs/placement.md): one per distinct shape of cause,
counted at a Groq stand-in through the real groq SDK, over real 1,000-job reference and grid batches. The shapes
are re-derived here from the template texts themselves (each job's cause sentence with its figures taken out),
not from the explainer's key, and every job's text is its shape's answer followed by its own carbon sentence."""

from __future__ import annotations

import re

import numpy as np
import pytest

from scheduler.service.facts import decision_facts
from scheduler.service.sessions import Session
from tests.scheduler.service.test_explanation_truth import grid_jobs, reference_jobs
from xai.explainer import build_explainer
from xai.templates import placement_text, setting_text

from .groq_standin import GroqStandIn

N = 1000
FIGURE = re.compile(r"(?<!Server )(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?")
OPENING = re.compile(r"^Job \d+ has .*?the least in the fleet(?: on Server \d+)?\.")  # the pool and its energy: the same words for a tier


def answer_for(prompt: str) -> str:
    """A figure-free rewrite naming the chosen server, as the prompt asks."""
    chosen = prompt.split("Chosen server: ")[1].split(" (")[0].split(".")[0]
    return f"{chosen} was chosen, for the cause the draft gives."


def shape_of_text(placement: str) -> str:
    """The cause part of a placement text with its figures replaced, "1 job" read as "# jobs"."""
    cause = OPENING.sub("", placement)
    return FIGURE.sub("#", cause.replace(" 1 job ", " # jobs ").replace(" 1 job)", " # jobs)"))


@pytest.mark.parametrize("scenario", ["reference", "grid"])
def test_a_batch_makes_one_call_per_distinct_cause(grid_world, scenario: str) -> None:
    rng = np.random.default_rng(5)
    session = Session("calls", 5, grid_world, 0.0, 0.0, scenario=scenario)
    record = session.run(grid_jobs(rng, N) if scenario == "grid" else reference_jobs(rng, N))
    facts = decision_facts(grid_world, record, 0, N)
    with GroqStandIn(reply=answer_for) as standin:
        explainer = build_explainer("test-key", "llama-3.3-70b-versatile", 5.0, standin.base_url, 4096)
        results = [explainer.refine(f) for f in facts]
        calls = standin.requests
    shapes = {(f.priority, f.chosen, shape_of_text(placement_text(f))) for f in facts}
    assert calls == len(shapes), (calls, len(shapes))
    assert calls < N / 10  # the cache is what bounds the calls: far fewer than one per job
    assert sum(r.source == "llm" for r in results) == calls and sum(r.source == "llm-cache" for r in results) == N - calls
    for f, r in zip(facts, results):
        assert r.text == f"{f.chosen} was chosen, for the cause the draft gives.{setting_text(f)}"
    print(f"{scenario}: {N} jobs, {calls} provider calls")  # the figure docs/placement.md quotes (pytest -s)
