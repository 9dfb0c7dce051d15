"""TaskPilot's benchmark suite: `python -m bench` measures the issue's performance targets.

Imports go one way. `cases` is the registry (name -> function); it imports the `case_*` modules, one per
family of benchmarks, and they import only the shared helpers: `sizes` (how much a run does), `workload`
(the fixed job batch), `live` (a real uvicorn on 127.0.0.1, shared with the tests and docs/screenshots.py),
`server` (the HTTP calls made to it), `inprocess` (default settings and the World), `report` (figures, the
printed table and results.json). `machine` says what the figures were measured on; `ab` compares two
revisions. See bench/README.md.
"""
