"""The dispatch study (issue 14, seed 003): which ready job a free worker runs next, in a simulator of its own.

Finite workers, jobs with deadlines, priorities, DAG dependencies and injected failures with retries
(workload, simulator); FIFO, priority, EDF, SJF and the learned dispatcher of rl/dispatcher.py
(dispatchers); its REINFORCE training (train) and the seeded comparison with confidence intervals (study).

May import: rl and scheduler.core.
"""
