"""LLM refinement of decision explanations through the official Groq SDK.

Exceptions: every failure of an `LLMClient.complete` call surfaces as `LLMError`, whose message is a
short human-readable reason fit for an API note ("LLM error: HTTP 500"). `LLMTimeoutError` is the
subclass for a call that ran out of time. SDK, HTTP and parsing exceptions never escape this module.
"""

from typing import Protocol

from xai.templates import DecisionFacts

DEFAULT_BASE_URL = "https://api.groq.com"
"""Passed explicitly so the SDK never falls back to the GROQ_BASE_URL environment variable."""
MAX_TOKENS = 200
"""A 2-3 sentence answer fits comfortably; the cap bounds latency and cost."""


class LLMError(Exception):
    """An LLM call failed; `str(exc)` says why in words fit for the user."""


class LLMTimeoutError(LLMError):
    """An LLM call did not answer within its timeout."""


class LLMClient(Protocol):
    """Anything that turns a prompt into text, raising `LLMError` on any failure."""

    def complete(self, prompt: str) -> str: ...


class GroqClient:
    """`LLMClient` over Groq chat completions: one attempt per call (no SDK retries), bounded by `timeout_s`."""

    def __init__(self, api_key: str, model: str, timeout_s: float, base_url: str | None = None) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, actual value: {timeout_s}")
        self.model = model
        self.timeout_s = timeout_s
        import groq  # here, not at the top: the SDK costs ~0.2 s of start-up and only a key needs it

        self._groq = groq
        # The caller's own fallback and cool-down handle failures; SDK retries would multiply latency.
        self._client = self._groq.Groq(api_key=api_key, base_url=base_url or DEFAULT_BASE_URL, timeout=timeout_s, max_retries=0)

    def complete(self, prompt: str) -> str:
        """The model's answer to `prompt`, stripped; raises `LLMError` on any failure or empty answer."""
        groq = self._groq
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": prompt}],
                temperature=0,
                max_tokens=MAX_TOKENS,
            )
        except groq.APITimeoutError as exc:
            raise LLMTimeoutError(f"LLM timed out after {self.timeout_s:.1f} s") from exc
        except groq.APIStatusError as exc:
            raise LLMError(f"LLM error: HTTP {exc.status_code}") from exc
        except groq.APIConnectionError as exc:
            raise LLMError("LLM error: connection failed") from exc
        except Exception as exc:
            # A 200 with a body that is not JSON raises from inside the SDK's parser (JSONDecodeError,
            # pydantic errors), not as a GroqError; all of it means the same thing to the caller.
            raise LLMError(f"LLM error: malformed response ({type(exc).__name__})") from exc
        return _answer_text(response)


def _answer_text(response: object) -> str:
    """The first choice's message text; the SDK does not validate bodies, so check every step."""
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise LLMError("LLM error: malformed response (no choices)")
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    if not isinstance(content, str) or not content.strip():
        raise LLMError("LLM error: empty response")
    return content.strip()


def build_prompt(facts: DecisionFacts, template_text: str) -> str:
    """A structured prompt asking for a short plain-English explanation of one placement.

    `template_text` is the template's placement part (xai.templates.placement_text). The answer is cached per
    shape of the cause and reused for other jobs of that shape (xai.explainer), each followed by its own carbon
    and "When:" sentences, so the prompt asks the model to keep the cause, name the chosen server, and leave
    out every figure and the carbon (an answer with a figure is set aside).
    """
    w = facts.weights
    rows = "\n".join(
        f"- {name}{' (chosen)' if name == facts.chosen else ''}: quality {_at(facts.final, k)},"
        f" performance {_at(facts.perf, k)}, cost {_at(facts.cost, k)}, CO2 {_at(facts.co2, k)},"
        f" latency {_at(facts.lat, k)}, jobs already placed {_at(facts.loads, k)}, agent's Q-value {_at(facts.q_values, k)}"
        for k, name in enumerate(facts.pool)
    )
    return (
        "You explain decisions of a carbon-aware job scheduler to a non-expert.\n\n"
        f"Job priority tier: {facts.priority} (latency need: {facts.latency or 'not given'}).\n"
        f"The job may only run in the {facts.priority} pool: {', '.join(facts.pool)}.\n"
        f"Chosen server: {facts.chosen}"
        f"{' (an exploration step: picked at random to keep learning)' if facts.explored else ''}.\n"
        f"Tier weights: performance {w[0]:.2f}, cost {w[1]:.2f}, CO2 {w[2]:.2f}, latency {w[3]:.2f}.\n"
        "Per-server scores (0-1, higher is better; cost and CO2 scores are 1 for the cheapest and cleanest), and the"
        " agent's Q-values (its learned estimate of discounted return; it picks the highest unless exploring):\n"
        f"{rows}\n"
        f"{_cause_lines(facts)}\n"
        f"Draft explanation:\n{template_text}\n\n"
        f"Rewrite the draft as 2-3 plain-English sentences saying why {facts.chosen} was chosen, naming it. Keep the"
        " draft's cause exactly: if the agent's learned values chose against the better quality score, say so and name"
        " the same features; if it was an exploration step, say so; never present what the server is good at as the"
        " reason unless the draft does. Write no figures at all (no digits except in server names) and leave out the"
        " job number: the text is reused for every job whose choice had the same cause. Leave out carbon and timing:"
        " the job's own sentence on them follows your text. Plain text only: no markdown, lists or headings."
    )


def _cause_lines(facts: DecisionFacts) -> str:
    """The cause as the service computed it: the rival and the per-feature terms of Q(chosen) - Q(rival)."""
    c = facts.cause
    if c is None or c.rival is None:
        return ""
    terms = ", ".join(f"{name} {value:+.3f}" for name, value in zip(c.features, c.contributions))
    return (
        f"Cause ({c.kind}): compared with {c.rival}, the best-scored other server the job could take. Each feature's"
        f" term of Q({facts.chosen}) - Q({c.rival}) (positive favours {facts.chosen}): {terms}.\n"
    )


def _at(values: tuple[float, ...] | tuple[int, ...], k: int) -> str:
    """`values[k]` for the prompt (2 decimals for floats), or "n/a" when the tuple is short."""
    if k >= len(values):
        return "n/a"
    v = values[k]
    return str(v) if isinstance(v, int) else f"{v:.2f}"
