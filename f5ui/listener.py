"""How the server listens: what one connection may hold and what every answer says.

- **Connections**: at most F5UI_MAX_CONNECTIONS open at once. uvicorn's `limit_concurrency` answers a
  request beyond it with 503; a connection beyond it is closed as soon as it is accepted (below), so
  thousands of idle sockets cannot pile up either.
- **Slow requests**: uvicorn has no setting for a request that never finishes arriving (its
  `timeout_keep_alive` only covers the idle time *between* requests), so a small subclass of its
  httptools protocol adds one: a request's headers must be complete within F5UI_HEADER_TIMEOUT of its
  first byte (else 408 and the connection is closed), and its body may not stall longer than that
  while the app waits for it.
- **Security headers** on every answer, uvicorn's own 400/503 included (uvicorn's `headers` setting):
  no MIME sniffing, no full URLs in Referer to other sites, and a frame policy that lets only this
  site and Hugging Face (a Space is shown inside huggingface.co, from *.hf.space) embed the page."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .config import Settings

log = logging.getLogger(__name__)

SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Content-Security-Policy", "frame-ancestors 'self' https://huggingface.co https://*.hf.space"),
]


def _timed_out_answer() -> bytes:
    body = b"The request did not arrive in time."
    head = [b"HTTP/1.1 408 Request Timeout", b"content-type: text/plain; charset=utf-8",
            b"content-length: " + str(len(body)).encode(), b"connection: close"]
    head += [f"{name.lower()}: {value}".encode("latin-1") for name, value in SECURITY_HEADERS]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


TIMED_OUT = _timed_out_answer()


class TimedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for a request's headers, a stall limit for its body,
    and the connection limit applied at accept time. `timeout` is set by `protocol_class`."""

    timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._timer: asyncio.TimerHandle | None = None
        self._begun = self._last_data = self.loop.time()
        self._awaiting_headers, self._body_pending = True, False
        if self.limit_concurrency is not None and len(self.connections) > self.limit_concurrency:
            log.warning("Refused a connection: %d are open (F5UI_MAX_CONNECTIONS)", len(self.connections) - 1)
            transport.close()  # connection_lost follows and removes it from the set
            return
        self._arm(self.timeout)

    def data_received(self, data: bytes) -> None:
        self._last_data = self.loop.time()
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._begun = self.loop.time()
        self._awaiting_headers, self._body_pending = True, False
        self._arm(self.timeout)

    def on_headers_complete(self) -> None:
        self._awaiting_headers, self._body_pending = False, True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._body_pending = False
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_timer", None) is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def _arm(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(max(0.05, delay), self._check)

    def _check(self) -> None:
        self._timer = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:  # closed, or upgraded
            return
        now = self.loop.time()
        if self._awaiting_headers:
            left = self._begun + self.timeout - now
            if left <= 0:
                log.info("Closed a connection whose request headers did not arrive within %.0f s", self.timeout)
                self.transport.write(TIMED_OUT)
                self.transport.close()
                return
            self._arm(left)
        elif self._body_pending:
            if self.flow.read_paused:  # the app is not reading yet: the wait is ours, not the client's
                self._arm(self.timeout)
                return
            left = self._last_data + self.timeout - now
            if left <= 0:
                log.info("Closed a connection whose request body stalled for %.0f s", self.timeout)
                self.transport.close()
                return
            self._arm(left)


def protocol_class(timeout: float) -> type[TimedHttpProtocol]:
    """The protocol with F5UI_HEADER_TIMEOUT (uvicorn builds one per connection, from the class)."""
    return type("F5uiHttpProtocol", (TimedHttpProtocol,), {"timeout": max(0.1, float(timeout))})


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run's keyword arguments for these limits and headers."""
    return {"http": protocol_class(settings.header_timeout), "limit_concurrency": max(2, settings.max_connections),
            "headers": SECURITY_HEADERS, "server_header": False}
