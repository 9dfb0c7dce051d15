"""The online feedback loop in the simulator: does rl.dispatcher.OnlineLearner, as the executor's rl order uses
it, actually learn?

A stream of instances is run one after another on one time line (each shifted past the last), with the
policy sampling its choices and recording them, as the executor's rl order does when learning is on. Each
instance's missed deadlines go to the learner, which steps every time `batch` decisions are ripe, exactly
as in the executor (returns measured against a ridge regression on the queue's mean features, no parallel
episodes). The difference from the executor: the learner hears of a miss when its instance ends rather
than when the task ends, which changes nothing for the decisions it steps on (they are ripe only once 3
discount times have passed after them). After every instance the greedy policy is scored on fixed
validation instances: the online learning curve.
"""

from dataclasses import dataclass, field

import numpy as np

from rl.dispatcher import DISCOUNT_TIME, Decisions, Dispatcher, OnlineLearner
from scheduler.dispatch.dispatchers import LearnedDispatcher
from scheduler.dispatch.simulator import Queue, measure, simulate
from scheduler.dispatch.train import TRAIN_MAIN, validation_set
from scheduler.dispatch.workload import draw_instance


@dataclass
class Recording:
    """Samples from the policy and hands every choice to the learner, at its time on the shared time line."""

    learner: OnlineLearner
    rng: np.random.Generator
    offset: float = 0.0
    name: str = "rl-online"
    scratch: LearnedDispatcher = field(init=False)

    def __post_init__(self) -> None:
        self.scratch = LearnedDispatcher(self.learner.policy, self.rng)

    def pick(self, queue: Queue) -> int:
        self.scratch.decisions = Decisions()
        chosen = self.scratch.pick(queue)
        for x, c in zip(self.scratch.decisions.rows, self.scratch.decisions.chosen, strict=True):
            self.learner.record(x, c, self.offset + queue.now)
        return chosen


def learn_online(policy: Dispatcher, seed: int, instances: int, every: int = 1, batch: int = 32, validation: int = 4,
                 lr: float = OnlineLearner.lr) -> list[dict[str, float]]:  # fmt: skip
    """The greedy validation miss rate before the stream and after every `every` instances and the last (the
    policy learns in place)."""
    draws, acts = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    checks = validation_set(seed, validation)
    learner = OnlineLearner(policy, tau_s=DISCOUNT_TIME, batch=batch, lr=lr)
    curve = [_point(0, policy, checks, 0)]
    recorder, offset = Recording(learner, acts), 0.0
    for k in range(1, instances + 1):
        instance = draw_instance(TRAIN_MAIN, draws)
        recorder.offset = offset
        run = simulate(instance, recorder)
        missed = run.dead | (run.finish > instance.deadline + 1e-9)
        for deadline in instance.deadline[missed]:
            learner.missed(offset + float(deadline))
        end = offset + float(np.nanmax(np.concatenate([run.finish, instance.deadline])))
        # the executor learns a batch at a time as decisions ripen; step through this instance's the same way
        times = np.array(learner.decisions.times)
        for t in times[batch - 1 :: batch]:
            learner.learn(float(t) + learner.horizon * DISCOUNT_TIME)
        learner.learn(end + learner.horizon * DISCOUNT_TIME)
        offset = end + 10 * DISCOUNT_TIME
        if k % every == 0 or k == instances:
            curve.append(_point(k, policy, checks, learner.updates))
    return curve


def _point(k: int, policy: Dispatcher, checks: list, updates: int) -> dict[str, float]:  # type: ignore[type-arg]
    rates = [measure(i, simulate(i, LearnedDispatcher(policy))).miss_rate for i in checks]
    return {"instance": k, "miss_rate": float(np.mean(rates)), "updates": updates}
