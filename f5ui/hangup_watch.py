"""Noticing clients that hang up, as soon as they do, for every request.

An ASGI app only learns of a hang-up when it calls `receive()`, and nothing does while a take runs
in a thread (Starlette does not even close a sync iterator when the client leaves). So once a
request's body has been read, this middleware keeps one `receive()` waiting on the connection: it
returns when the client hangs up (or the answer is complete). A hang-up before the answer is
complete sets the request's flag (`scope["state"]["hangup"]`, read by /v1 as `request.state.hangup`)
and, for a Gradio event stream, records its key in the studio's `Hangups`, where the event's handler
looks (the stream is another request than the one that queued the event)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from .hangups import Hangup, Hangups

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The event streams a Gradio client listens on: /gradio_api/call/<api>/<event id> (the HTTP API; the
# event id is the event's session hash) and /gradio_api/queue/data?session_hash=... (browser, gradio_client).
CALL_STREAM = re.compile(r"^/gradio_api/call/(?:v2/)?[^/]+/([0-9a-fA-F]{8,64})/?$")
QUEUE_STREAM = "/gradio_api/queue/data"


def stream_key(scope: Scope) -> tuple[str | None, bool]:
    """The session hash a Gradio event stream is for, and whether it names one event only (an event id,
    never used again); (None, False) for any other request."""
    if scope.get("method") != "GET":
        return None, False
    path = scope.get("path", "")
    if match := CALL_STREAM.match(path):
        return match.group(1), True
    if path == QUEUE_STREAM:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return (query.get("session_hash") or [None])[0], False
    return None, False


class HangupWatch:
    """Pure ASGI middleware, outermost: it must see the connection's own `receive`."""

    def __init__(self, app: ASGIApp, hangups: Hangups) -> None:
        self.app = app
        self.hangups = hangups

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hangup = Hangup()
        scope.setdefault("state", {})["hangup"] = hangup
        key, one_event = stream_key(scope)
        answered = False
        gone = asyncio.Event()  # the connection's last message came: a hang-up, or the answer is complete
        listener: asyncio.Task | None = None

        def hung_up() -> None:
            if not answered and not hangup.is_set():
                hangup.set()
                if key:
                    self.hangups.hung_up(key, for_good=one_event)
                log.debug("Client hung up before the answer to %s %s was complete", scope["method"], scope["path"])
            gone.set()

        async def listen() -> None:
            message = await receive()  # after the body, this returns only on a hang-up or a complete answer
            if message["type"] == "http.disconnect":
                hung_up()

        async def watched_receive() -> Message:
            nonlocal listener
            if listener is not None or gone.is_set():  # the body was read: the listener owns the channel
                await gone.wait()
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.disconnect":
                hung_up()
            elif not message.get("more_body", False):
                listener = asyncio.create_task(listen())
            return message

        async def watched_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True
            await send(message)

        try:
            await self.app(scope, watched_receive, watched_send)
        finally:
            if listener is not None and not listener.done():
                listener.cancel()
