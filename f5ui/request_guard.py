"""The first check of every request, before Gradio or any route reads it.

Every body is measured as it streams in, whatever its headers claim (a Content-Length, a
Content-Type, or two of them): an upload (POST /gradio_api/upload) may carry F5UI_MAX_UPLOAD_MB in
at most F5UI_MAX_UPLOAD_FILES files, anything else 1 MiB. Past that the request gets 413 at once.
Uploads are spooled (to a temporary file past 1 MiB) and handed on only when whole and within
bounds, after room was made in the upload folder (F5UI_UPLOAD_FOLDER_MB, oldest files first), so a
refused upload leaves nothing behind. A JSON body is read here: file paths in it must lie in the
upload folder (Gradio copies, and hashes on its event loop, any file a request names; a mounted app
skips its own "was this uploaded?" check), and it must be plain data: not nested past 64 levels,
no lone surrogates, no integer too large for a float.

A refused request gets a short JSON answer (400 or 413; OpenAI's error shape under /v1) that names
no server path, never echoes the body, and does not tell whether a named path exists; nothing is
opened, copied or queued."""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from .paths import FileGate, not_uploaded
from .retention import make_room

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_JSON_BYTES = 1 << 20  # API calls carry text and file references: 1 MiB is far more than any needs
MAX_DEPTH = 64  # nesting levels of a JSON body; Gradio's own requests use fewer than ten
MAX_INT = 2**63  # larger integers are no setting's value (a 400-digit "speed" overflowed float())
UPLOAD_PATH = "/gradio_api/upload"
MULTIPART_OVERHEAD = 1 << 16  # form boundaries and headers around the files of an upload
SPOOL_IN_MEMORY = 1 << 20  # an upload larger than this is spooled to a temporary file
REPLAY_CHUNK = 1 << 16
SINGLE = (b"content-type", b"content-length", b"transfer-encoding")  # headers a request may send once
SURROGATE = re.compile("[\ud800-\udfff]")


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int  # one request's files together
    max_files: int
    folder: Path  # where Gradio keeps uploads
    folder_bytes: float  # what that folder may hold


def _inspect(data: Any) -> list[str]:
    """Every `path` of a file reference (a dict with a string "path", as Gradio's FileData) in a parsed
    JSON body; Refused when the body is not plain data."""
    found: list[str] = []
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Refused(400, f"The request's JSON is nested more than {MAX_DEPTH} levels deep.")
        if isinstance(item, dict):
            if isinstance(item.get("path"), str):
                found.append(item["path"])
            stack.extend((key, depth + 1) for key in item)
            stack.extend((value, depth + 1) for value in item.values())
        elif isinstance(item, list):
            stack.extend((value, depth + 1) for value in item)
        elif isinstance(item, str) and SURROGATE.search(item):
            raise Refused(400, "The request contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text: "
                               "send valid Unicode.")
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) >= MAX_INT:
            raise Refused(400, "The request contains a number far out of any range: send values in range.")
    return found


def _announced(headers: dict[bytes, list[bytes]]) -> int | None:
    value = (headers.get(b"content-length") or [b""])[0]
    return int(value) if value.isdigit() else None


