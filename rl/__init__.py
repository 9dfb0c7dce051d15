"""Learning algorithms only, fed arrays: the tier agents (agent, the compiled kernel, features), a generic numpy DQN (dqn) and
the learned dispatcher (dispatcher: which ready job runs next, with its per-job features).

May import: scheduler.core at most. Building the states the agents learn from belongs to scheduler.placement.
"""
