import socket
from collections.abc import Iterator

import pytest

from xai.llm import GroqClient, LLMError, LLMTimeoutError, build_prompt
from xai.templates import placement_text, render

from .groq_standin import GroqStandIn
from .test_templates import BASE

MODEL = "llama-3.3-70b-versatile"
TIMEOUT_S = 0.5


@pytest.fixture
def standin() -> Iterator[GroqStandIn]:
    with GroqStandIn() as server:
        yield server


def client_for(standin: GroqStandIn) -> GroqClient:
    return GroqClient("test-key", MODEL, TIMEOUT_S, base_url=standin.base_url)


def test_prompt_carries_pool_scores_weights_and_the_placement_draft() -> None:
    template = placement_text(BASE)
    prompt = build_prompt(BASE, template)
    assert "green pool: Server 1, Server 2, Server 3" in prompt
    assert "- Server 2 (chosen): quality 0.83" in prompt
    assert "performance 0.10, cost 0.25, CO2 0.40, latency 0.25" in prompt
    assert template in prompt
    assert "no markdown" in prompt
    # The answer is reused across jobs of one cause, each followed by its own carbon sentence: no figures, no carbon.
    assert "Write no figures at all" in prompt and "Leave out carbon and timing" in prompt
    assert "proxy factor" not in prompt and "band" not in prompt


def test_prompt_carries_the_cause_and_asks_to_keep_it() -> None:
    """The model gets the same true cause the template states: the rival, the Q-values and every per-feature term."""
    from .test_templates import AGENT

    prompt = build_prompt(AGENT, render(AGENT))
    assert "agent's Q-value 1.60" in prompt
    assert "Cause (agent): compared with Server 3" in prompt
    assert "load of Server 3 / busiest +1.200" in prompt and "memory / 100 +0.400" in prompt
    assert "Keep the draft's cause exactly" in prompt


def test_prompt_tolerates_short_tuples() -> None:
    assert "n/a" in build_prompt(BASE._replace(final=(0.5,)), "draft")


def test_success_sends_model_and_prompt(standin: GroqStandIn) -> None:
    standin.reply = "  Server 2 was picked because it is the cleanest.  "
    assert client_for(standin).complete("Explain please.") == "Server 2 was picked because it is the cleanest."
    body = standin.last_body
    assert body is not None
    assert body["model"] == MODEL
    assert body["messages"] == [{"role": "user", "content": "Explain please."}]
    assert body["temperature"] == 0 and body["max_tokens"] > 0
    assert standin.last_headers["authorization"] == "Bearer test-key"
    assert standin.requests == 1


def test_slow_server_times_out_promptly(standin: GroqStandIn) -> None:
    standin.mode = "slow"
    with pytest.raises(LLMTimeoutError, match="timed out after 0.5 s"):  # the stand-in never answers
        client_for(standin).complete("x")
    assert standin.requests == 1  # no SDK retries


@pytest.mark.parametrize(
    ("mode", "message"),
    [("error500", "HTTP 500"), ("malformed", "malformed"), ("no-choices", "malformed"), ("empty", "empty")],
    ids=["error500", "not-json", "no-choices", "empty-content"],
)
def test_bad_answers_raise_llm_error(standin: GroqStandIn, mode: str, message: str) -> None:
    standin.mode = mode
    with pytest.raises(LLMError, match=message):
        client_for(standin).complete("x")
    assert standin.requests == 1  # no SDK retries


def test_refused_connection_raises_llm_error() -> None:
    with socket.socket() as sock:  # a loopback port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = GroqClient("test-key", MODEL, TIMEOUT_S, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(LLMError, match="connection failed"):
        client.complete("x")


@pytest.mark.parametrize("timeout_s", [0.0, -1.0], ids=["zero", "negative"])
def test_bad_timeout_is_rejected(timeout_s: float) -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        GroqClient("k", MODEL, timeout_s)
