"""Explanations of scheduling decisions: cached LLM text, else a fresh LLM answer, else the template.

LLM answers are cached per (server, priority, carbon band), the seed's key, plus the decision's cause (its
kind, the server it is explained against and the metric or feature named first, xai.causes): an answer is
only reused for a job whose choice had the same cause, so a reused text never states another job's reason.
`refine` never raises for LLM trouble: it falls back to the deterministic template and says why in
`Explanation.note`.
"""

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from xai.llm import GroqClient, LLMClient, LLMError, build_prompt
from xai.templates import DecisionFacts, render

logger = logging.getLogger(__name__)

NO_KEY_NOTE = "no GROQ_API_KEY configured"
COOLDOWN_S = 30.0
"""After a failed LLM call, every key gets the template for this long instead of another call."""

CacheKey = tuple[str, str, str, str, tuple[str, str | None, str]]
"""(chosen server, priority, carbon band, signal: "grid" | "proxy", cause: kind, rival, what it names first)"""


@dataclass(frozen=True, slots=True)
class Explanation:
    """Text shown to the user and where it came from."""

    text: str
    source: str
    """One of "template" | "llm" | "llm-cache"."""
    note: str | None = None
    """Why the template was used instead of the LLM; None otherwise."""


class Explainer:
    """Thread-safe explanation service: bounded LRU cache, single flight per key, cool-down on failure."""

    def __init__(
        self,
        llm: LLMClient | None,
        cache_size: int = 256,
        cooldown_s: float = COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cache_size < 1:
            raise ValueError(f"cache_size must be at least 1, actual value: {cache_size}")
        self._llm = llm
        self._cache_size = cache_size
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()  # guards every field below
        self._cache: OrderedDict[CacheKey, str] = OrderedDict()
        self._flights: dict[CacheKey, threading.Lock] = {}
        self._paused_until = float("-inf")
        self._pause_note = ""
        self._logged: set[str] = set()
        self._calls = self._hits = self._failures = 0

    def template(self, facts: DecisionFacts) -> str:
        """The deterministic explanation, without any LLM involvement."""
        return render(facts)

    def refine(self, facts: DecisionFacts) -> Explanation:
        """The LLM's explanation when available (cached per key), else the template with a note saying why.
        The LLM explains the placement; a grid decision's "When:" sentence is this job's own and follows it."""
        result = self._refine(facts)
        if facts.when and result.source != "template":
            return Explanation(f"{result.text} {facts.when}", result.source, result.note)
        return result

    def _refine(self, facts: DecisionFacts) -> Explanation:
        if self._llm is None:
            return self._fallback(facts, NO_KEY_NOTE)
        # The signal is part of the key: a grid session's text speaks of real intensity, a proxy's must not.
        key = (
            facts.chosen,
            facts.priority,
            facts.carbon_band,
            "proxy" if math.isnan(facts.intensity_g_per_kwh) else "grid",
            _cause_key(facts),
        )
        hit = self._cached(key)
        if hit is not None:
            return hit
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
        # Single flight: concurrent misses on one key wait here and then find the first caller's answer.
        with flight:
            result = self._cached(key) or self._paused(facts) or self._ask(facts, key)
        with self._lock:
            # Identity check: a later caller may already have put a new lock here. At worst a racing
            # caller makes one duplicate call; it never gets a wrong answer.
            if self._flights.get(key) is flight:
                del self._flights[key]
        return result

    def stats(self) -> dict[str, int]:
        """Counters for tests and observability: LLM calls made, cache hits, failed calls, cached entries."""
        with self._lock:
            return {"calls": self._calls, "hits": self._hits, "failures": self._failures, "cached": len(self._cache)}

    def _cached(self, key: CacheKey) -> Explanation | None:
        with self._lock:
            text = self._cache.get(key)
            if text is None:
                return None
            self._cache.move_to_end(key)
            self._hits += 1
        return Explanation(text, "llm-cache")

    def _paused(self, facts: DecisionFacts) -> Explanation | None:
        """The template while the post-failure cool-down lasts, so a dead API is not hammered."""
        with self._lock:
            if self._clock() >= self._paused_until:
                return None
            note = self._pause_note
        return self._fallback(facts, note)

    def _ask(self, facts: DecisionFacts, key: CacheKey) -> Explanation:
        assert self._llm is not None
        text = render(facts)
        with self._lock:
            self._calls += 1
        try:
            # The answer is cached per key and reused for other jobs: the draft leaves out this job's
            # own "When:" sentence, which refine() appends to whichever answer a job gets.
            answer = self._llm.complete(build_prompt(facts, render(facts._replace(when="")) if facts.when else text))
        except LLMError as exc:
            reason = str(exc) or type(exc).__name__
            with self._lock:
                self._failures += 1
                self._paused_until = self._clock() + self._cooldown_s
                self._pause_note = f"{reason}; LLM paused for {self._cooldown_s:g} s"
            return self._fallback(facts, reason, text)
        with self._lock:
            self._cache[key] = answer
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return Explanation(answer, "llm")

    def _fallback(self, facts: DecisionFacts, note: str, text: str | None = None) -> Explanation:
        """The template explanation; logs each distinct reason once, not once per job."""
        with self._lock:
            first = note not in self._logged
            self._logged.add(note)
        if first:
            level = logging.INFO if note == NO_KEY_NOTE else logging.WARNING
            logger.log(level, "Using template explanations: %s", note)
        return Explanation(render(facts) if text is None else text, "template", note)


def _cause_key(facts: DecisionFacts) -> tuple[str, str | None, str]:
    """What a cached answer may be reused for: the cause's kind, its rival and the metric or feature it names first."""
    c = facts.cause
    if c is None:
        return ("", None, "")
    first = str(c.metric) if c.kind == "top" else c.features[c.terms[0]] if c.terms and c.terms[0] < len(c.features) else ""
    return (c.kind, c.rival, first)


def build_explainer(api_key: str | None, model: str, timeout_s: float, base_url: str | None, cache_size: int) -> Explainer:
    """An Explainer backed by Groq, or template-only when `api_key` is missing or blank."""
    if not api_key or not api_key.strip():
        return Explainer(None, cache_size)
    return Explainer(GroqClient(api_key.strip(), model, timeout_s, base_url), cache_size)
