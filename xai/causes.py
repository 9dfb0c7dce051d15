"""The cause of a placement, in words: why the agent's choice went to this server and not to the one it is
explained against (the rival: the best-scored other server the job could take).

The tier agent's value is linear, Q(s, a) = W[a] . phi(s), so Q(chosen) - Q(rival) splits exactly into one term
per feature, (W[chosen] - W[rival]) x phi. The service computes the kind of cause, the rival, the terms and
their order (scheduler.service.causes); this module only says them, with their numbers. Kinds:

- only: the job could take no other server (a pool of one, or the deadline left one);
- explored: an exploration step picked the server at random;
- top: the chosen server has the best quality score of those the job could take; the metric that gave it
  most of its lead over the rival is named, and the agent's values are shown to agree;
- tie: it ties with the rival on quality; the agent's values broke the tie;
- agent: the rival scored better on quality, and the agent's learned values chose otherwise: the features
  whose terms favoured the chosen server most are named, with their terms.
"""

import math
from typing import NamedTuple

KINDS: tuple[str, ...] = ("only", "explored", "top", "tie", "agent")
ONLY, EXPLORED, TOP, TIE, AGENT = range(5)
STANDING: dict[str, int] = {"top": TOP, "tie": TIE, "agent": AGENT}
METRIC_NAMES: tuple[str, str, str, str] = ("performance", "cost", "CO2", "latency")
"""The quality metrics, in weight order (perf, cost, co2, lat)."""
STATIC_NAMES: tuple[str, str, str, str] = ("carbon factor", "energy price", "cpu", "memory")
"""What the agent's four job and grid features read (its features are 1 - carbon factor, price, cpu / 100,
memory / 100); the text names the value as the job and grid gave it."""


class Cause(NamedTuple):
    """Why one decision went where it did (per-server tuples follow the pool's order)."""

    kind: str
    """One of KINDS."""
    standing: str
    """How the chosen server stands against the rival on quality: "top", "tie" or "agent" (the rival scored
    better), whether or not the step explored; "" without a rival."""
    rival: str | None
    """The server the choice is explained against; None when the job could take no other."""
    greedy: str
    """The server with the agent's best Q-value among those the job could take: its choice without exploring."""
    metric: int
    """Index into METRIC_NAMES of the metric giving the chosen server most of its quality lead (kind top), else -1."""
    terms: tuple[int, ...]
    """Up to two feature indices whose terms favoured the chosen server most, largest first (positive terms only)."""
    features: tuple[str, ...]
    """Each feature's label: the pool's loads, then STATIC_NAMES' four."""
    values: tuple[float, ...]
    """phi: each feature's value as the agent saw it."""
    contributions: tuple[float, ...]
    """(W[chosen] - W[rival]) x phi per feature; they sum to Q(chosen) - Q(rival). Zeros without a rival."""
    static: tuple[float, float, float, float]
    """carbon factor, energy price, cpu and memory as given (what the feature phrases name)."""
    allowed: tuple[bool, ...]
    """Per pool server: could it take the job (finish by its deadline)?"""
    late: tuple[str, ...]
    """Servers that scored better than the chosen one but could not finish by the deadline."""


def num(x: float) -> str:
    """A figure as the text prints it: two decimals, or as many as it takes (up to six, then in scientific
    notation) to show a small nonzero value as nonzero. (On every explanation's path: the common case is one comparison chain.)"""
    if x >= 0.01 or x <= -0.01 or x == 0.0 or x != x:
        return f"{x:.2f}"
    if -1e-6 < x < 1e-6:
        return f"{x:.1e}"
    return f"{x:.{1 - math.floor(math.log10(abs(x)))}f}"


def pair(a: float, b: float) -> tuple[str, str]:
    """Two figures compared in one breath (Q-values): with enough decimals (up to six) to tell them apart."""
    for digits in (2, 3, 4, 5, 6):
        left, right = f"{a:.{digits}f}", f"{b:.{digits}f}"
        if left != right or a == b:
            return left, right
    return left, right


def signed(x: float) -> str:
    return ("+" if x >= 0 else "-") + num(abs(x))


def _jobs(n: float) -> str:
    return "1 job" if n == 1 else f"{n:.0f} jobs"


def term_phrase(feature: int, pool: tuple[str, ...], amount: float, contribution: float) -> str:
    """One feature's term: what the feature read (`amount`: the server's job count, or the job's or grid's
    value as given) and how much it moved Q(chosen) - Q(rival)."""
    size = len(pool)
    if feature < size:
        what = f"the load on {pool[feature]}, {_jobs(amount)}"
    elif feature == size:
        what = f"the carbon factor, {amount:.2f}"
    elif feature == size + 1:
        what = f"the energy price, {amount:.4g}"
    else:
        what = f"the job's {STATIC_NAMES[feature - size]}, {amount:g}"
    return f"{what} ({signed(contribution)})"


def _terms(pool: tuple[str, ...], terms: tuple[float, ...]) -> str:
    """terms: (feature, amount, contribution) twice, flat; feature -1 for none."""
    f1, a1, c1, f2, a2, c2 = terms
    if f1 < 0:
        return ""
    if f2 < 0:
        return ", the largest term in its favour being " + term_phrase(int(f1), pool, a1, c1)
    return f", the largest terms in its favour being {term_phrase(int(f1), pool, a1, c1)} and {term_phrase(int(f2), pool, a2, c2)}"


