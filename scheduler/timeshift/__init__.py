"""When a job runs: the carbon bands and FAST / ECO / defer rule (policy), forecasts, the planner, and
the planner's job inputs and requests (inputs, requests: what `python -m scheduler plan` and POST /plan use).

May import: scheduler.data, scheduler.core.
"""
