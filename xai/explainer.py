"""Explanations of scheduling decisions: cached LLM text, else a fresh LLM answer, else the template.

The LLM rewrites the placement part of the template (the pool and the cause: xai.templates.placement_text);
each job's own carbon sentence and "When:" sentence follow its answer (setting_text). An answer is cached by
the shape of the decision's cause (cause_shape: the chosen server, its tier, the kind of cause and every
server, metric and feature the cause names), so it is reused only for jobs whose choice had the same cause,
and a batch makes one provider call per distinct shape. An answer that quotes a figure (which would not hold
for the other jobs it is reused for) or does not name the chosen server is set aside, and so is cached as
refused: the shape's jobs get the template with a note, without another call. `refine` never raises for LLM
trouble: it falls back to the deterministic template and says why in `Explanation.note`.
"""

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from xai.llm import GroqClient, LLMClient, LLMError, build_prompt
from xai.templates import DecisionFacts, placement_text, render, setting_text

logger = logging.getLogger(__name__)

NO_KEY_NOTE = "no GROQ_API_KEY configured"
COOLDOWN_S = 30.0
"""After a failed LLM call, every key gets the template for this long instead of another call."""

CacheKey = tuple[str, str, str, tuple]
"""(chosen server, priority, whose figures (xai.carbon.GIVEN: the draft says a given energy), cause_shape)"""
REFUSED_NOTE = "the LLM's answer quoted figures or left out the chosen server, so it would not hold for every job it is reused for"
_SERVER_NAME = re.compile(r"Server \d+")


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
        """The LLM's explanation when available (cached per cause shape), else the template with a note saying
        why. The LLM explains the placement; this job's own carbon and "When:" sentences follow it."""
        result = self._refine(facts)
        if result.source != "template":
            return Explanation(result.text + setting_text(facts), result.source, result.note)
        return result

    def _refine(self, facts: DecisionFacts) -> Explanation:
        if self._llm is None:
            return self._fallback(facts, NO_KEY_NOTE)
        key = (facts.chosen, facts.priority, facts.given, cause_shape(facts))
        hit = self._cached(key, facts)
        if hit is not None:
            return hit
        with self._lock:
            flight = self._flights.setdefault(key, threading.Lock())
        # Single flight: concurrent misses on one key wait here and then find the first caller's answer.
        with flight:
            result = self._cached(key, facts) or self._paused(facts) or self._ask(facts, key)
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

    def _cached(self, key: CacheKey, facts: DecisionFacts) -> Explanation | None:
        with self._lock:
            text = self._cache.get(key)
            if text is None:
                return None
            self._cache.move_to_end(key)
            self._hits += 1
        if text is _REFUSED:
            return self._fallback(facts, REFUSED_NOTE)
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
        with self._lock:
            self._calls += 1
        try:
            # The answer is cached per shape and reused for other jobs: the draft is the placement part only;
            # refine() follows whichever answer a job gets with that job's own carbon and "When:" sentences.
            answer = self._llm.complete(build_prompt(facts, placement_text(facts)))
        except LLMError as exc:
            reason = str(exc) or type(exc).__name__
            with self._lock:
                self._failures += 1
                self._paused_until = self._clock() + self._cooldown_s
                self._pause_note = f"{reason}; LLM paused for {self._cooldown_s:g} s"
            return self._fallback(facts, reason)
        usable = _reusable(answer, facts)
        with self._lock:
            self._cache[key] = answer if usable else _REFUSED
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return Explanation(answer, "llm") if usable else self._fallback(facts, REFUSED_NOTE)

    def _fallback(self, facts: DecisionFacts, note: str) -> Explanation:
        """The template explanation; logs each distinct reason once, not once per job."""
        with self._lock:
            first = note not in self._logged
            self._logged.add(note)
        if first:
            level = logging.INFO if note == NO_KEY_NOTE else logging.WARNING
            logger.log(level, "Using template explanations: %s", note)
        return Explanation(render(facts), "template", note)


_REFUSED = "\x00refused"
"""Cached in place of an answer that could not be reused truthfully (see _reusable)."""


def _reusable(answer: str, facts: DecisionFacts) -> bool:
    """Whether an answer may stand for every job of its shape: it names the chosen server and quotes no
    figure (a digit outside a server's name: a score, a load, a Q-value of this job only)."""
    return facts.chosen in answer and not any(ch.isdigit() for ch in _SERVER_NAME.sub("", answer))


def cause_shape(facts: DecisionFacts) -> tuple:
    """What the cause sentence of a decision says, without its figures (xai.causes.cause_sentence): the kind
    of cause, whether the step explored, the rival, the servers the deadline left out, and by kind the
    standing and the agent's own choice (explored), the metric named (top), the features named (tie, agent)
    and whether the agent's values rated the chosen server higher or tied (top, tie, agent). Two decisions
    of one chosen server and tier with the same shape get the same explanation text, figures aside."""
    c = facts.cause
    if c is None:
        return ()
    shape: tuple = (c.kind, facts.explored, c.rival, c.late)
    if c.rival is None or c.kind == "only":
        return shape
    if c.kind == "explored":
        return (*shape, c.standing, c.greedy)
    q = dict(zip(facts.pool, facts.q_values))
    higher = q.get(facts.chosen, 0.0) > q.get(c.rival, 0.0)
    if c.kind == "top":
        return (*shape, c.metric, higher)
    return (*shape, tuple(c.features[j] for j in c.terms if j < len(c.features)), higher)


def build_explainer(api_key: str | None, model: str, timeout_s: float, base_url: str | None, cache_size: int) -> Explainer:
    """An Explainer backed by Groq, or template-only when `api_key` is missing or blank."""
    if not api_key or not api_key.strip():
        return Explainer(None, cache_size)
    return Explainer(GroqClient(api_key.strip(), model, timeout_s, base_url), cache_size)
