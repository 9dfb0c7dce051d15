"""What the API takes and answers, as pydantic models: `...In` for request bodies, `...Out` for answers,
one module per router (info, jobs, plan, simulate) and the shared pieces in common.

Two kinds of answer model. Small answers (health, session, summary, ...) are returned as dicts and FastAPI
validates them against their model, so a route that drifts from its schema fails loudly. Big answers
(POST /run, GET /history, /queue, /jobs/{id}, POST /plan, GET /simulate/{id}) are encoded column-wise
(scheduler/service/decisions.py) or by orjson and returned as a Response, which FastAPI sends untouched:
their models only document the shape, and tests/web/test_openapi.py and the fuzzer check real answers
against them. A field that exists only in grid sessions is typed `X | SkipJsonSchema[None] = None`: the
schema says "absent, or an X", and routes that return dicts use response_model_exclude_unset, so such a
field is left out rather than sent as null.

May import: web.params, and what web may import (scheduler's vocabulary and config models); not the routes.
"""
