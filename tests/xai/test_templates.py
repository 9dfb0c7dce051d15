import pytest
from hypothesis import given
from hypothesis import strategies as st

from xai.templates import DecisionFacts, render, tier_summary

POOL = ("Server 1", "Server 2", "Server 3")
BASE = DecisionFacts(
    job_id=7,
    priority="green",
    latency="low",
    chosen="Server 2",
    pool=POOL,
    final=(0.61, 0.83, 0.47),
    perf=(0.0, 0.5, 1.0),
    cost=(0.4, 1.0, 0.0),
    co2=(0.3, 1.0, 0.0),
    lat=(0.0, 0.7, 1.0),
    weights=(0.10, 0.25, 0.40, 0.25),
    loads=(3, 2, 4),
    q_values=(0.4, 0.7, 0.2),
    explored=False,
    carbon_factor=0.734,
    carbon_band="high",
    energy_kwh=0.0123456,
    co2_kg=0.0051234,
    price_cost=0.0021,
)


def sentences(text: str) -> int:
    # Decimals ("0.83") never have a space after the dot, so ". " only ends sentences.
    return text.count(". ") + 1


def test_names_pool_chosen_runner_up_and_carbon() -> None:
    text = render(BASE)
    assert "green pool (Server 1, Server 2, Server 3)" in text
    assert "Server 2 was chosen with a quality score of 0.83" in text
    assert "the runner-up, Server 1, scored 0.22 lower" in text
    assert "The carbon proxy was high (factor 0.73 on a unitless 0-1 scale)" in text
    assert "0.0123 kWh" in text and "0.0051 kg CO2" in text
    assert 2 <= sentences(text) <= 4


def test_runner_up_ties_go_to_lowest_index() -> None:
    text = render(BASE._replace(final=(0.5, 0.9, 0.5)))
    assert "the runner-up, Server 1," in text


def test_chosen_below_best_names_the_better_server() -> None:
    text = render(BASE._replace(final=(0.61, 0.73, 0.83)))
    assert "although Server 3 scored 0.10 higher" in text


@pytest.mark.parametrize(
    ("weights", "scores", "phrase"),
    [
        ((0.40, 0.10, 0.10, 0.40), ((0.2, 1.0, 0.0), (1, 1, 1), (1, 1, 1), (0.2, 0.5, 0.0)), "the most compute in the pool"),
        ((0.10, 0.40, 0.25, 0.25), ((0.0, 1.0, 0.5), (0.3, 1.0, 0.0), (1, 1, 1), (1, 1, 1)), "the cheapest in the pool"),
        ((0.10, 0.25, 0.40, 0.25), ((1, 1, 1), (1, 1, 1), (0.3, 1.0, 0.0), (1, 1, 1)), "the lowest CO2 in the pool"),
        ((0.10, 0.10, 0.10, 0.70), ((1, 1, 1), (1, 1, 1), (1, 1, 1), (0.1, 1.0, 0.4)), "the fastest in the pool"),
        ((0.25, 0.25, 0.25, 0.25), ((0, 0, 0), (0, 0, 0), (0.2, 0.6, 1.0), (0, 0, 0)), "thanks to its low CO2"),
        ((0.25, 0.25, 0.25, 0.25), ((0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0)), "no single metric standing out"),
    ],
    ids=["perf", "cost", "co2", "lat", "co2-not-best", "all-zero"],
)
def test_dominant_metric(weights: tuple[float, float, float, float], scores: tuple[tuple[float, ...], ...], phrase: str) -> None:
    perf, cost, co2, lat = scores
    text = render(BASE._replace(weights=weights, perf=perf, cost=cost, co2=co2, lat=lat))
    assert phrase in text


def test_exploration_is_mentioned_with_best_q_server() -> None:
    text = render(BASE._replace(explored=True, q_values=(0.4, 0.1, 0.9)))
    assert "exploration step" in text
    assert "best Q-value choice, Server 3" in text
    assert "exploration" not in render(BASE)


@pytest.mark.parametrize(
    ("loads", "phrase"),
    [((3, 2, 4), "fewer jobs than the pool average (2 vs 3.0)"), ((1, 6, 2), "busier than the pool average (6 vs 3.0 jobs)")],
    ids=["lighter", "busier"],
)
def test_load_situation(loads: tuple[int, ...], phrase: str) -> None:
    assert phrase in render(BASE._replace(loads=loads))
    assert "pool average" not in render(BASE._replace(loads=(2, 2, 2)))


def test_deterministic() -> None:
    assert render(BASE) == render(BASE) == render(BASE._replace())


def test_inconsistent_facts_still_explain() -> None:
    text = render(BASE._replace(chosen="Server 9"))
    assert "Server 9 was chosen" in text


def test_tier_summary_names_tier_and_pool() -> None:
    text = tier_summary("performance", ("Server 7", "Server 8", "Server 9"))
    assert "performance pool (Server 7, Server 8, Server 9)" in text
    assert "most powerful" in text


finite = st.floats(allow_nan=False, allow_infinity=False)
names = st.text(max_size=12)


@st.composite
def any_facts(draw: st.DrawFn) -> DecisionFacts:
    """Finite facts with no consistency promised: tuples of any length, any chosen name."""
    floats = st.lists(finite, max_size=5).map(tuple)
    pool = tuple(draw(st.lists(names, max_size=5)))
    return DecisionFacts(
        job_id=draw(st.integers()),
        priority=draw(st.sampled_from(["green", "balanced", "performance"]) | names),
        latency=draw(st.none() | st.sampled_from(["low", "medium", "high"])),
        chosen=draw(st.sampled_from(pool) if pool and draw(st.booleans()) else names),
        pool=pool,
        final=draw(floats),
        perf=draw(floats),
        cost=draw(floats),
        co2=draw(floats),
        lat=draw(floats),
        weights=draw(st.tuples(finite, finite, finite, finite)),
        loads=tuple(draw(st.lists(st.integers(), max_size=5))),
        q_values=draw(floats),
        explored=draw(st.booleans()),
        carbon_factor=draw(finite),
        carbon_band=draw(st.sampled_from(["low", "medium", "high"]) | names),
        energy_kwh=draw(finite),
        co2_kg=draw(finite),
        price_cost=draw(finite),
    )


@given(any_facts())
def test_any_finite_facts_render(facts: DecisionFacts) -> None:
    text = render(facts)
    assert isinstance(text, str) and text
    assert facts.chosen in text


unit = st.floats(min_value=0.0, max_value=1.0)


@given(st.integers(2, 5).flatmap(lambda n: st.tuples(st.lists(unit, min_size=n, max_size=n), st.integers(0, n - 1))))
def test_runner_up_matches_reference(case: tuple[list[float], int]) -> None:
    final, i = case
    pool = tuple(f"Server {k + 1}" for k in range(len(final)))
    n = len(final)
    facts = BASE._replace(
        pool=pool,
        chosen=pool[i],
        final=tuple(final),
        perf=(0.5,) * n,
        cost=(0.5,) * n,
        co2=(0.5,) * n,
        lat=(0.5,) * n,
        loads=(1,) * n,
        q_values=(0.0,) * n,
    )
    # Reference: the best other server, lowest index on ties.
    others = [k for k in range(n) if k != i]
    rival = min(others, key=lambda k: (-final[k], k))
    text = render(facts)
    if final[i] >= final[rival]:
        assert f"the runner-up, {pool[rival]}," in text
    else:
        assert f"although {pool[rival]} scored" in text
