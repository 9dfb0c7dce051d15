"""Read-only and session endpoints: page, health, session, fleet info, carbon hint, summary, agents, explain."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BeforeValidator

from rl.features import feature_names
from scheduler.core.errors import quote
from scheduler.core.states import TIERS, folded
from scheduler.placement.dqn_place import describe as describe_dqn
from scheduler.service.carbon_hint import carbon_hint
from scheduler.service.facts import decision_facts
from scheduler.service.summary import summarise
from scheduler.settings import ROOT
from web.body_guard import decode_object
from web.deps import (
    SESSION_HEADER,
    LLMDep,
    MaybeSessionDep,
    SessionDep,
    SettingsDep,
    WorldDep,
    new_session_gate,
)
from web.params import Seed
from web.responses import BUILD, SESSION_ERRORS, errors, links
from web.routes.assets import versioned
from web.schemas.info import AgentsOut, ExplainIn, ExplanationOut, HealthOut, InfoOut, SessionOut, SummaryOut, SustainabilityOut, TiersOut
from xai.templates import DecisionFacts, tier_summary

router = APIRouter()
DASHBOARD = ROOT / "frontend" / "templates" / "dashboard.html"


# The pages load nothing from other hosts and run no inline script. style-src is 'self' plus one hash, that of
# the empty string: Chart.js sizes its canvases through the CSSOM (element.style.x = ...), which CSP does not
# restrict, and app.js does the same; Redoc's styled-components inserts an empty <style> element and fills it
# through the CSSOM (insertRule), so that empty element, and no other inline style, is allowed.
EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
DASHBOARD_CSP = (
    f"default-src 'self'; img-src 'self' data:; style-src 'self' {EMPTY_STYLE}; script-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


PAGE_HEADERS = {"Content-Security-Policy": DASHBOARD_CSP, "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}
"""Every page: the CSP above; revalidated on each load, since it names today's version of its files (web/routes/assets.py)."""
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">{head}</head>
<body>{body}</body></html>
"""
# The API's pages, from vendored files (frontend/static/vendor/README.md) and no other host: they work with no
# network and run under the dashboard's CSP, their start-up code being a file of its own (Swagger UI) or the
# <redoc> element's attributes (Redoc: no search, whose worker would be a blob: script, and native scrollbars).
# The CSP still refuses two things Redoc asks for, by design: its scrollbar library's inline <style> (unused
# with native scrollbars) and the Redocly logo from cdn.redoc.ly.
SWAGGER_PAGE = DOCS_PAGE.format(
    title="TaskPilot API",
    head='<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">',
    body='<div id="swagger-ui"></div><script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>'
    '<script src="/static/docs/swagger-init.js"></script>',
)
REDOC_PAGE = DOCS_PAGE.format(
    title="TaskPilot API (Redoc)",
    head="",
    body='<redoc spec-url="/openapi.json" native-scrollbars="true" disable-search="true"></redoc>'
    '<script src="/static/vendor/redoc/redoc.standalone.js"></script>',
)


@router.get("/", include_in_schema=False)
def dashboard() -> HTMLResponse:
    return HTMLResponse(versioned(DASHBOARD.read_text(encoding="utf-8")), headers=PAGE_HEADERS)


@router.get("/docs", include_in_schema=False)
def swagger_ui() -> HTMLResponse:
    """Swagger UI: the API, tried from the browser."""
    return HTMLResponse(versioned(SWAGGER_PAGE), headers=PAGE_HEADERS)


@router.get("/redoc", include_in_schema=False)
def redoc() -> HTMLResponse:
    """Redoc: the API as one reference page."""
    return HTMLResponse(versioned(REDOC_PAGE), headers=PAGE_HEADERS)


@router.get("/health", tags=["info"], response_model=HealthOut)
@router.head("/health", tags=["info"], operation_id="health_head", response_model=HealthOut)  # HEAD too, for load balancers
async def health() -> dict[str, Any]:
    """Liveness for load balancers and Render's health check."""
    # async on purpose: answered on the event loop, with no thread of the shared pool (which plans, runs
    # and LLM calls may all hold) and no lock any work takes, so it answers while everything else is busy.
    return {"status": "ok", "build": BUILD, "run_accepts_body": True}


_NEW_SESSION = {"header.x-session-id": "$response.body#/session_id"}


@router.get(
    "/session",
    tags=["session"],
    response_model=SessionOut,
    responses={**errors(422, 503), **links(200, submit=_NEW_SESSION, submit_batch=_NEW_SESSION, run=_NEW_SESSION, summary=_NEW_SESSION)},
)
def new_session(
    request: Request,
    seed: Seed = None,
    scenario: Annotated[
        Literal["reference", "grid"] | None,
        BeforeValidator(folded),
        Query(description="Carbon signal: the seed's proxy or real grid data (any case: Grid is grid)."),
    ] = None,
) -> dict[str, Any]:
    """Start a session; pass `seed` to replay another session's decisions exactly, `scenario=grid` for
    real grid carbon intensity per server region and the physical energy model."""
    owner, admit = new_session_gate(request)
    session = request.app.state.sessions.create(seed, scenario, owner, admit)  # a sync route: building the grid runs off the event loop
    request.state.session_headers = [(SESSION_HEADER, session.id)]
    return {"session_id": session.id, "seed": session.seed, "scenario": session.scenario}


@router.get("/info", tags=["info"], response_model=InfoOut)
def info(world: WorldDep) -> dict[str, Any]:
    fleet = world.fleet
    return {
        "n_servers": fleet.n_servers,
        "server_ids": list(fleet.names),
        "tier_pools": {t: list(fleet.pool_names(i)) for i, t in enumerate(TIERS)},
    }


