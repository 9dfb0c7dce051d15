import logging
import threading
from collections.abc import Iterator

import pytest

from xai.explainer import NO_KEY_NOTE, REFUSED_NOTE, Explainer, Explanation, build_explainer
from xai.llm import GroqClient, LLMError
from xai.templates import DecisionFacts, placement_text, render, setting_text

from .groq_standin import GroqStandIn
from .test_templates import BASE

MODEL = "llama-3.3-70b-versatile"
TIMEOUT_S = 0.5


@pytest.fixture
def standin() -> Iterator[GroqStandIn]:
    with GroqStandIn(reply="Server 2 was picked because it is the cleanest.") as server:
        yield server


def groq_explainer(standin: GroqStandIn) -> Explainer:
    return build_explainer("test-key", MODEL, TIMEOUT_S, standin.base_url, 256)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def chosen_in(prompt: str) -> str:
    """The chosen server a prompt names ("Chosen server: Server 2")."""
    return prompt.split("Chosen server: ")[1].split(" (")[0].split(".")[0]


class FakeLLM:
    """An LLMClient whose N-th answer is "<chosen server> got answer <N in words>", or that fails with `error`."""

    def __init__(self, error: str | None = None) -> None:
        self.error = error
        self.calls = 0

    def complete(self, prompt: str) -> str:
        self.calls += 1
        if self.error is not None:
            raise LLMError(self.error)
        return f"{chosen_in(prompt)} got answer {WORDS[self.calls - 1]}"


def test_success_then_cache(standin: GroqStandIn) -> None:
    """The answer is the placement part; each job's own carbon sentence follows it, cached or not."""
    explainer = groq_explainer(standin)
    reply = "Server 2 was picked because it is the cleanest."
    assert explainer.refine(BASE) == Explanation(reply + setting_text(BASE), "llm")
    other = BASE._replace(job_id=8, carbon_factor=0.9, carbon_band="medium", energy_kwh=0.5)
    again = explainer.refine(other)
    assert again == Explanation(reply + setting_text(other), "llm-cache") and "factor 0.90" in again.text
    assert standin.requests == 1
    assert explainer.stats() == {"calls": 1, "hits": 1, "failures": 0, "cached": 1}
    body = standin.last_body
    assert body is not None and body["model"] == MODEL
    prompt = body["messages"][0]["content"]
    assert placement_text(BASE) in prompt and setting_text(BASE).strip() not in prompt


def test_an_answer_with_figures_is_set_aside_for_its_whole_shape(standin: GroqStandIn) -> None:
    """A figure in the answer is this job's only; the answer would be reused for others: template, and no second call."""
    standin.reply = "Server 2 was picked: its CO2 score of 1.00 beat Server 1's 0.30."
    explainer = groq_explainer(standin)
    for job_id in (7, 8, 9):
        facts = BASE._replace(job_id=job_id)
        assert explainer.refine(facts) == Explanation(render(facts), "template", REFUSED_NOTE)
    standin.reply = "The cleanest server won."  # names no server: it could not say which was chosen
    assert explainer.refine(BASE._replace(chosen="Server 3")).note == REFUSED_NOTE
    assert standin.requests == 2


def test_slow_llm_falls_back_to_template_in_time(standin: GroqStandIn) -> None:
    standin.mode = "slow"
    result = groq_explainer(standin).refine(BASE)  # the stand-in never answers: only the timeout can return
    assert result.source == "template" and result.text == render(BASE)
    assert result.note is not None and "timed out" in result.note


@pytest.mark.parametrize(
    ("mode", "note"),
    [("error500", "HTTP 500"), ("malformed", "malformed"), ("no-choices", "malformed")],
    ids=["error500", "not-json", "no-choices"],
)
def test_bad_llm_answers_fall_back_to_template(standin: GroqStandIn, mode: str, note: str) -> None:
    standin.mode = mode
    result = groq_explainer(standin).refine(BASE)
    assert result.source == "template" and result.text == render(BASE)
    assert result.note is not None and note in result.note


@pytest.mark.parametrize("key", [None, "", "   "], ids=["none", "empty", "blank"])
def test_no_key_uses_template_without_requests(standin: GroqStandIn, key: str | None) -> None:
    explainer = build_explainer(key, MODEL, TIMEOUT_S, standin.base_url, 256)
    assert explainer.refine(BASE) == Explanation(render(BASE), "template", NO_KEY_NOTE)
    assert standin.requests == 0


