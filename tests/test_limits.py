"""Ceilings and hang-ups, tried from outside over real HTTP (raw requests and sockets): bodies are
measured as they stream, uploads and local exports have caps, half-sent requests are closed and
connections limited, a client that hangs up stops its take, odd inputs get a 4xx with a message,
and every answer carries the security headers.

One live app serves the module, with small limits so each can be reached quickly."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import PATIENCE, LiveApp
from tests.raw_api import call, file_ref, generate_args, upload

UPLOAD_MB, UPLOAD_FILES, UPLOAD_FOLDER_MB = 4, 3, 12
HEADER_TIMEOUT, MAX_CONNECTIONS = 3, 40
OLD = time.time() - 30 * 86400
MARKER = b"ECHO-ME-BACK-"  # what a body carries; no answer may contain it
SENTENCE = "This studio clones a voice from a short recording and speaks any text you type. "
LONG_TEXT = SENTENCE * 5  # three chunks or more with the reference clip


def export_size(tiny_env: dict, folder: Path, audio: Path) -> int:
    """What one local export of `audio` (wav, no timings) writes, measured by the same code in-process."""
    from f5ui.config import from_env
    from f5ui.paths import FileGate
    from f5ui.service import Studio

    studio = Studio(from_env(dict(tiny_env, F5UI_DATA_DIR=str(folder), F5UI_PRELOAD="0")), files=FileGate(None))
    return sum(item.bytes for item in studio.export(audio, None, "wav").files)


@pytest.fixture(scope="module")
def app(tiny_env, tmp_path_factory, ref_clip):
    root = tmp_path_factory.mktemp("limits")
    broad = root / "broad"  # what an operator might point GRADIO_TEMP_DIR at
    broad.mkdir()
    (broad / "private.wav").write_bytes(Path(ref_clip[0]).read_bytes())
    data = root / "data"
    old_export = data / "exports" / "f5ui" / "2020" / "01" / "01" / "old" / "speech.wav"
    old_export.parent.mkdir(parents=True)
    old_export.write_bytes(b"RIFF old export")
    os.utime(old_export, (OLD, OLD))
    one_export = export_size(tiny_env, root / "measure", Path(ref_clip[0]))
    env = dict(tiny_env, F5UI_DATA_DIR=str(data), GRADIO_TEMP_DIR=str(broad), F5UI_ALIGNERS="estimate", F5UI_CHECK="0",
               F5UI_MAX_UPLOAD_MB=str(UPLOAD_MB), F5UI_MAX_UPLOAD_FILES=str(UPLOAD_FILES),
               F5UI_UPLOAD_FOLDER_MB=str(UPLOAD_FOLDER_MB), F5UI_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
               F5UI_MAX_CONNECTIONS=str(MAX_CONNECTIONS), F5UI_EXPORT_FOLDER_MB=str(20.5 * one_export / 2**20))
    live = LiveApp(env, root / "run")
    live.broad, live.one_export, live.old_export = broad, one_export, old_export
    try:
        live.wait_http()
        live.wait_ready()
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def voice(app, ref_clip) -> str:
    saved = call(app.url, "save_voice", [file_ref(upload(app.url, ref_clip[0])), ref_clip[1], "Limits", True, ""])
    assert saved.event == "complete", saved.text[-300:]
    return "Limits"


def log_text(app: LiveApp) -> str:
    return app.log_path.read_text(errors="replace")


def wait_for(condition, timeout: float = PATIENCE, what: str = "condition") -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def raw(app: LiveApp, request: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", app.port), timeout=PATIENCE)
    sock.sendall(request)
    return sock


def answer_of(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
        if b"\r\n\r\n" in data and len(data.split(b"\r\n\r\n", 1)[1]) >= int(
                re.search(rb"content-length: (\d+)", data, re.I).group(1)):
            break
    return data


# --- bodies -------------------------------------------------------------------------------------

def status_kib(pid: int, key: str) -> int:
    return int(next(row for row in Path(f"/proc/{pid}/status").read_text().splitlines()
                    if row.startswith(key)).split()[1])


def multipart_body(megabytes: int):  # noqa: ANN201 - a generator of bytes
    yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.wav"\r\n\r\n'
    block = MARKER * ((1 << 20) // len(MARKER))
    for _ in range(megabytes):
        yield block
    yield b"\r\n--b--\r\n"


@pytest.mark.parametrize("path", ["/gradio_api/upload", "/gradio_api/call/generate", "/v1/audio/speech"])
def test_a_100_mb_chunked_multipart_body_costs_little_memory_and_gets_413(app, path):
    uploads_before = sum(p.stat().st_size for p in (app.data_dir / "uploads").rglob("*") if p.is_file())
    Path(f"/proc/{app.proc.pid}/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    resident = status_kib(app.proc.pid, "VmRSS")
    answer = requests.post(app.url + path, data=multipart_body(100), timeout=PATIENCE,
                           headers={"content-type": "multipart/form-data; boundary=b"})  # no length: chunked
    growth_mib = (status_kib(app.proc.pid, "VmHWM") - resident) / 1024
    assert answer.status_code == 413, answer.text[:300]
    message = answer.json()["error"]["message"] if path.startswith("/v1") else answer.json()["error"]
    assert "larger than" in message and MARKER.decode() not in answer.text
    assert growth_mib < 50, f"the server's peak memory grew by {growth_mib:.0f} MiB"
    uploads_after = sum(p.stat().st_size for p in (app.data_dir / "uploads").rglob("*") if p.is_file())
    assert uploads_after <= uploads_before  # a refused upload leaves nothing


@pytest.mark.parametrize("headers, says", [
    (b"Content-Type: application/json\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 2\r\n",
     b"more than one Content-Type"),  # the guard
    (b"Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 2\r\n",
     b"Invalid HTTP request"),  # uvicorn's parser, before the app
], ids=["content-type", "content-length"])
def test_two_content_types_or_lengths_are_refused(app, headers, says):
    sock = raw(app, b"POST /gradio_api/call/generate HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n{}")
    answer = answer_of(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400") and says in answer, answer[:300]


def test_validation_answers_do_not_echo_the_body(app):
    for path in ("/gradio_api/call/generate", "/gradio_api/queue/join"):
        answer = requests.post(app.url + path, json={"unexpected": MARKER.decode() * 1000}, timeout=30)
        assert answer.status_code == 422 and answer.json()["detail"], answer.text[:300]
        assert MARKER.decode() not in answer.text


# --- uploads --------------------------------------------------------------------------------------

def post_files(app: LiveApp, files: list[tuple[str, bytes]]) -> requests.Response:
    return requests.post(app.url + "/gradio_api/upload", files=[("files", f) for f in files], timeout=60)


def test_uploads_are_capped_per_request_and_the_folder_keeps_its_ceiling(app):
    folder = app.data_dir / "uploads"
    before = set(folder.rglob("*"))
    too_many = post_files(app, [(f"{i}.wav", os.urandom(1000)) for i in range(UPLOAD_FILES + 1)])
    assert too_many.status_code == 413 and f"more than {UPLOAD_FILES} files" in too_many.text
    too_big = post_files(app, [(f"{i}.wav", os.urandom(int(0.6 * UPLOAD_MB * 2**20))) for i in range(2)])
    assert too_big.status_code == 413 and f"larger than {UPLOAD_MB} MB" in too_big.text
    assert set(folder.rglob("*")) == before  # refused whole: nothing stored
    paths = []
    for i in range(6):  # 6 x 3 MB through a 12 MB folder: the oldest make room
        answer = post_files(app, [(f"fill{i}.wav", os.urandom(3 * 2**20))])
        assert answer.status_code == 200, answer.text[:300]
        paths.append(Path(answer.json()[0]))
        total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        assert total <= UPLOAD_FOLDER_MB * 2**20, total
    assert not paths[0].exists() and paths[-1].exists()


def test_uploads_are_only_what_this_server_received(app):
    """GRADIO_TEMP_DIR points at a broad folder: its files are still not a request's to name."""
    answer = call(app.url, "align", [file_ref(app.broad / "private.wav"), "Some call me nature.", "en", "auto"])
    assert answer.status == 400 and "not uploaded" in answer.text
    received = Path(upload(app.url, app.broad / "private.wav"))
    assert app.data_dir / "uploads" in received.parents
    assert "GRADIO_TEMP_DIR" in log_text(app) and "is not used" in log_text(app)


