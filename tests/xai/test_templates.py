import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xai.carbon import FACTOR, scale_text
from xai.causes import Cause, feature_labels, num, short_reason
from xai.templates import DecisionFacts, render, tier_summary

POOL = ("Server 1", "Server 2", "Server 3")
TOP_CAUSE = Cause(
    kind="top",
    standing="top",
    rival="Server 1",
    greedy="Server 2",
    metric=2,
    terms=(),
    features=feature_labels(POOL),
    values=(0.75, 0.5, 1.0, 0.27, 0.4, 0.15, 0.39),
    contributions=(0.0,) * 7,
    static=(0.734, 0.4, 15.0, 39.0),
    allowed=(True, True, True),
    late=(),
)
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
    cause=TOP_CAUSE,
    band_scale=scale_text(FACTOR, 0, 0.0, 0.0),
    pool_energy_kwh=(0.0101, 0.0123456, 0.02),
    least_energy=("Server 1", 0.0101),
)
# Server 3 leads on quality; the agent chose Server 2: its load terms and memory favoured it.
AGENT_CAUSE = TOP_CAUSE._replace(
    kind="agent", standing="agent", rival="Server 3", metric=-1, terms=(2, 6), contributions=(0.0, 0.1, 1.2, 0.0, -0.3, 0.0, 0.4)
)
AGENT = BASE._replace(final=(0.61, 0.73, 0.83), q_values=(0.4, 1.6, 0.2), cause=AGENT_CAUSE)


def test_names_pool_energy_and_carbon_on_its_scale() -> None:
    text = render(BASE)
    assert "green pool (Server 1, Server 2, Server 3), the fleet's smallest servers by CPU" in text
    assert "run now, this job would use 0.0101-0.0200 kWh on them, the least in the fleet on Server 1." in text
    assert "The carbon proxy was high (factor 0.73; fixed scale of the unitless 0-1 proxy: low below 0.35, high from 0.65)" in text
    assert "0.0123 kWh" in text and "0.0051 kg CO2" in text
    assert "efficient" not in text and "clean" not in text


def test_top_quality_names_the_metric_with_its_numbers() -> None:
    text = render(BASE)
    assert "Server 2 was chosen and has the best quality score of the servers the job could take, 0.83 against 0.61" in text
    assert "for the runner-up, Server 1 (0.22 ahead), above all for its CO2 score (1.00 against 0.30, weighted 40%: +0.28)" in text
    assert "The agent's learned values rated it higher too (Q 0.70 against 0.40 for Server 1)." in text


def test_agent_choice_names_the_terms_that_favoured_it() -> None:
    text = render(AGENT)
    assert "Server 3 had the better quality score (0.83 against 0.73 for Server 2, 0.10 more)" in text
    assert "but the agent's learned values rated Server 2 1.40 higher (Q 1.60 against 0.20)" in text
    assert "the largest terms in its favour being the load on Server 3, 4 jobs (+1.20) and the job's memory, 39 (+0.40)." in text


def test_ties_are_called_ties() -> None:
    tie = AGENT._replace(final=(0.61, 0.83, 0.83), cause=AGENT_CAUSE._replace(kind="tie", standing="tie"))
    text = render(tie)
    assert "Server 2 and Server 3 tie for the best quality score of the servers the job could take (0.83)" in text
    assert "broke the tie, rating Server 2 1.40 higher" in text
    assert "0.00 lower" not in text and "0.00 higher" not in text
    level = tie._replace(q_values=(0.4, 0.2, 0.2))
    assert "and so do the agent's learned values (Q 0.20): ties go to the first server in pool order, Server 2." in render(level)


def test_exploration_is_said_with_the_agent_s_own_choice() -> None:
    text = render(BASE._replace(explored=True, q_values=(0.4, 0.1, 0.9), cause=TOP_CAUSE._replace(kind="explored", greedy="Server 3")))
    assert "Server 2 was picked at random: this was an exploration step" in text
    assert "without exploring it would have chosen Server 3 (Q 0.90 against 0.10 for Server 2)" in text
    assert "exploration" not in render(BASE)


def test_only_server_and_deadline_exclusions() -> None:
    only = BASE._replace(cause=TOP_CAUSE._replace(kind="only", standing="", rival=None, allowed=(False, True, False), late=("Server 1",)))
    text = render(only)
    assert "it is the only server of its pool that could finish by the deadline." in text
    assert "Server 1 scored higher but could not finish by the deadline." in text


