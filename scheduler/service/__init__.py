"""The live service: sessions (each visitor's queue, history, agents and clock), the session summary, and
decisions as the API shows them (column-wise JSON, and the facts the explanations are rendered from).

May import: scheduler.placement, scheduler.timeshift, scheduler.data, scheduler.core, scheduler.settings, rl, xai.
"""
