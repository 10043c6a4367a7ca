"""The first check of every request, before Gradio reads it.

Gradio copies (and hashes, on its event loop) any file a request names, and a mounted app
skips its own "was this uploaded?" check. So every POST body is looked at here first: file
paths in it must lie in the upload folder, and the body and uploads are bounded in size.
A refused request gets a short JSON answer (HTTP 400 or 413) that names no server path and
does not tell whether the named path exists; nothing is opened, copied or queued."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .paths import FileGate, not_uploaded

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_JSON_BYTES = 1 << 20  # API calls carry text and file references: 1 MiB is far more than any needs
MULTIPART_OVERHEAD = 1 << 16  # form boundaries and headers around an upload


def file_paths(data: Any) -> list[str]:
    """Every `path` of a file reference (a dict with a string "path", as Gradio's FileData) in a JSON value."""
    found: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("path"), str):
                found.append(item["path"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


class RequestGuard:
    """ASGI middleware in front of the whole app (pure ASGI: it must not buffer event streams)."""

    def __init__(self, app: ASGIApp, gate: FileGate, max_upload_bytes: int) -> None:
        self.app = app
        self.gate = gate
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        length = int(headers["content-length"]) if headers.get("content-length", "").isdigit() else None
        if headers.get("content-type", "").startswith("multipart/"):
            # Uploads: Gradio checks each file against max_file_size as it streams; refuse an
            # announced oversize body before a byte of it is read.
            if length is not None and length > self.max_upload_bytes + MULTIPART_OVERHEAD:
                await _answer(send, 413, f"The upload is {length / 2**20:.0f} MB; the limit is "
                              f"{self.max_upload_bytes / 2**20:.0f} MB per file (F5UI_MAX_UPLOAD_MB).")
                return
            await self.app(scope, receive, send)
            return
        if length is not None and length > MAX_JSON_BYTES:
            await _answer(send, 413, f"The request body is larger than {MAX_JSON_BYTES >> 20} MiB.")
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_JSON_BYTES:
                await _answer(send, 413, f"The request body is larger than {MAX_JSON_BYTES >> 20} MiB.")
                return
        refused = self._refused_path(body)
        if refused:
            log.warning("Refused a request to %s naming a file that was not uploaded: %r", scope["path"], refused[:200])
            await _answer(send, 400, str(not_uploaded()))
            return
        await self.app(scope, _replay(body, receive), send)

    def _refused_path(self, body: bytes) -> str:
        try:
            data = json.loads(body) if body else None
        except (ValueError, RecursionError):
            return ""  # not JSON: Gradio answers it (422), and there is no file reference in it to follow
        return next((path for path in file_paths(data) if not self.gate.allows(path)), "")


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the real channel (a streaming answer listens on it for the disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, status: int, message: str) -> None:
    payload = json.dumps({"error": message, "detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
