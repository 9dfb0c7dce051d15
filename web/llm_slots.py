"""LLM refinements on a few threads of their own, so that a provider that hangs cannot take the shared pool.

An LLM refinement blocks a thread for up to TASKPILOT_LLM_TIMEOUT_S (and single-flight waiters on one key
block as long). Run on the shared thread pool, forty such requests from one client took every thread that
the synchronous endpoints (/run, /submit, /jobs, ...) need, so every other visitor waited for the provider
(bench: health, stage `all`). Here at most TASKPILOT_LLM_CONCURRENCY refinements run at once, on threads
counted by a limiter of their own; one more gets the deterministic template at once, with a note saying
why, rather than waiting for a slot: an explanation is never worth holding a request open for.
"""

import anyio
import anyio.to_thread

from xai.explainer import Explainer, Explanation
from xai.templates import DecisionFacts


class LLMSlots:
    def __init__(self, explainer: Explainer, slots: int):
        self.explainer, self.slots = explainer, slots
        self.busy = 0
        """Refinements running now; only the event loop changes it."""
        # The threads' own limiter, so that they are not counted against the shared pool's. It never makes a
        # caller wait: `busy` admits at most `slots` callers. (Its own check would not do: run_sync yields to
        # the loop before it acquires, so every caller that arrives meanwhile would pass and then wait.)
        self._threads = anyio.CapacityLimiter(slots)

    async def refine(self, facts: DecisionFacts) -> Explanation:
        """explainer.refine(facts) on a thread of this limiter's, or the template when every slot is taken."""
        if self.busy >= self.slots:
            note = f"{self.slots} LLM refinements are in progress, the most this server runs at once (TASKPILOT_LLM_CONCURRENCY)"
            return Explanation(self.explainer.template(facts), "template", note)
        self.busy += 1
        try:
            return await anyio.to_thread.run_sync(self.explainer.refine, facts, limiter=self._threads)
        finally:
            self.busy -= 1
