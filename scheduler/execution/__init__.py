"""Running workflows for real: the task kinds, workflow validation and DAG planning, retries, worker
processes in FAST and ECO pools, the executor loop with its clock and queue order, and saga rollback.

May import: scheduler.store, scheduler.placement, scheduler.timeshift, scheduler.data, scheduler.core.
Imported by scheduler.service (which places each task with the session's agents before it runs here).
"""
