"""The routers, one module per area of the API: info, jobs, plan, simulate.

May import: web's own modules, and what web may import.
"""
