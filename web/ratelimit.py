"""Fair shares: request rates per client address and per session, new sessions per address, and per-client
slots on POST /plan. A refusal is a 429 whose Retry-After says when to come back.

The counting is `limits` (alisaifee/limits): its in-memory storage and sliding-window-counter strategy,
two counters per key whatever the rate, expired by the library. slowapi, the FastAPI layer over the same
library, was not taken: its limits are declared per route by a decorator that needs a `request` argument
in every route, its middleware derives from BaseHTTPMiddleware, and its ASGI middleware sends the
response start again with every body chunk (laurentS/slowapi#249), which breaks the streamed /run.
One process needs no Redis: the counters live as long as the process, as sessions do.

A client is its address: scope["client"], which is the real client's only when uvicorn trusts the proxy in
front of it (FORWARDED_ALLOW_IPS; see docs/configuration.md). IPv6 clients are counted by their /64, the
block one subscriber gets, so one machine cannot make itself many clients.
"""

import ipaddress
import math
import time

from fastapi import HTTPException
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from scheduler.settings import Settings
from web.middleware import send_error

UNLIMITED_PATHS = ("/health",)
"""Load balancers poll it; it must answer whoever asks."""
UNLIMITED_PREFIXES = ("/static/",)
"""The page's files: cheap, cached by the browser, and 20-odd of them on every load."""
SESSION_HEADER = b"x-session-id"


def client_key(scope: Scope) -> str:
    """Who is asking: the client's address, an IPv6 one as its /64 (an IPv4-mapped one as IPv4)."""
    client = scope.get("client")
    host = client[0] if client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"  # a unix socket, or a test client's name
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _items(text: str) -> list[RateLimitItem]:
    return parse_many(text) if text else []


class RateLimiter:
    """The process's counters: per client, per session and for new sessions per client."""

    def __init__(self, settings: Settings):
        self._strategy = SlidingWindowCounterRateLimiter(MemoryStorage())
        self.per_client = _items(settings.rate_limit_client)
        self.per_session = _items(settings.rate_limit_session)
        self.new_sessions = _items(settings.rate_limit_new_sessions)

    def hit(self, items: list[RateLimitItem], namespace: str, key: str) -> int | None:
        """Count one request against each limit: None when all allow it, else the seconds until the
        first one that refused it would allow one again."""
        for item in items:
            if not self._strategy.hit(item, namespace, key):
                reset = self._strategy.get_window_stats(item, namespace, key).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None

    def admit_session(self, client: str) -> None:
        """Count a new session of `client`; HTTPException 429 when it has started too many lately."""
        wait = self.hit(self.new_sessions, "new-session", client)
        if wait is not None:
            raise HTTPException(
                429,
                f"too many new sessions from your address (TASKPILOT_RATE_LIMIT_NEW_SESSIONS: {_text(self.new_sessions)}); "
                f"keep using your session's X-Session-ID, or try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )


def _text(items: list[RateLimitItem]) -> str:
    return "; ".join(str(item) for item in items)


class RateLimits:
    """Pure ASGI middleware: every request but /health and /static counts against its client's rate and, with
    an X-Session-ID, its session's; over either, 429 with Retry-After before any of the request is read."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter):
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in UNLIMITED_PATHS or path.startswith(UNLIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        limiter = self.limiter
        wait, what = limiter.hit(limiter.per_client, "client", client_key(scope)), "your address"
        session = dict(scope["headers"]).get(SESSION_HEADER)
        if wait is None and session and len(session) <= 64:  # a longer id is refused by the route (400)
            wait, what = limiter.hit(limiter.per_session, "session", session.decode("latin-1")), "this session"
        if wait is None:
            await self.app(scope, receive, send)
            return
        items, setting = (limiter.per_client, "CLIENT") if what == "your address" else (limiter.per_session, "SESSION")
        detail = f"too many requests from {what} (TASKPILOT_RATE_LIMIT_{setting}: {_text(items)}); try again in {wait} s"
        await send_error(send, 429, detail, [(b"retry-after", str(wait).encode())])


class ClientSlots:
    """Pure ASGI middleware: at most `per_client` POSTs to `paths` of one client in progress at once (POST /plan:
    one client cannot hold every planning thread); one more gets 429. Counted on the event loop: no lock."""

    RETRY_AFTER_S = 5

    def __init__(self, app: ASGIApp, paths: tuple[str, ...], per_client: int, setting: str):
        self.app = app
        self.paths = paths
        self.per_client = per_client
        self.setting = setting
        self.active: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        client = client_key(scope)
        held = self.active.get(client, 0)
        if held >= self.per_client:
            detail = (
                f"your address has {held} {scope['path']} request(s) in progress and may have {self.per_client} at once "
                f"({self.setting}); retry when one has answered"
            )
            await send_error(send, 429, detail, [(b"retry-after", str(self.RETRY_AFTER_S).encode())])
            return
        self.active[client] = held + 1
        try:
            await self.app(scope, receive, send)
        finally:
            left = self.active[client] - 1
            if left:
                self.active[client] = left
            else:
                del self.active[client]