def test_grid_carbon_clause_names_zone_band_and_scale() -> None:
    scale = scale_text("percentile", 168, 63.0, 83.0)
    text = render(BASE._replace(intensity_g_per_kwh=74.4, zone="ES", carbon_band="medium", band_scale=scale))
    assert (
        "The ES grid, which Server 2 draws from, read 74 gCO2eq/kWh in the hour before submission: the medium band "
        "(percentiles of the zone's last 168 h: low below 63, high from 83 gCO2eq/kWh);"
    ) in text


@pytest.mark.parametrize(("value", "text"), [(0.0, "0.00"), (0.2, "0.20"), (-1.234, "-1.23"), (0.0042, "0.0042"), (0.000123, "0.00012")])
def test_small_figures_never_print_as_zero(value: float, text: str) -> None:
    assert num(value) == text
    assert float(num(3e-9)) != 0.0


def test_short_reasons_say_the_cause() -> None:
    assert short_reason("green", POOL, 1, 4, 2, 2) == (
        "green pool -> Server 2 over Server 3 (better quality score): the agent's learned values decided, above all the load on Server 3"
    )
    assert (
        short_reason("green", POOL, 1, 2, 0, 2) == "green pool -> Server 2, best quality score (above all its CO2 score, against Server 1)"
    )
    assert "exploration" in short_reason("green", POOL, 1, 1, 0, -1)


def test_deterministic() -> None:
    assert render(BASE) == render(BASE) == render(BASE._replace())


def test_inconsistent_facts_still_explain() -> None:
    assert "Server 9 was chosen" in render(BASE._replace(chosen="Server 9"))
    assert "Server 2 was chosen." in render(BASE._replace(cause=None))


def test_tier_summary_names_tier_and_pool_without_calling_it_efficient() -> None:
    text = tier_summary("green", POOL)
    assert "green pool (Server 1, Server 2, Server 3)" in text and "smallest servers by CPU" in text
    assert "efficient" not in text


finite = st.floats(allow_nan=False, allow_infinity=False)
names = st.text(max_size=12)


@st.composite
def any_facts(draw: st.DrawFn) -> DecisionFacts:
    """Finite facts with no consistency promised: tuples of any length, any chosen name, any cause."""
    floats = st.lists(finite, max_size=5).map(tuple)
    pool = tuple(draw(st.lists(names, max_size=5)))
    some = st.sampled_from(pool) if pool else names
    cause = Cause(
        kind=draw(st.sampled_from(["only", "explored", "top", "tie", "agent"])),
        standing=draw(st.sampled_from(["", "top", "tie", "agent"])),
        rival=draw(st.none() | some),
        greedy=draw(some),
        metric=draw(st.integers(-1, 3)),
        terms=tuple(draw(st.lists(st.integers(-1, 9), max_size=2))),
        features=(),
        values=(),
        contributions=draw(floats),
        static=draw(st.tuples(finite, finite, finite, finite)),
        allowed=(),
        late=tuple(draw(st.lists(names, max_size=2))),
    )
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
        loads=tuple(draw(st.lists(st.integers(0, 10**6), max_size=5))),
        q_values=draw(floats),
        explored=draw(st.booleans()),
        carbon_factor=draw(finite),
        carbon_band=draw(st.sampled_from(["low", "medium", "high"]) | names),
        energy_kwh=draw(finite),
        co2_kg=draw(finite),
        price_cost=draw(finite),
        cause=draw(st.none() | st.just(cause)),
        pool_energy_kwh=draw(floats),
    )


@given(any_facts())
def test_any_finite_facts_render(facts: DecisionFacts) -> None:
    text = render(facts)
    assert isinstance(text, str) and text
    assert facts.chosen in text


def test_numbers_in_a_text_are_the_facts_numbers() -> None:
    """Every decimal figure of the agent sentence is one of the facts' values, at the printed precision."""
    text = render(AGENT)
    cause = text[text.index("Server 3 had") : text.index(" The carbon proxy")]
    printed = [float(x) for x in re.findall(r"[+-]?\d+\.\d+", cause)]
    facts = [0.83, 0.73, 0.10, 1.40, 1.60, 0.20, 1.20, 0.40]
    assert printed == pytest.approx(facts, abs=0.005)
