"""Plain types and rules, numpy only: jobs (JobBatch, validation), fleet, scoring, energy, units, the one
step-function integral (series), the vocabulary of names and codes (states), carbon bands, the when-policy's
record types (timing) and the exception family (errors).

May import: nothing of TaskPilot's. Everything else may import it.
"""