@router.get("/tiers", tags=["info"], response_model=TiersOut)
def tiers(world: WorldDep) -> dict[str, Any]:
    fleet = world.fleet
    pools = [set(p.tolist()) for p in fleet.pools]
    server_tiers = {
        name: {"capacity_tier": round(float(fleet.capacity_tier[s]), 4), **{f"in_{t}_pool": s in pools[i] for i, t in enumerate(TIERS)}}
        for s, name in enumerate(fleet.names)
    }
    return {"server_tiers": server_tiers, "total_servers": fleet.n_servers}


@router.get(
    "/sustainability", tags=["info"], response_model=SustainabilityOut, response_model_exclude_unset=True, responses=errors(*SESSION_ERRORS)
)
def sustainability(world: WorldDep, settings: SettingsDep, session: MaybeSessionDep) -> dict[str, Any]:
    """The carbon conditions the session's next job will see (a fresh session's without X-Session-ID), banded
    on the scale that job's decision will use."""
    pointer = session.engine.pointer if session else 0
    scenario = session.engine.scenario if session else world.runtime(settings.scenario).scenario
    return carbon_hint(world, scenario, pointer)


@router.get("/summary", tags=["session"], response_model=SummaryOut, response_model_exclude_unset=True, responses=errors(*SESSION_ERRORS))
def summary(world: WorldDep, session: SessionDep) -> dict[str, Any]:
    """Session KPIs and the 0-100 sustainability score."""
    with session.lock:
        records, queued = list(session.history), session.queued
    return summarise(records, world.fleet, queued, session.scenario)


@router.get("/agents", tags=["session"], response_model=AgentsOut, response_model_exclude_none=True, responses=errors(*SESSION_ERRORS))
def agents(world: WorldDep, session: SessionDep) -> dict[str, Any]:
    """The session's three tier agents: weights (one row per pool server), steps, exploration rate; and which
    policy places the session's jobs (`policy`): the agents, or in a grid session on a server with
    TASKPILOT_GRID_POLICY=dqn the pre-trained DQN (`dqn`: its features, size and training)."""
    with session.lock:
        dqn = session.engine.dqn
        out = {}
        for i, (tier, agent) in enumerate(zip(TIERS, session.engine.agents)):
            pool = world.fleet.pool_names(i)
            out[tier] = {"servers": list(pool), "features": list(feature_names(len(pool))), "weights": agent.weights.round(6).tolist(),
                         "steps": agent.steps, "epsilon": round(agent.epsilon(), 6)}  # fmt: skip
    if dqn is None:
        return {"agents": out, "policy": "tier_agents"}
    return {"agents": out, "policy": "dqn", "dqn": describe_dqn(dqn)}


_EXPLAIN_EXAMPLES = {"job": {"value": {"job_id": 1}}, "tier": {"value": {"priority": "green"}}}
_EXPLAIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ExplainIn.model_json_schema(), "examples": _EXPLAIN_EXAMPLES}},
    }
}


# The body is read as any object on purpose (see ExplainIn): a job_id that is not a scheduled job's is a
# 404 whatever its type, as the reference answers.
@router.post("/explain", tags=["jobs"], response_model=ExplanationOut, response_model_exclude_unset=True,
             responses=errors(*SESSION_ERRORS, 404, 413, 422), openapi_extra=_EXPLAIN_BODY)  # fmt: skip
async def explain(request: Request, world: WorldDep, session: SessionDep, slots: LLMDep) -> dict[str, Any]:
    """Explain a scheduled job of this session by `job_id`, from the server's own record (LLM-refined when
    a key is configured). Without a known job, a `priority` gets the tier-level explanation."""
    raw = await request.body()

    def read() -> tuple[dict[str, Any], DecisionFacts | None]:
        # Off the event loop: decoding a 16 MB body took about 150 ms of it, and every /health waited.
        payload = decode_object(raw)
        job_id = payload.get("job_id")
        found = session.find(job_id) if isinstance(job_id, int) and not isinstance(job_id, bool) else None
        return payload, (decision_facts(world, found[0], found[1], found[1] + 1)[0] if found else None)

    payload, facts = await run_in_threadpool(read)
    job_id = payload.get("job_id")
    if facts is not None:
        result = await slots.refine(facts)
        return {"job_id": job_id, "explanation": result.text, "source": result.source, "note": result.note}
    priority = payload.get("priority")
    if isinstance(priority, str) and priority.strip().lower() in TIERS:
        tier = TIERS.index(priority.strip().lower())
        return {
            "explanation": tier_summary(TIERS[tier], world.fleet.pool_names(tier)),
            "source": "template",
            "note": "no scheduled job with this job_id in the session; tier-level explanation",
        }
    raise _nothing_to_explain(job_id, priority)


_EXPLAIN_HINT = 'send {"job_id": N} with an id from POST /run or GET /history of this session (same X-Session-ID), or {"priority": "green"}'


def _nothing_to_explain(job_id: Any, priority: Any) -> HTTPException:
    """404 for a job_id that is no scheduled job of the session; 422 naming what is missing or wrong else."""
    tiers = ", ".join(TIERS)
    bad_priority = [] if priority is None else [{"field": "priority", "message": f"must be one of {tiers}; got {quote(priority)}"}]
    if job_id is None:
        missing = {"field": "job_id", "message": "job_id is missing: /explain explains a scheduled job (or, given a priority, a tier)"}
        return HTTPException(422, [{**missing, "hint": _EXPLAIN_HINT}, *bad_priority])
    unknown = {"field": "job_id", "message": f"no scheduled job {quote(job_id)} in this session", "hint": _EXPLAIN_HINT}
    return HTTPException(404, [unknown, *bad_priority])
