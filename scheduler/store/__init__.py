"""Durability: workflows, their tasks, attempts and transitions, behind one interface (`Store`, as Celery
keeps results behind its Backend), in memory or in SQLite; `open_store` in factory.py picks one.

May import: scheduler.core only. Imported by scheduler.execution and scheduler.service.
"""
