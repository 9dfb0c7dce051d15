import logging
import threading
from collections.abc import Iterator

import pytest

from xai.explainer import NO_KEY_NOTE, Explainer, Explanation, build_explainer
from xai.llm import GroqClient, LLMError
from xai.templates import DecisionFacts, render

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


class FakeLLM:
    """An LLMClient that answers "answer N" on its N-th call, or fails with `error`."""

    def __init__(self, error: str | None = None) -> None:
        self.error = error
        self.calls = 0

    def complete(self, prompt: str) -> str:
        self.calls += 1
        if self.error is not None:
            raise LLMError(self.error)
        return f"answer {self.calls}"


def test_success_then_cache(standin: GroqStandIn) -> None:
    explainer = groq_explainer(standin)
    assert explainer.refine(BASE) == Explanation("Server 2 was picked because it is the cleanest.", "llm")
    again = explainer.refine(BASE._replace(job_id=8, carbon_factor=0.9))
    assert again.source == "llm-cache" and again.text == "Server 2 was picked because it is the cleanest."
    assert standin.requests == 1
    assert explainer.stats() == {"calls": 1, "hits": 1, "failures": 0, "cached": 1}
    body = standin.last_body
    assert body is not None and body["model"] == MODEL
    assert render(BASE) in body["messages"][0]["content"]


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


def test_batch_makes_at_most_one_call_per_key(standin: GroqStandIn) -> None:
    explainer = groq_explainer(standin)
    pool = BASE.pool
    tiers = ("green", "balanced", "performance")
    bands = ("low", "medium", "high")
    # 200 jobs over 3 servers x 3 tiers x 3 bands, but servers follow the tier: 9 distinct keys.
    batch = [BASE._replace(job_id=k, chosen=pool[k % 3], priority=tiers[k % 3], carbon_band=bands[(k // 3) % 3]) for k in range(200)]
    keys = {(f.chosen, f.priority, f.carbon_band) for f in batch}
    assert len(keys) == 9
    sources = [explainer.refine(f).source for f in batch]
    assert standin.requests == 9
    assert sources.count("llm") == 9 and sources.count("llm-cache") == 191


def test_a_cached_answer_is_only_reused_for_the_same_cause() -> None:
    """Same server, tier and band, but one choice was the agent's against a better-scored server and the other
    an exploration step: each gets its own answer, so no job is told another job's reason."""
    from .test_templates import AGENT

    explainer = Explainer(FakeLLM(), 16)
    explored = AGENT._replace(explored=True, cause=AGENT.cause._replace(kind="explored"))
    assert [explainer.refine(f).text for f in (AGENT, explored, AGENT._replace(job_id=9))] == ["answer 1", "answer 2", "answer 1"]
    other_term = AGENT._replace(cause=AGENT.cause._replace(terms=(6, 2)))
    assert explainer.refine(other_term).text == "answer 3"


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
    assert {r.text for r in results} == {standin.reply}


def test_cool_down_after_failure(standin: GroqStandIn) -> None:
    clock = FakeClock()
    llm = GroqClient("test-key", MODEL, TIMEOUT_S, standin.base_url)
    explainer = Explainer(llm, cooldown_s=30.0, clock=clock)
    standin.mode = "error500"
    assert explainer.refine(BASE).note == "LLM error: HTTP 500"
    standin.mode = "ok"
    clock.now += 29.0
    paused = explainer.refine(BASE._replace(carbon_band="low"))  # another key is paused too
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
    """An LLMClient that answers with the draft it was given, as a model rewriting it closely might."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def complete(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return prompt.split("Draft explanation:\n")[1].split("\n\n")[0]


def test_the_cached_llm_answer_never_carries_another_jobs_when_sentence() -> None:
    """The LLM answer is reused for every job with the same key; each job's own "When:" follows it."""
    llm = EchoLLM()
    explainer = Explainer(llm)
    first = BASE._replace(intensity_g_per_kwh=210.0, when="When: deferred to 2023-01-01T05:00Z (finishing 2023-01-01T06:00Z) in FAST mode.")
    second = first._replace(job_id=8, when="When: now, in FAST mode: critical jobs are never deferred or slowed.")
    a, b = explainer.refine(first), explainer.refine(second)
    assert "When:" not in llm.prompts[0] and len(llm.prompts) == 1
    assert a.source == "llm" and a.text.count("When:") == 1 and a.text.endswith(first.when)
    assert b.source == "llm-cache" and b.text.count("When:") == 1 and b.text.endswith(second.when)
