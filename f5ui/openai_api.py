"""The OpenAI-compatible speech API, so any OpenAI client (and the tools built on one) can use f5ui
unchanged: POST /v1/audio/speech, GET /v1/models, GET /v1/audio/voices. A `voice` is a saved voice.

It runs on the same Studio and model slots as the UI and the Gradio API (no second model, no two
generations racing on one GPU). Errors come in OpenAI's JSON shape with the usual status codes;
with F5UI_API_KEY set, every /v1 request needs `Authorization: Bearer <key>`.

Streaming, when asked: `stream_format: "audio"` (or Kokoro-FastAPI's `stream: true`) answers with
the audio in `response_format`, sent chunk by chunk as it is generated (chunked transfer);
`stream_format: "sse"` sends OpenAI's events, `speech.audio.delta` with base64 audio, then
`speech.audio.done`. Without either, the whole file comes in one answer."""

from __future__ import annotations

import base64
import hmac
import json
import logging
import math
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from .codecs import FORMATS
from .engine.synthesis import RANGES
from .errors import Busy, InputError, ModelUnavailable, UserFacingError
from .schema import FAILED, READY
from .service import Studio
from .streaming import Cancelled

log = logging.getLogger(__name__)

MODELS = ("f5-tts", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")  # the names OpenAI clients send, all one model
DEFAULT_FORMAT = "mp3"  # OpenAI's default


class OpenAIError(Exception):
    def __init__(self, status: int, message: str, code: str, param: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.kind = status, message, code, param, kind

    def response(self) -> JSONResponse:
        headers = {"Retry-After": "10"} if self.status == 503 else None
        body = {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=headers)


def _authorize(studio: Studio, request: Request) -> None:
    key = studio.settings.api_key
    if not key:
        return
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
        raise OpenAIError(401, "Incorrect or missing API key: send 'Authorization: Bearer <F5UI_API_KEY>'.",
                          "invalid_api_key", kind="authentication_error")


def _field(body: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            value = float(value)
        except OverflowError as exc:  # a 400-digit integer
            raise OpenAIError(400, f"'{name}' is far out of range.", "invalid_value", name) from exc
    if not isinstance(value, kind) or isinstance(value, bool):
        raise OpenAIError(400, f"'{name}' must be a {'number' if kind is float else 'string'}.", "invalid_type", name)
    return value


STREAM_FORMATS = ("audio", "sse")


def _stream_format(body: dict[str, Any]) -> str | None:
    """None: answer the whole file; "audio" or "sse": stream."""
    value = _field(body, "stream_format", str, None)
    if value is not None and value not in STREAM_FORMATS:
        raise OpenAIError(400, f"Unknown stream_format {value[:20]!r}; use 'audio' or 'sse'.",
                          "invalid_stream_format", "stream_format")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise OpenAIError(400, "'stream' must be true or false.", "invalid_type", "stream")
    return value or ("audio" if stream else None)


def _sse(chunks: Iterator[bytes]) -> Iterator[bytes]:
    sent = 0
    for chunk in chunks:
        sent += len(chunk)
        event = {"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()}
        yield f"data: {json.dumps(event)}\n\n".encode()
    done = {"type": "speech.audio.done", "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
            "audio_bytes": sent}
    yield f"data: {json.dumps(done)}\n\n".encode()


def _parse(studio: Studio, body: Any) -> tuple[str, str, str, float]:
    if not isinstance(body, dict):
        raise OpenAIError(400, "The request body must be a JSON object.", "invalid_body")
    model = _field(body, "model", str, MODELS[0])
    if model not in MODELS:
        raise OpenAIError(400, f"Unknown model {model[:40]!r}; this server speaks with {', '.join(MODELS)}.",
                          "model_not_found", "model")
    text = _field(body, "input", str, "")
    if not text.strip():
        raise OpenAIError(400, "'input' is empty: send the text to speak.", "empty_input", "input")
    if len(text) > studio.settings.max_chars:
        raise OpenAIError(413, f"'input' is {len(text)} characters long; the maximum is {studio.settings.max_chars}.",
                          "input_too_long", "input")
    voice = _field(body, "voice", str, "")
    if not voice or studio.voices.find(voice) is None:
        names = ", ".join(v.name for v in studio.voice_list()) or "none yet: save one in the Voices tab or /save_voice"
        raise OpenAIError(400, f"Unknown voice {voice[:64]!r}. Saved voices: {names}.", "voice_not_found", "voice")
    fmt = _field(body, "response_format", str, DEFAULT_FORMAT)
    if fmt not in FORMATS:
        raise OpenAIError(400, f"Unknown response_format {fmt[:20]!r}; use one of {', '.join(FORMATS)}.",
                          "invalid_response_format", "response_format")
    speed = _field(body, "speed", float, 1.0)
    low, high, _hint = RANGES["speed"]  # the range every surface takes
    if not math.isfinite(speed) or not low <= speed <= high:
        raise OpenAIError(400, f"'speed' = {speed} is out of range; this model takes {low} to {high}.",
                          "invalid_speed", "speed")
    return text, voice, fmt, speed


def _check_model_state(studio: Studio) -> None:
    status = studio.model.status()
    if status.state == FAILED:
        raise OpenAIError(503, f"The model could not be loaded: {status.detail}", "model_unavailable",
                          kind="server_error")
    if status.state != READY:
        studio.model.ensure_loading()  # an idle model (F5UI_PRELOAD=0) starts now
        raise OpenAIError(503, f"The model is not ready yet ({status.detail}); retry shortly.", "model_loading",
                          kind="server_error")


def create_openai_router(studio: Studio) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

    @router.post("/audio/speech")
    async def speech(request: Request) -> Response:
        """Speak `input` in the saved `voice`; the body and the answer are OpenAI's."""
        try:
            _authorize(studio, request)
            try:
                body = await request.json()
            except ValueError as exc:
                raise OpenAIError(400, "The request body is not valid JSON.", "invalid_json") from exc
            text, voice, fmt, speed = _parse(studio, body)
            stream = _stream_format(body)
            _check_model_state(studio)
            # Set by the server when this client hangs up: the take stops at its next chunk, or leaves the wait.
            hangup = getattr(request.state, "hangup", None)
            gone = hangup.is_set if hangup is not None else None
            if stream:  # returns when the first chunk is ready: errors before it still answer in JSON
                chunks, content_type = await run_in_threadpool(studio.speech_stream, text, voice, fmt, speed,
                                                               gone=gone)
            else:
                audio, content_type = await run_in_threadpool(studio.speech, text, voice, fmt, speed, gone)
        except Cancelled:
            return Response(status_code=499)  # nginx's "client closed request": no one reads it
        except OpenAIError as error:
            return error.response()
        except Busy as error:
            return OpenAIError(503, str(error), "server_busy", kind="server_error").response()
        except ModelUnavailable as error:
            return OpenAIError(503, str(error), "model_unavailable", kind="server_error").response()
        except InputError as error:
            return OpenAIError(400, str(error), "invalid_request").response()
        except UserFacingError as error:
            return OpenAIError(500, str(error), "generation_failed", kind="server_error").response()
        if stream == "sse":
            return StreamingResponse(_sse(chunks), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        if stream:
            return StreamingResponse(chunks, media_type=content_type)
        return Response(audio, media_type=content_type)

    @router.get("/models")
    async def models(request: Request) -> Response:
        try:
            _authorize(studio, request)
        except OpenAIError as error:
            return error.response()
        return JSONResponse({"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "f5ui"}
                                                         for m in MODELS]})

    @router.get("/audio/voices")
    async def voices(request: Request) -> Response:
        """The saved voices, as a list of names (`voices`) and with their details (`data`)."""
        try:
            _authorize(studio, request)
        except OpenAIError as error:
            return error.response()
        saved = studio.voice_list()
        return JSONResponse({"object": "list", "voices": [v.name for v in saved], "data": [v.public() for v in saved]})

    return router
