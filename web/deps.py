"""Shared dependencies: the session of a request, the app's world, settings and explainer."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from scheduler.placement.engine import World
from scheduler.service.sessions import SESSION_ID, Session, SessionStore
from scheduler.settings import Settings
from web.llm_slots import LLMSlots
from web.ratelimit import RateLimiter, client_key
from xai.explainer import Explainer

SESSION_HEADER = "X-Session-ID"
NOTICE_HEADER = "X-Session-Notice"
# The pattern is documented here, not checked: SessionStore.get checks it and answers 400 (BadSessionId)
# naming the id, the status clients already handle; FastAPI's check would make it a 422.
SessionIdHeader = Annotated[
    str | None,
    Header(description="Session id (1-64 of A-Za-z0-9_-); omit to start a new session.", json_schema_extra={"pattern": SESSION_ID.pattern}),
]


# async on purpose: FastAPI sends plain `def` dependencies through the thread pool, a hop that costs
# more than these lookups.
async def get_world(request: Request) -> World:
    return request.app.state.world


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_explainer(request: Request) -> Explainer:
    return request.app.state.explainer


async def get_llm(request: Request) -> LLMSlots:
    return request.app.state.llm


async def get_store(request: Request) -> SessionStore:
    return request.app.state.sessions


async def get_session(
    request: Request,
    x_session_id: SessionIdHeader = None,
) -> Session:
    """The caller's session: the one named by X-Session-ID (created if new), or a new one.
    Its id comes back in the X-Session-ID response header of every answer, errors and streams included
    (web.middleware.SessionHeaders adds it from request.state)."""
    store: SessionStore = request.app.state.sessions
    owner, admit = new_session_gate(request)
    notice = None
    if x_session_id is None:
        session = store.create(owner=owner, admit=admit)
    else:
        session, notice = store.get(x_session_id, owner, admit)
    request.state.session_headers = [(SESSION_HEADER, session.id)] + ([(NOTICE_HEADER, notice)] if notice else [])
    return session


def new_session_gate(request: Request) -> tuple[str, Callable[[], None]]:
    """The client starting a session here, and the check that it may start one more (429 past
    TASKPILOT_RATE_LIMIT_NEW_SESSIONS), run only if a session is really created."""
    owner = client_key(request.scope)
    limiter: RateLimiter = request.app.state.limiter
    return owner, lambda: limiter.admit_session(owner)


async def get_known_session(request: Request, x_session_id: SessionIdHeader = None) -> Session | None:
    """Like get_session, but a request without X-Session-ID gets None instead of a new session."""
    return None if x_session_id is None else await get_session(request, x_session_id)


WorldDep = Annotated[World, Depends(get_world)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ExplainerDep = Annotated[Explainer, Depends(get_explainer)]
LLMDep = Annotated[LLMSlots, Depends(get_llm)]
SessionDep = Annotated[Session, Depends(get_session)]
StoreDep = Annotated[SessionStore, Depends(get_store)]
MaybeSessionDep = Annotated[Session | None, Depends(get_known_session)]