# --- exports ---------------------------------------------------------------------------------------

def test_local_exports_stay_under_their_cap(app, ref_clip):
    assert not app.old_export.exists()  # retention swept the old export at start
    audio = file_ref(upload(app.url, ref_clip[0]))
    folder = app.data_dir / "exports"
    cap = 20.5 * app.one_export
    for number in range(1, 21):
        answer = call(app.url, "export", [audio, None, "wav"])
        assert answer.event == "complete", (number, answer.text[-300:])
        assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) <= cap
    refused = call(app.url, "export", [audio, None, "wav"])
    assert refused.event == "error" and "the export folder is full" in refused.data["error"]
    assert "F5UI_EXPORT_FOLDER_MB" in refused.data["error"]
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) <= cap


# --- connections -------------------------------------------------------------------------------------

def test_half_sent_requests_are_closed_and_connections_are_limited(app):
    half_sent = [raw(app, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ") for _ in range(MAX_CONNECTIONS - 12)]
    half_sent.append(raw(app, b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a"))
    opened = time.monotonic()
    for _ in range(3):  # /health answers meanwhile
        assert requests.get(app.url + "/health", timeout=60).status_code == 200
    beyond = [raw(app, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n") for _ in range(30)]
    answers = []
    for sock in beyond:  # all kept open until every one answered: served ones hold their place (keep-alive)
        try:
            answers.append(sock.recv(64))
        except ConnectionResetError:
            answers.append(b"")
    for sock in beyond:
        sock.close()
    served = [a for a in answers if a.startswith(b"HTTP/1.1 200")]
    assert len(served) < MAX_CONNECTIONS - len(half_sent), answers
    assert all(a == b"" or a.startswith(b"HTTP/1.1 503") for a in answers if a not in served), answers
    for sock in half_sent:  # each is answered 408 (headers) or closed (a stalled body) after the timeout
        sock.settimeout(HEADER_TIMEOUT + 30)
        rest = sock.recv(4096)
        assert rest == b"" or rest.startswith(b"HTTP/1.1 408"), rest[:100]
        sock.close()
    waited = time.monotonic() - opened
    assert HEADER_TIMEOUT - 0.5 <= waited < HEADER_TIMEOUT + 30, waited
    assert requests.get(app.url + "/health", timeout=60).status_code == 200


# --- hang-ups ---------------------------------------------------------------------------------------

def speech_request(body: dict) -> bytes:
    data = json.dumps(body).encode()
    return (b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(data) + data)


def chunks_in(text: str, seed: int | None = None) -> list[tuple[int, int]]:
    pattern = r"Chunk (\d+)/(\d+), seed " + (str(seed) if seed is not None else r"\d+")
    return [(int(i), int(n)) for i, n in re.findall(pattern, text)]


def hang_up_and_check(app: LiveApp, sock: socket.socket, offset: int) -> None:
    """Close the client's socket now; the take must stop after the chunk under way."""
    mark = len(log_text(app))
    sock.close()
    wait_for(lambda: "Generation stopped" in log_text(app)[offset:], what="the take to stop")
    stopped = re.findall(r"Generation stopped before “Generating chunk (\d+) of (\d+)”", log_text(app)[offset:])
    assert stopped and int(stopped[0][0]) < int(stopped[0][1]), log_text(app)[offset:][-2000:]
    assert len(chunks_in(log_text(app)[mark:])) <= 1  # only the chunk under way at the hang-up


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole file"])
def test_a_speech_client_that_hangs_up_stops_the_take(app, voice, stream):
    offset = len(log_text(app))
    body = {"model": "tts-1", "voice": voice, "input": LONG_TEXT, "response_format": "pcm"}
    sock = raw(app, speech_request({**body, "stream_format": "audio"} if stream else body))
    if stream:
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")  # the first chunk's audio is out
    else:
        wait_for(lambda: chunks_in(log_text(app)[offset:]), what="the first chunk")
    hang_up_and_check(app, sock, offset)


@pytest.mark.parametrize("endpoint", ["generate", "generate_stream"])
def test_a_gradio_client_that_hangs_up_stops_the_take(app, ref_clip, endpoint):
    offset = len(log_text(app))
    seed = 4000 + len(endpoint)
    args = generate_args(file_ref(upload(app.url, ref_clip[0])), text=LONG_TEXT, seed=seed, nfe_step=16,
                         word_timings=False)
    event = requests.post(f"{app.url}/gradio_api/call/{endpoint}", json={"data": args}, timeout=30).json()
    sock = raw(app, f"GET /gradio_api/call/{endpoint}/{event['event_id']} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    if endpoint == "generate_stream":
        received = b""
        while b"event: generating" not in received:
            received += sock.recv(65536)
    else:  # /generate answers once, at the end: hang up once its first chunk is made
        wait_for(lambda: chunks_in(log_text(app)[offset:], seed), what="the first chunk")
    hang_up_and_check(app, sock, offset)


def test_a_request_waiting_for_the_model_leaves_when_its_client_does(app, voice, ref_clip):
    offset = len(log_text(app))
    ref = file_ref(upload(app.url, ref_clip[0]))

    def submit(text: str, seed: int) -> str:
        args = generate_args(ref, text=text, seed=seed, nfe_step=16, word_timings=False)
        return requests.post(f"{app.url}/gradio_api/call/generate", json={"data": args}, timeout=30).json()["event_id"]

    busy = submit(LONG_TEXT, 7001)
    wait_for(lambda: chunks_in(log_text(app)[offset:], 7001), what="the take holding the model")
    waiting = raw(app, speech_request({"model": "tts-1", "voice": voice, "input": "Still here?",
                                       "response_format": "pcm"}))
    wait_for(lambda: app.health()["queue"]["waiting"] == 1, what="the request to wait for the model slot")
    queued = submit("Queued behind the others.", 7002)  # waits in Gradio's queue
    listener = raw(app, f"GET /gradio_api/call/generate/{queued} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    waiting.close()
    listener.close()
    wait_for(lambda: "stopped during “Waiting for a model slot”" in log_text(app)[offset:], what="the wait to end")
    assert app.health()["queue"]["waiting"] == 0
    assert "event: complete" in requests.get(f"{app.url}/gradio_api/call/generate/{busy}", timeout=PATIENCE).text
    after = submit("After the queued one.", 7003)  # one queue, in order: the queued event had its turn first
    assert "event: complete" in requests.get(f"{app.url}/gradio_api/call/generate/{after}", timeout=PATIENCE).text
    assert chunks_in(log_text(app)[offset:], 7003) and not chunks_in(log_text(app)[offset:], 7002)


# --- odd inputs and headers ---------------------------------------------------------------------------

def gradio_body(ref: str, **replace: str) -> str:
    body = json.dumps({"data": generate_args(file_ref(ref), text="Hi there.")})
    for old, new in replace.items():
        body = body.replace(old, new)
    return body


ODD = {  # name: (path, body, what the message says)
    "NUL in a file path": ("/gradio_api/call/generate", lambda ref: gradio_body(ref, **{ref: ref + "\\u0000x"}),
                           "not uploaded"),
    "400-digit speed (Gradio)": ("/gradio_api/call/generate",
                                 lambda ref: gradio_body(ref, **{", 1.0, 8,": ", " + "9" * 400 + ", 8,"}),
                                 "far out of any range"),
    "400-digit speed (/v1)": ("/v1/audio/speech", lambda ref: '{"model": "tts-1", "voice": "Limits", "input": "Hi.", '
                              '"speed": ' + "9" * 400 + "}", "far out of any range"),
    "5000 levels of JSON (Gradio)": ("/gradio_api/call/generate", lambda ref: '{"data": ' + "[" * 5000 + "]" * 5000
                                     + "}", "nested more than 64 levels"),
    "5000 levels of JSON (/v1)": ("/v1/audio/speech", lambda ref: '{"input": ' + "[" * 5000 + "]" * 5000 + "}",
                                  "nested more than 64 levels"),
    "lone surrogate (Gradio)": ("/gradio_api/call/generate",
                                lambda ref: gradio_body(ref, **{"Hi there.": "Hi \\ud800 there."}),
                                "lone UTF-16 surrogate"),
    "lone surrogate (/v1)": ("/v1/audio/speech", lambda ref: '{"model": "tts-1", "voice": "Limits", '
                             '"input": "Hi \\ud800 there."}', "lone UTF-16 surrogate"),
}


@pytest.mark.parametrize("case", ODD, ids=list(ODD))
def test_odd_inputs_get_a_4xx_with_a_message_and_no_traceback(app, voice, ref_clip, case):
    path, body, says = ODD[case]
    ref = upload(app.url, ref_clip[0])
    offset = len(log_text(app))
    answer = requests.post(app.url + path, data=body(ref).encode(), timeout=60,
                           headers={"content-type": "application/json"})
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    message = answer.json()["error"]["message"] if path.startswith("/v1") else answer.json()["error"]
    assert says in message
    assert not re.search(r"\w+Error\b", message)  # said in words, not as an exception's name
    assert "Traceback" not in log_text(app)[offset:]


def test_every_text_the_studio_takes_refuses_lone_surrogates():
    """Behind the guard: the CLI and the worker reach the same check."""
    from f5ui.errors import InputError
    from f5ui.text import request_text

    with pytest.raises(InputError, match="lone UTF-16 surrogate"):
        request_text("Hi \ud800 there.", "The text to generate")


@pytest.mark.parametrize("method, path", [("GET", "/"), ("GET", "/health"), ("GET", "/v1/models"),
                                          ("GET", "/gradio_api/info"), ("POST", "/v1/audio/speech"),
                                          ("GET", "/no-such-page")])
def test_security_headers_are_on_every_answer(app, method, path):
    answer = requests.request(method, app.url + path, data=b"x" * (2 << 20) if method == "POST" else None,
                              timeout=30)
    headers = answer.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Content-Security-Policy"] == "frame-ancestors 'self' https://huggingface.co https://*.hf.space"
    assert "X-Frame-Options" not in headers  # it cannot allow Hugging Face to embed the Space
