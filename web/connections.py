"""What a connection may do on the wire: a request's head, bounded by uvicorn's protocol
(BoundedHttpToolsProtocol), and its body, by an ASGI middleware (BodyDeadline).

- The head must arrive whole within TASKPILOT_HEADER_TIMEOUT_S of the connection opening or of its first
  byte, and be at most TASKPILOT_MAX_HEADER_BYTES long; past either, the connection is closed (with a 431
  for a head too large). uvicorn bounds the idle time between requests (--timeout-keep-alive) but neither
  the time a client takes to send a head nor its size: a client trickling a header a byte at a time held
  its connection (and, under --limit-concurrency, a slot) for good, and 200 MB of headers were buffered
  whole. The start commands name the class: `uvicorn api:app --http web.connections:BoundedHttpToolsProtocol`
  (bench/live.py's SERVE_FLAGS).
- The body may go TASKPILOT_BODY_TIMEOUT_S without sending anything (408), and a client that drops it
  half-way leaves one DEBUG line, not a traceback. Its size is web/middleware.py's BodySizeLimit's.
"""

import asyncio
import logging
from typing import Any

import orjson
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from scheduler.settings import get_settings

log = logging.getLogger(__name__)
_TEXT = b"the request line and headers are too large (TASKPILOT_MAX_HEADER_BYTES)\n"
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_TEXT), _TEXT)
)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.head_timeout_s, self.max_head_bytes = settings.header_timeout_s, settings.max_header_bytes
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head, self._head_bytes = True, 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # nothing sent yet counts as a head not yet complete

    def data_received(self, data: bytes) -> None:
        # While a head is incomplete, the parser is fed at most what the head may still take, so a head
        # over the limit is never buffered whole (httptools keeps a header's text until it is complete).
        while data and not self.transport.is_closing():
            if not self._in_head:
                super().data_received(data)
                return
            room = self.max_head_bytes - self._head_bytes
            if room <= 0:
                log.debug("closed a connection whose request head passed %d bytes", self.max_head_bytes)
                self.transport.write(TOO_LARGE)
                self._close()
                return
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            super().data_received(piece)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._arm()

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0  # the next message's head counts from its own start
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            log.debug("closed a connection that sent no whole request head within %g s", self.head_timeout_s)
            self._close()

    def _close(self) -> None:
        self._disarm()
        self.transport.close()


class _SlowBody(Exception):
    pass


class BodyDeadline:
    """Pure ASGI middleware for a request body's two ways of going wrong on the wire.

    A body that sends nothing for `timeout_s` (between two chunks) gets 408 and its connection is closed:
    uvicorn never times a body out, so a client trickling one held its request, its buffer and a
    concurrency slot for as long as it liked. Once the body is complete, receiving (waiting for the
    client to disconnect, as web/work.py does) has no deadline. And a client that goes while sending its
    body ends its request quietly, one DEBUG line, instead of a traceback in the log for every dropped upload
    (starlette's ClientDisconnect, raised in whichever reader was reading)."""

    def __init__(self, app: ASGIApp, timeout_s: float):
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = slow = started = False

        async def timed_receive() -> Message:
            nonlocal complete, slow
            if complete:
                return await receive()
            try:
                async with asyncio.timeout(self.timeout_s):
                    message = await receive()
            except TimeoutError:
                slow = True
                raise _SlowBody from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            if message["type"] == "http.disconnect":  # seen here, whichever reader (some catch what follows)
                log.debug("%s %s: the client went while sending its body", scope.get("method"), scope.get("path"))
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if slow:  # whatever a reader that caught _SlowBody answers, the answer is the 408
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except _SlowBody:
            pass
        except ClientDisconnect:  # logged above, when it came: nothing to answer, and no traceback
            return
        if slow and not started:
            detail = f"the request body sent nothing for {self.timeout_s:g} s (TASKPILOT_BODY_TIMEOUT_S); the connection is closed"
            body = orjson.dumps({"detail": detail})
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
            await send({"type": "http.response.start", "status": 408, "headers": headers})
            await send({"type": "http.response.body", "body": body})
