"""The command line: `python -m scheduler` (or the `taskpilot` script) with evaluate, plan, data, run and status.

May import: anything in scheduler and rl; never web. Nothing imports cli but scheduler/__main__.py.
"""
