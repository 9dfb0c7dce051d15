"""Learning algorithms only, fed arrays: the tier agents (agent, the compiled kernel, features) and a generic numpy DQN (dqn).

May import: scheduler.core at most. Building the states the agents learn from belongs to scheduler.placement.
"""