def test_a_cached_answer_is_only_reused_for_the_same_cause() -> None:
    """Same server and tier, but one choice was the agent's against a better-scored server and the other
    an exploration step: each gets its own answer, so no job is told another job's reason."""
    from .test_templates import AGENT

    explainer = Explainer(FakeLLM(), 16)
    explored = AGENT._replace(explored=True, cause=AGENT.cause._replace(kind="explored"))
    texts = [explainer.refine(f).text for f in (AGENT, explored, AGENT._replace(job_id=9))]
    assert [t.split(" The carbon")[0] for t in texts] == ["Server 2 got answer one", "Server 2 got answer two", "Server 2 got answer one"]
    other_term = AGENT._replace(cause=AGENT.cause._replace(terms=(6, 2)))  # the same features, named in another order
    second_term = AGENT._replace(cause=AGENT.cause._replace(terms=(2, 5)))  # the same first feature, another second
    assert [explainer.refine(f).text.split(" The carbon")[0] for f in (other_term, second_term)] == [
        "Server 2 got answer three",
        "Server 2 got answer four",
    ]


def test_concurrent_misses_make_one_call(standin: GroqStandIn) -> None:
    standin.gate = threading.Event()  # the first call stays in flight until every caller has arrived
    explainer = groq_explainer(standin)
    arrived = threading.Semaphore(0)
    results: list[Explanation] = []

    def worker() -> None:
        arrived.release()
        results.append(explainer.refine(BASE))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for _ in threads:
        assert arrived.acquire(timeout=30), "a caller never started"
    standin.gate.set()
    for t in threads:
        t.join(timeout=10)
    assert standin.requests == 1
    assert sorted(r.source for r in results) == ["llm"] + ["llm-cache"] * 7
    assert {r.text for r in results} == {standin.reply + setting_text(BASE)}


def test_cool_down_after_failure(standin: GroqStandIn) -> None:
    clock = FakeClock()
    llm = GroqClient("test-key", MODEL, TIMEOUT_S, standin.base_url)
    explainer = Explainer(llm, cooldown_s=30.0, clock=clock)
    standin.mode = "error500"
    assert explainer.refine(BASE).note == "LLM error: HTTP 500"
    standin.mode = "ok"
    clock.now += 29.0
    paused = explainer.refine(BASE._replace(chosen="Server 3"))  # another key is paused too
    assert paused.source == "template" and paused.note is not None and "paused" in paused.note
    assert standin.requests == 1
    clock.now += 2.0
    assert explainer.refine(BASE).source == "llm"  # the failure was not cached
    assert standin.requests == 2
    assert explainer.stats()["failures"] == 1


def test_each_reason_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    explainer = Explainer(FakeLLM(error="LLM error: HTTP 503"), cooldown_s=0.0)
    with caplog.at_level(logging.WARNING, logger="xai.explainer"):
        for job_id in range(5):
            assert explainer.refine(BASE._replace(job_id=job_id)).note == "LLM error: HTTP 503"
    assert [r.getMessage() for r in caplog.records] == ["Using template explanations: LLM error: HTTP 503"]
    assert explainer.stats()["failures"] == 5


def test_cache_is_lru_bounded() -> None:
    llm = FakeLLM()
    explainer = Explainer(llm, cache_size=2)

    def at(server: str) -> DecisionFacts:
        return BASE._replace(chosen=server)

    assert [explainer.refine(at(s)).source for s in ("Server 1", "Server 2", "Server 1", "Server 3")] == ["llm", "llm", "llm-cache", "llm"]
    assert explainer.refine(at("Server 1")).source == "llm-cache"  # recently used, kept
    assert explainer.refine(at("Server 2")).source == "llm"  # least recently used, evicted
    assert llm.calls == 4 and explainer.stats()["cached"] == 2


def test_template_is_render() -> None:
    assert Explainer(None).template(BASE) == render(BASE)


def test_bad_cache_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="cache_size"):
        Explainer(None, cache_size=0)


class EchoLLM:
    """An LLMClient that keeps its prompts and answers "<chosen server> was chosen.", a figure-free rewrite."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def complete(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return f"{chosen_in(prompt)} was chosen."


def test_the_cached_llm_answer_never_carries_another_jobs_carbon_or_when_sentence() -> None:
    """The LLM answer is reused for every job of its shape; each job's own carbon and "When:" sentences follow it."""
    llm = EchoLLM()
    explainer = Explainer(llm)
    first = BASE._replace(
        intensity_g_per_kwh=210.0, zone="ES", when="When: deferred to 2023-01-01T05:00Z (finishing 2023-01-01T06:00Z) in FAST mode."
    )
    second = first._replace(
        job_id=8, intensity_g_per_kwh=480.0, carbon_band="low", when="When: now, in FAST mode: critical jobs are never deferred or slowed."
    )
    a, b = explainer.refine(first), explainer.refine(second)
    assert len(llm.prompts) == 1 and "When:" not in llm.prompts[0] and "gCO2eq/kWh in the hour" not in llm.prompts[0]
    assert a == Explanation("Server 2 was chosen." + setting_text(first), "llm") and a.text.endswith(first.when)
    assert b == Explanation("Server 2 was chosen." + setting_text(second), "llm-cache") and "read 480 gCO2eq/kWh" in b.text
