"""Every name TaskPilot gives a class of job or decision, and the int8 codes that index them.

The one vocabulary of Python, the API and the page (web/routes/assets.py serves these tuples to the
page as an ES module), as Celery keeps every state name in `celery/states.py`. A code is the position
of its name in the tuple: records hold codes, answers hold names.
"""

TIERS: tuple[str, str, str] = ("green", "balanced", "performance")
"""Tier names in pool order: green gets the smallest servers, performance the largest."""

LATENCIES: tuple[str, str, str] = ("low", "medium", "high")

URGENCIES: tuple[str, str, str] = ("critical", "normal", "flexible")
CRITICAL, NORMAL, FLEXIBLE = 0, 1, 2

BANDS: tuple[str, str, str] = ("low", "medium", "high")
"""Carbon bands, on whichever scale a decision uses (scheduler.core.bands)."""
LOW, MEDIUM, HIGH = 0, 1, 2

MODES: tuple[str, str] = ("fast", "eco")
"""Execution modes; their physics is scheduler.core.energy.MODES, in the same order."""

ACTIONS: tuple[str, str, str] = ("run now, FAST", "run now, ECO", "defer")
RUN_FAST, RUN_ECO, DEFER = 0, 1, 2

STATUSES: tuple[str, str, str] = ("scheduled", "deferred", "released")
"""A decision's status: placed to run now; deferred to a later start; deferred and its start reached."""
SCHEDULED, DEFERRED, RELEASED = 0, 1, 2

# Why the when-policy (scheduler.timeshift.policy) took its action; xai.when says each in words.
REASON_CRITICAL, REASON_LOW, REASON_HIGH_ECO, REASON_ECO_LATE, REASON_NOT_FLEXIBLE = range(5)
REASON_NO_ROOM, REASON_DEFERRED, REASON_NOW_GREENEST, REASON_TOO_SHORT = range(5, 9)
