"""Studies run in the simulator: the placement evaluation and the deferral study, their reports.

May import: scheduler.sim, scheduler.placement, scheduler.timeshift, scheduler.data, scheduler.core,
scheduler.settings, rl.
"""