class RequestGuard:
    """ASGI middleware in front of the whole app (pure ASGI: it must not buffer event streams)."""

    def __init__(self, app: ASGIApp, gate: FileGate, uploads: UploadLimits) -> None:
        self.app = app
        self.gate = gate
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, list[bytes]] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.lower(), []).append(value)
        upload = scope["method"] == "POST" and scope["path"] == UPLOAD_PATH
        spool: IO[bytes] | None = None
        try:
            if any(len(headers.get(name, [])) > 1 for name in SINGLE):
                raise Refused(400, "The request has more than one Content-Type, Content-Length or Transfer-Encoding "
                                   "header: send each once.")
            if upload:
                spool = await self._spool_upload(receive, headers)
                if spool is None:
                    return  # the client left
                replayed = _replay_file(spool, receive)
            else:
                body = await _read(receive, MAX_JSON_BYTES, _announced(headers), f"The request body is larger than "
                                   f"{MAX_JSON_BYTES >> 20} MiB.")
                if body is None:
                    return
                self._check_json(scope, body)
                replayed = _replay(body, receive)
        except Refused as refused:
            if spool is not None:
                spool.close()
            await _answer(scope, send, refused.status, refused.message)
            return
        try:
            await self.app(scope, replayed, send)
        finally:
            if spool is not None:
                spool.close()
                limits = self.uploads  # what Gradio wrote counts too: back under the ceiling
                await anyio.to_thread.run_sync(make_room, limits.folder, limits.folder_bytes, 0)

    def _check_json(self, scope: Scope, body: bytes) -> None:
        try:
            data = json.loads(body) if body else None
        except RecursionError as exc:
            raise Refused(400, f"The request's JSON is nested more than {MAX_DEPTH} levels deep.") from exc
        except ValueError:
            return  # not JSON: the route answers it (without echoing it), and there is no file reference to follow
        refused = next((path for path in _inspect(data) if not self.gate.allows(path)), None)
        if refused is not None:
            log.warning("Refused a request to %s naming a file that was not uploaded: %r", scope["path"],
                        refused[:200])
            raise Refused(400, str(not_uploaded()))

    async def _spool_upload(self, receive: Receive, headers: dict[bytes, list[bytes]]) -> IO[bytes] | None:
        """The whole upload in a spool file, measured and counted as it comes; Refused past a limit."""
        limits = self.uploads
        too_large = (f"The upload is larger than {limits.max_bytes / 2**20:.0f} MB, the limit for one request's "
                     "files together (F5UI_MAX_UPLOAD_MB).")
        announced = _announced(headers)
        if announced is not None and announced > limits.max_bytes + MULTIPART_OVERHEAD:
            raise Refused(413, too_large)
        kind, options = parse_options_header((headers.get(b"content-type") or [b""])[0])
        if kind != b"multipart/form-data" or not options.get(b"boundary"):
            raise Refused(400, "An upload is a multipart/form-data body with a boundary.")
        parts = 0

        def part_begins() -> None:
            nonlocal parts
            parts += 1

        counter = MultipartParser(options[b"boundary"], {"on_part_begin": part_begins})
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        try:
            size, more = 0, True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    spool.close()
                    return None
                chunk, more = message.get("body", b""), message.get("more_body", False)
                size += len(chunk)
                if size > limits.max_bytes + MULTIPART_OVERHEAD:
                    raise Refused(413, too_large)
                try:
                    counter.write(chunk)
                except MultipartParseError as exc:
                    raise Refused(400, "The upload is not a valid multipart/form-data body.") from exc
                if parts > limits.max_files:
                    raise Refused(413, f"The upload carries more than {limits.max_files} files, the limit for one "
                                       "request (F5UI_MAX_UPLOAD_FILES).")
                spool.write(chunk)
            await anyio.to_thread.run_sync(make_room, limits.folder, limits.folder_bytes, size)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool


async def _read(receive: Receive, limit: int, announced: int | None, too_large: str) -> bytes | None:
    """The whole body, at most `limit` bytes (Refused 413 beyond, announced or not); None if the client left."""
    if announced is not None and announced > limit:
        raise Refused(413, too_large)
    body, more = bytearray(), True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > limit:
            raise Refused(413, too_large)
    return bytes(body)


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


def _replay_file(spool: IO[bytes], receive: Receive) -> Receive:
    """A spooled body in pieces, then the real channel."""
    done = False

    async def replay() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = spool.read(REPLAY_CHUNK)
        done = len(chunk) < REPLAY_CHUNK
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replay


async def _answer(scope: Scope, send: Send, status: int, message: str) -> None:
    if scope["path"].startswith("/v1/"):  # OpenAI clients read their own error shape
        code = {400: "invalid_request", 413: "request_too_large"}.get(status, "invalid_request")
        content: dict = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    else:
        content = {"error": message, "detail": message}
    payload = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
