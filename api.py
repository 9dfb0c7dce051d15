"""TaskPilot's HTTP entry point: create_app(settings) builds the app; `uvicorn api:app` serves it.

Process-wide objects (settings, fleet, signals, pretrained agents, explainer, sessions) are built in the
lifespan and kept on app.state; routes live in web/ and do parse -> one domain call -> respond.
"""

# ruff: noqa: E402 -- the imports follow gc.disable() on purpose
import gc

gc.disable()  # the imports below make many objects and no garbage; collecting during them cost ~30 ms of start-up here

from web.malloc import limit_arenas

limit_arenas()  # before any thread starts: two malloc arenas, not eight per core (web/malloc.py)

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from scheduler.placement.world import build_world
from scheduler.service.sessions import SessionStore
from scheduler.service.workflows import build_workflows
from scheduler.settings import ROOT, Settings, get_settings
from web import connections, errors
from web.llm_slots import LLMSlots
from web.middleware import ApiKeys, BodySizeLimit, JsonOnly, SecurityHeaders, SessionHeaders, cors_options, key_hashes
from web.ratelimit import ClientSlots, RateLimiter, RateLimits
from web.responses import BUILD, ORJSONResponse, document_guards
from web.routes import assets as routes_assets
from web.routes import info as routes_info
from web.routes import jobs as routes_jobs
from web.routes import plan as routes_plan
from web.routes import simulate as routes_sim
from web.routes import workflows as routes_workflows
from web.schemas.common import TAGS, operation_id
from web.simulations import SimulationRunner
from web.work import WorkPool
from xai.explainer import build_explainer

log = logging.getLogger("taskpilot")
SWITCH_INTERVAL_S = 0.001


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        world = build_world(settings)
        if settings.scenario != "reference":
            world.runtime(settings.scenario)  # the default for new sessions: build it now, not on a first request
        app.state.settings = settings
        app.state.world = world
        app.state.sessions = SessionStore(
            world,
            settings.seed,
            settings.session_ttl_s,
            settings.max_sessions,
            settings.max_session_jobs,
            settings.max_total_jobs,
            default_scenario=settings.scenario,
            max_client_jobs=settings.max_client_jobs,
        )
        app.state.explainer = build_explainer(
            settings.groq_api_key, settings.llm_model, settings.llm_timeout_s, settings.llm_base_url, settings.llm_cache_size
        )
        app.state.llm = LLMSlots(app.state.explainer, settings.llm_concurrency)  # LLM refinements' own threads (web/llm_slots.py)
        # Everything built so far lives as long as the process: keep it out of the cyclic GC's scans,
        # which otherwise dominate the cost of building big responses (measured 3x on /run).
        gc.freeze()
        # The event loop takes the interpreter lock back from busy worker threads (plans, runs) within 1 ms
        # rather than 5: /health's p99 with plans, LLM calls and 100,000-job runs all at once (bench: health).
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        app.state.simulations = SimulationRunner(world, settings)
        app.state.plans = WorkPool(settings.plan_workers, settings.max_plan_waiting, "plan")  # POST /plan's threads (web/work.py)
        app.state.workflows = build_workflows(settings, app.state.sessions)  # takes back what a killed process left running
        log.info(
            "ready: %d servers, %d pretraining episodes per tier, seed %d", world.fleet.n_servers, settings.pretrain_episodes, settings.seed
        )
        yield
        await app.state.plans.close()  # a plan still running stops at its next chunk
        app.state.simulations.shutdown()  # running simulations stop at their next chunk
        app.state.workflows.stop()  # graceful: running tasks get TASKPILOT_SHUTDOWN_GRACE_S, the rest stay queued

    app = FastAPI(
        title="TaskPilot",
        version=BUILD.split("-")[-1],
        lifespan=lifespan,
        default_response_class=ORJSONResponse,
        description="Carbon-aware, explainable job scheduler.",
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        docs_url=None,  # /docs and /redoc are web/routes/info.py's: vendored assets under the page's CSP
        redoc_url=None,
    )
    install_guards(app, settings)
    errors.install(app)
    # Outermost: every reader of a body gets the per-chunk deadline, and a client gone mid-body is no traceback.
    app.add_middleware(connections.BodyDeadline, timeout_s=settings.body_timeout_s)
    app.include_router(routes_info.router)
    app.include_router(routes_jobs.router)
    app.include_router(routes_sim.router)
    app.include_router(routes_plan.router)
    app.include_router(routes_workflows.router)
    app.include_router(routes_assets.router)  # GET /js/states.js: the page's vocabulary, from Python
    # The dashboard's script, styles and vendored Chart.js; mounts stay out of the OpenAPI schema.
    app.mount("/static", routes_assets.PageFiles(directory=ROOT / "frontend" / "static"), name="static")
    return app


def install_guards(app: FastAPI, settings: Settings) -> None:
    """The middlewares, innermost first (each add_middleware wraps the ones before it): session headers,
    per-client /plan slots, the body cap, JSON-only writes, API keys (when configured), rate limits, CORS
    (when configured) and, around everything, nosniff and no-store."""
    app.add_middleware(SessionHeaders)
    app.add_middleware(ClientSlots, paths=("/plan",), per_client=settings.max_client_plans, setting="TASKPILOT_MAX_CLIENT_PLANS")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(JsonOnly)
    if settings.api_key_hashes:
        app.add_middleware(ApiKeys, hashes=key_hashes(settings.api_key_hashes))
    app.state.limiter = RateLimiter(settings)  # web.deps counts new sessions on it too
    app.add_middleware(RateLimits, limiter=app.state.limiter)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, **cors_options(settings.cors_origins))
    app.add_middleware(SecurityHeaders)
    openapi = app.openapi
    keys = bool(settings.api_key_hashes)
    app.openapi = lambda: app.openapi_schema or document_guards(openapi(), keys)  # the guards' answers on every operation


app = create_app()
gc.enable()
