"""HTTP only: dependencies, error answers, middleware, response helpers and the routes. A route parses,
makes one call into scheduler.service (or a study), and answers.

May import: scheduler (any layer but cli), rl, xai. Nothing imports web but api.py.
"""
