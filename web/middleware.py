"""ASGI middlewares: the request body cap (413), the session headers on every response, nosniff and no-store
(SecurityHeaders), writes only as JSON (JsonOnly, 415/403) and API keys for writes (ApiKeys, 401)."""

import contextlib
import hashlib
import hmac

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import sentence


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Pure ASGI middleware: checks Content-Length up front and counts streamed (chunked) bytes."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        seen = 0
        too_large = started = False

        async def counting_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Some readers (multipart parsing) catch our exception and answer 400 themselves: once the
            # body was too large, whatever the app says is replaced by the 413.
            nonlocal started
            if too_large:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if too_large and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await send_error(send, 413, f"request body too large: the limit is {self.max_bytes} bytes (TASKPILOT_MAX_BODY_BYTES)")


class SessionHeaders:
    """Adds X-Session-ID (and X-Session-Notice) to every response of a request that resolved a session,
    whatever built the response: a route, an error handler or a stream."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get("session_headers", [])
                if extra:
                    present = {k.lower() for k, _ in message.get("headers", [])}
                    added = [(k.lower().encode(), v.encode("latin-1")) for k, v in extra if k.lower().encode() not in present]
                    message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_session)


async def send_error(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer `detail` with `status` from a middleware, before the app has read anything, in the shape of
    every error answer (web.errors)."""
    body = sentence(status, detail)
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SecurityHeaders:
    """Every answer says `X-Content-Type-Options: nosniff` (a browser never guesses a type, so a job name or a
    CSV row can never run as a script or a page), and one that sets no cache policy of its own (the API's)
    says `Cache-Control: no-store`: a session's answers stay out of shared and disk caches. The page and its
    files set their own (web/routes/assets.py)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class JsonOnly:
    """Refuses what another site's page can make a visitor's browser send here without asking first (a
    "simple" cross-origin request: a form, or a fetch of text/plain): a write (POST, PUT, PATCH, DELETE)
    must send its body as application/json, or, to the `multipart` paths (POST /upload), as multipart with
    the X-Session-ID header, which no form can add. A body whose type is anything else, or is unstated, gets
    415; an empty body with no type passes (`curl -X POST /run` runs the queue). Requests that do carry
    JSON or a custom header are preflighted by the browser, and CORS is off unless configured."""

    def __init__(self, app: ASGIApp, multipart: tuple[str, ...] = ("/upload",)):
        self.app = app
        self.multipart = multipart

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await send_error(send, *refusal)

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = dict(scope["headers"])
        media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        what = f"{scope['method']} {scope['path']}"
        if media == b"application/json":
            return None
        if media == b"multipart/form-data" and scope["path"] in self.multipart:
            if headers.get(b"x-session-id"):
                return None
            return 403, (
                f"{what} with a multipart body needs the X-Session-ID header (GET /session gives one): "
                "a header no other site's form can send"
            )
        if not media and headers.get(b"content-length", b"0") == b"0" and b"transfer-encoding" not in headers:
            return None  # no body at all
        sent = media.decode("latin-1")[:60] or "none"
        accepted = "application/json, or multipart/form-data with X-Session-ID" if scope["path"] in self.multipart else "application/json"
        return 415, (
            f"{what} takes a body of type {accepted}; this one is of type {sent!r}. Send Content-Type: application/json "
            "(other types are refused so that other sites' pages cannot post here through a visitor's browser)"
        )


def key_hashes(setting: str) -> tuple[bytes, ...]:
    """The SHA-256 digests of TASKPILOT_API_KEY_HASHES as bytes."""
    return tuple(bytes.fromhex(d.strip()) for d in setting.split(",") if d.strip())


class ApiKeys:
    """With keys configured, a write (POST, PUT, PATCH, DELETE) needs one: `X-API-Key: KEY` or
    `Authorization: Bearer KEY`. Only SHA-256 digests are kept; the sent key's digest is compared with each
    of them in constant time (hmac.compare_digest, all of them every time), so neither the keys nor how much
    of one matched can be read from the settings or from timing. A missing or wrong key gets 401. Reads stay
    open: the page and GET endpoints work without a key."""

    def __init__(self, app: ASGIApp, hashes: tuple[bytes, ...]):
        self.app = app
        self.hashes = hashes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        detail = (
            f"{scope['method']} {scope['path']} needs an API key on this server: send X-API-Key: KEY "
            "(or Authorization: Bearer KEY); a missing or unknown key is refused"
        )
        await send_error(send, 401, detail, [(b"www-authenticate", b'Bearer realm="taskpilot"')])

    def _allowed(self, scope: Scope) -> bool:
        headers = dict(scope["headers"])
        key = headers.get(b"x-api-key")
        if key is None:
            scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
            key = token.strip() if scheme.lower() == b"bearer" else None
        if not key:
            return False
        digest = hashlib.sha256(key).digest()
        matched = [hmac.compare_digest(digest, known) for known in self.hashes]  # every one, whatever matched
        return any(matched)


def cors_options(origins: str) -> dict[str, object]:
    """Starlette CORSMiddleware's options for the comma-separated TASKPILOT_CORS_ORIGINS: those origins may
    send what the page sends and read the headers it reads."""
    return {
        "allow_origins": [o.strip() for o in origins.split(",") if o.strip()],
        "allow_methods": ["GET", "HEAD", "POST", "DELETE"],
        "allow_headers": ["Content-Type", "X-Session-ID", "X-API-Key", "Authorization", "Idempotency-Key"],
        "expose_headers": ["X-Session-ID", "X-Session-Notice", "Retry-After", "Location", "Idempotent-Replayed"],
        "max_age": 600,
    }
