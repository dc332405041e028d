"""Read timeouts, so a client that opens a connection and sends nothing (or dribbles its headers or
body a byte at a time) cannot hold a connection, a worker and a temporary file for ever.

    HeaderTimeoutProtocol   uvicorn's h11 protocol that closes a connection whose request headers are
                            not complete within ``HEADER_TIMEOUT_S`` of its opening (or of the last
                            response); uvicorn's own keep-alive timer stops as soon as any byte arrives
    BodyReadTimeout         ASGI middleware: 408 when the next piece of a body does not arrive within
                            ``BODY_IDLE_TIMEOUT_S`` (a gap between pieces, not the whole upload)
    server_config(app)      the uvicorn settings every engine uses (child, in-process, remote)
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0
BODY_IDLE_TIMEOUT_S = 30.0
KEEP_ALIVE_S = 5
MAX_HEADER_BYTES = 64 * 1024  # h11's limit on an incomplete request head


class HeaderTimeoutProtocol(H11Protocol):
    """Closes the connection when a request's headers take longer than ``HEADER_TIMEOUT_S``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._seen_cycle: object = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and self.cycle is not self._seen_cycle:  # a request head arrived
            self._seen_cycle = self.cycle
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request's headers get the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class BodyReadTimeout:
    """408 when a request body stalls; passes every other message (SSE disconnect waits) untouched.
    The 408 is raised from ``receive`` as an HTTP exception, so the app answers in its error shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False

        async def timed() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), BODY_IDLE_TIMEOUT_S)
            except TimeoutError:
                raise StarletteHTTPException(
                    408,
                    f"The request body stopped arriving for {BODY_IDLE_TIMEOUT_S:.0f} s.",
                    headers={"Connection": "close"},
                ) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed, send)


def server_config(app: ASGIApp) -> uvicorn.Config:
    """uvicorn settings of every engine: h11 with the header timeout, short keep-alive, bounded heads."""
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        http=HeaderTimeoutProtocol,
        timeout_keep_alive=KEEP_ALIVE_S,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
