"""The discrete-event simulator: the fleet under a workload, the signal clock (carbon and price over
simulated time), placement policies behind one interface, and the metrics of a run.

May import: scheduler.placement, scheduler.timeshift, scheduler.data, scheduler.core, rl.
"""