def cause_sentence(
    pool: tuple[str, ...],
    chosen: int,
    standing: int,
    rival: int,
    greedy: int,
    explored: bool,
    final: list[float],
    q: list[float],
    metric: tuple[int, float, float, float],
    terms: tuple[float, ...],
) -> str:
    """The sentence(s) naming the cause of one decision. Positions index `pool`; standing: TOP, TIE or AGENT
    (see Cause.standing), ignored without a rival (-1); metric: (index, the chosen server's score, the rival's,
    its weight), index -1 unless standing is TOP; terms: see _terms."""
    c = pool[chosen]
    x = final[chosen]
    kind = ONLY if rival < 0 else EXPLORED if explored else standing
    if kind == ONLY:
        where = "the only server in the pool" if len(pool) == 1 else "the only server of its pool that could finish by the deadline"
        tail = " The agent was on an exploration step, with no other server to pick." if explored else ""
        return f" {c} was chosen with a quality score of {num(x)}: it is {where}.{tail}"
    r = pool[rival]
    y = final[rival]
    dq = q[chosen] - q[rival]
    if kind == EXPLORED:
        return _explored(pool, c, r, x, y, q, chosen, greedy, standing)
    if kind == TOP:
        m, own, other, weight = metric
        return (
            f" {c} was chosen and has the best quality score of the servers the job could take, {num(x)} against {num(y)}"
            f" for the runner-up, {r} ({num(x - y)} ahead), above all for its {METRIC_NAMES[m]} score ({num(own)} against"
            f" {num(other)}, weighted {weight:.0%}: {signed(weight * (own - other))}). {_agreed(c, r, q, chosen, rival)}"
        )
    said = _terms(pool, terms)
    qa, qr = pair(q[chosen], q[rival])
    if kind == TIE:
        head = f" {c} and {r} tie for the best quality score of the servers the job could take ({num(x)})"
        if dq > 0:
            return f"{head}; the agent's learned values broke the tie, rating {c} {num(dq)} higher (Q {qa} against {qr}){said}."
        return f"{head}, and so do the agent's learned values (Q {qa}): ties go to the first server in pool order, {c}."
    head = f" {r} had the better quality score ({num(y)} against {num(x)} for {c}, {num(y - x)} more)"
    if dq > 0:
        return f"{head}, but the agent's learned values rated {c} {num(dq)} higher (Q {qa} against {qr}){said}."
    return f"{head}, but the agent's learned values tie (Q {qa} for both), and ties go to the first server in pool order, {c}."


def _agreed(c: str, r: str, q: list[float], chosen: int, rival: int) -> str:
    if q[chosen] > q[rival]:
        qa, qr = pair(q[chosen], q[rival])
        return f"The agent's learned values rated it higher too (Q {qa} against {qr} for {r})."
    return f"The agent's learned values tie for the two (Q {num(q[chosen])}), and ties go to the first server in pool order, {c}."


def _explored(pool: tuple[str, ...], c: str, r: str, x: float, y: float, q: list[float], chosen: int, greedy: int, standing: int) -> str:
    if greedy == chosen:
        own = "its own choice would have been the same server"
    else:
        qg, qc = pair(q[greedy], q[chosen])
        own = f"without exploring it would have chosen {pool[greedy]} (Q {qg} against {qc} for {c})"
    if standing == TOP:
        quality = f"{c} has the best quality score of the servers the job could take, {num(x)} ({r}: {num(y)})"
    elif standing == TIE:
        quality = f"{c} ties with {r} for the best quality score ({num(x)})"
    else:
        quality = f"{r} scored {num(y - x)} higher on quality ({num(y)} against {num(x)} for {c})"
    return (
        f" {c} was picked at random: this was an exploration step, which the agent takes on a small share of jobs to keep"
        f" learning, and {own}. {quality}."
    )


def feature_labels(pool: tuple[str, ...]) -> tuple[str, ...]:
    """The agent's features as the page labels them: each pool server's load relative to the busiest, then the
    job and grid terms (rl.features, in the same order)."""
    return (*(f"load of {name} / busiest" for name in pool), "1 - carbon factor", "energy price", "cpu / 100", "memory / 100")


def late_sentence(late: tuple[str, ...] | list[str]) -> str:
    """The servers left out by the deadline although they scored better, or nothing."""
    return f" {', '.join(late)} scored higher but could not finish by the deadline." if late else ""


def feature_word(feature: int, pool: tuple[str, ...]) -> str:
    """A feature named without its value (compact listings)."""
    size = len(pool)
    if feature < size:
        return f"the load on {pool[feature]}"
    return f"the {STATIC_NAMES[feature - size]}" if feature <= size + 1 else f"the job's {STATIC_NAMES[feature - size]}"


def short_reason(priority: str, pool: tuple[str, ...], chosen: int, kind: int, rival: int, detail: int) -> str:
    """One line for compact listings. detail: the metric (kind top) or the first term's feature (kinds agent
    and tie), -1 for none."""
    head = f"{priority} pool -> {pool[chosen]}"
    if kind == ONLY:
        return f"{head}, the only server that could take the job"
    if kind == EXPLORED:
        return f"{head}, an exploration step (picked at random)"
    r = pool[rival]
    if kind == TOP:
        return f"{head}, best quality score (above all its {METRIC_NAMES[detail]} score, against {r})"
    why = f"above all {feature_word(detail, pool)}" if detail >= 0 else "a tie, which goes to the first server in pool order"
    if kind == TIE:
        return f"{head}, tied with {r} on quality; the agent's learned values decided, {why}"
    return f"{head} over {r} (better quality score): the agent's learned values decided, {why}"
