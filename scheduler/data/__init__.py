"""Readers of dataset_rl/ and their cache: the reference inputs, grid zones and regions, signals,
workloads, carbon-series CSVs and the power curve. Pandas, where used at all, stays here.

May import: scheduler.core.
"""
