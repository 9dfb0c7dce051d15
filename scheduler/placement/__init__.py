"""Where a job runs: the scenarios (reference | grid) that give each server's figures, run_batch (the tier
agents choosing a server of the job's pool), the pre-training of the agents, and World, built once per process.

May import: scheduler.timeshift (a grid batch is timed as it is placed), scheduler.data, scheduler.core,
scheduler.settings, rl.
"""
