"""TaskPilot's benchmark suite: `python -m bench` measures the issue's performance targets.

Modules: `workload` (the fixed job batch), `server` (a uvicorn subprocess on 127.0.0.1 and the HTTP
calls made to it), `cases` (one function per benchmark, each returning its figures), `report` (figures,
the printed table and results.json), `machine` (what the figures were measured on). See bench/README.md.
"""
