"""The RunPod serverless worker through the `runpod` SDK's own local modes, with the tiny model:
`--test_input` (one job, then exit) and the local API server (`--rp_serve_api`): a normal job, a
streaming job, a job exported to moto's S3 server, each bad input, and a failing fitness check."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile as sf

from tests.helpers import PATIENCE, ROOT, free_port

pytestmark = pytest.mark.live
TEXT = "Hello from a serverless worker. It speaks in pieces."


def data_uri(path: Path) -> str:
    return "data:audio/wav;base64," + base64.b64encode(path.read_bytes()).decode()


def worker_env(tiny_env: dict, data: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, **tiny_env, "F5UI_DATA_DIR": str(data), "PYTHONPATH": str(ROOT), **extra}
    env.pop("RUNPOD_WEBHOOK_GET_JOB", None)  # set, the SDK would think it runs on RunPod
    return env


def decode_wav(b64: str) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(base64.b64decode(b64)), dtype="int16")
    return samples, rate


class LocalApi:
    """`python -m f5ui.serverless --rp_serve_api`: the SDK's local /run, /runsync, /stream server."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "worker.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "f5ui.serverless", "--rp_serve_api", "--rp_api_host",
                                      "127.0.0.1", "--rp_api_port", str(self.port)], cwd=folder, env=env,
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text()[-3000:])
            try:
                requests.get(self.url + "/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise TimeoutError(self.log.read_text()[-3000:])

    def runsync(self, job_input: dict) -> dict:
        # json.dumps writes NaN as JavaScript does (a raw-HTTP caller can send it; requests' json= refuses)
        return requests.post(self.url + "/runsync", data=json.dumps({"input": job_input}),
                             headers={"content-type": "application/json"}, timeout=PATIENCE).json()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def api(tiny_env, tmp_path_factory, s3_open):
    folder = tmp_path_factory.mktemp("worker")
    server = LocalApi(worker_env(tiny_env, folder / "data", **{k: v for k, v in s3_open.env().items()}), folder)
    yield server
    server.stop()


def readme_block(marker: str) -> str:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return next(block for block in blocks if marker in block)


def save_narrator(data: Path, ref_clip) -> None:  # noqa: ANN001
    """The voice the README's worker examples name, saved in the worker's data dir as the app saves it."""
    from f5ui.config import from_env
    from f5ui.paths import FileGate
    from f5ui.service import Studio

    library = Studio(from_env({"F5UI_DATA_DIR": str(data), "F5UI_PRELOAD": "0"}), files=FileGate(None))
    if "Narrator" not in [v.name for v in library.voice_list()]:
        library.save_voice(ref_clip[0], ref_clip[1], "Narrator")


def with_venv_python(env: dict[str, str]) -> dict[str, str]:
    """`python` in a README command is the venv's."""
    return {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}


def test_one_job_through_test_input_as_the_readme_writes_it(tiny_env, tmp_path, ref_clip):
    """One job, its result in the log, exit 0. The SDK logs at INFO: at DEBUG (its default) it would print
    every job, reference audio and all. It cuts a long line in the middle: the result's start says what
    was made, the audio follows."""
    save_narrator(tmp_path / "data", ref_clip)
    done = subprocess.run(["bash", "-c", readme_block("--test_input")], cwd=tmp_path, capture_output=True, text=True,
                          env=with_venv_python(worker_env(tiny_env, tmp_path / "data")), timeout=PATIENCE)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if "Job result: " in line)
    shown = re.search(r"'seed': \d+, 'chunk_seeds': \[[\d, ]+\], 'duration': ([\d.]+), 'timings': \{'words': "
                      r"\[\{'word': 'Hello',", line)
    assert shown and float(shown.group(1)) > 1.0 and "'audio_base64': 'UklGR" in line, line[:300]  # UklGR: RIFF
    assert "Traceback" not in done.stdout + done.stderr
    assert "Retrieved local job" not in done.stdout  # nothing at DEBUG


def test_the_readme_local_api_commands_run_as_written(api, ref_clip):
    save_narrator(api.log.parent / "data", ref_clip)
    commands = readme_block("/runsync").replace("http://localhost:8000", api.url)
    done = subprocess.run(["bash", "-c", commands], capture_output=True, text=True, timeout=PATIENCE,
                          env=with_venv_python(dict(os.environ)))
    assert done.returncode == 0, done.stderr
    answers, decoder, text = [], json.JSONDecoder(), done.stdout.strip()
    while text:  # curl prints each answer without a newline after it
        answer, end = decoder.raw_decode(text)
        answers.append(answer)
        text = text[end:].strip()
    assert [a["status"] for a in answers] == ["COMPLETED", "COMPLETED"], done.stdout[:500]
    synced, ran = answers
    assert synced["output"]["timings"] is None and ran["output"]["timings"]["words"][0]["word"] == "Hello."


def test_help_answers_before_anything_loads(tiny_env, tmp_path):
    """With a checkpoint that does not exist: the model load would fail the worker, --help never gets there."""
    done = subprocess.run([sys.executable, "-m", "f5ui.serverless", "--help"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=PATIENCE, env=worker_env(tiny_env, tmp_path / "data",
                                                                      F5UI_CKPT=str(tmp_path / "missing.pt")))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--test_input" in done.stdout and "--rp_serve_api" in done.stdout and "f5ui" in done.stdout
    assert "Fitness" not in done.stdout + done.stderr and not (tmp_path / "data").exists()


def test_runsync_returns_the_audio(api, ref_clip):
    answer = api.runsync({"text": TEXT, "ref_audio": data_uri(ref_clip[0]), "ref_text": ref_clip[1], "nfe_step": 8,
                          "seed": 4})
    assert answer["status"] == "COMPLETED", answer
    output = answer["output"]
    samples, rate = decode_wav(output["audio_base64"])
    assert rate == 24000 and len(samples) / rate == pytest.approx(output["duration"], abs=0.01)
    assert output["seed"] == 4 and output["timings"]["words"][0]["word"] == "Hello"
    assert not list((api.log.parent / "data" / "uploads" / "jobs").iterdir())  # the fetched reference is gone


def test_a_bad_job_through_test_input_fails_with_the_reason(tiny_env, tmp_path):
    done = subprocess.run([sys.executable, "-m", "f5ui.serverless", "--test_input",
                           json.dumps({"input": {"txt": "typo"}})], cwd=tmp_path, capture_output=True, text=True,
                          env=(worker_env(tiny_env, tmp_path / "data")), timeout=PATIENCE)
    assert done.returncode == 1
    assert "Unknown input field(s): txt" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_runsync_with_a_saved_voice_and_export_to_s3(api, ref_clip, s3_open, tmp_path):
    from f5ui.config import from_env
    from f5ui.paths import FileGate
    from f5ui.service import Studio

    worker_data = api.log.parent / "data"  # the worker's F5UI_DATA_DIR: save a voice into its library
    library = Studio(from_env({"F5UI_DATA_DIR": str(worker_data), "F5UI_PRELOAD": "0"}), files=FileGate(None))
    library.save_voice(ref_clip[0], ref_clip[1], "Worker Voice")
    answer = api.runsync({"text": TEXT, "voice": "Worker Voice", "nfe_step": 8, "export": True,
                          "audio_format": "mp3"})
    assert answer["status"] == "COMPLETED", answer
    output = answer["output"]
    assert output["location"].startswith("s3://f5ui-test/takes/") and "audio_base64" not in output
    links = {item["name"]: item["url"] for item in output["links"]}
    wav = requests.get(links["speech.wav"], timeout=10)
    assert wav.ok and sf.info(io.BytesIO(wav.content)).duration == pytest.approx(output["duration"], abs=0.01)
    manifest = requests.get(links["manifest.json"], timeout=10).json()
    assert manifest["voice"] == "Worker Voice" and manifest["text"] == TEXT


NOT_AUDIO = "data:audio/wav;base64," + base64.b64encode(b"these bytes are no recording " * 20).decode()


@pytest.mark.parametrize("job_input, field, words", [
    ({"text": "Hi", "voice": 3}, "voice", "'voice' must be str or null"),
    ({"text": "", "voice": "x"}, "text", "'text' is missing or empty"),
    ({"text": "Hi"}, "voice", "Neither 'voice' nor 'ref_audio'"),
    ({"text": "Hi", "ref_audio": "http://example.com/a.wav"}, "ref_audio", "must be an https:// URL or a data: URI"),
    ({"text": "Hi", "ref_audio": "data:audio/wav;base64,@@@@"}, "ref_audio", "does not decode"),
    ({"text": "Hi", "ref_audio": NOT_AUDIO, "ref_text": "Hi there."}, "ref_audio",
     "'ref_audio' is not an audio file that can be decoded"),
    ({"text": "Hi", "voice": "Nobody"}, "voice", "no saved voice named 'Nobody'"),
    ({"text": "Hi", "voice": "x", "speed": 9}, "speed", "'speed' = 9 is out of range"),
    ({"text": "Hi", "voice": "x", "speed": float("nan")}, "speed", "'speed' = nan is out of range"),
    ({"text": "Hi", "voice": "x", "cfg_strength": 10**400}, "cfg_strength", "is out of range"),
    ({"text": "Hi", "voice": "x", "nfe_step": 1000}, "nfe_step", "'nfe_step' = 1000 is out of range"),
    ({"text": "Hi", "voice": "x", "word_timings": "yes"}, "word_timings", "must be bool"),
    ({"text": "Hi", "voice": "x", "seed": 1.5}, "seed", "must be int or null"),
    ({"text": "x" * 6000, "voice": "x"}, "text", "characters long"),
    ({"text": "Hi", "voice": "x", "export": True, "audio_format": "wma"}, "audio_format", "Unknown audio_format"),
])
def test_each_bad_input_is_a_clear_error_object_naming_its_field(api, job_input, field, words):
    answer = api.runsync(job_input)
    assert answer["status"] == "FAILED"
    error = json.loads(answer["error"])  # RunPod's error is a string: ours is a JSON object
    assert words in error["error_message"] and error["field"] == field and error["fix"], error
    assert error["error_type"] == "InvalidInput"
    assert "Traceback" not in json.dumps(answer)
    assert not re.search(r"[0-9a-f]{32}\.\w+", json.dumps(error))  # the worker's temp file is never named


def test_null_is_the_default_of_an_optional_field(api, ref_clip):
    answer = api.runsync({"text": TEXT, "ref_audio": data_uri(ref_clip[0]), "ref_text": ref_clip[1], "nfe_step": 8,
                          "speed": None, "seed": None, "word_timings": False, "cross_fade": None, "export": None})
    assert answer["status"] == "COMPLETED", answer
    assert answer["output"]["timings"] is None and answer["output"]["audio_base64"]


def test_a_streaming_job_yields_the_audio_in_pieces_that_join_to_the_final_file(tiny_env, tmp_path, ref_clip):
    server = LocalApi(worker_env(tiny_env, tmp_path / "data", F5UI_WORKER_STREAM="1"), tmp_path)
    try:
        long_text = " ".join(["This sentence is one chunk of a longer text."] * 4)
        job = requests.post(server.url + "/run", json={"input": {
            "text": long_text, "ref_audio": data_uri(ref_clip[0]), "ref_text": ref_clip[1], "nfe_step": 8,
            "word_timings": False}}, timeout=30).json()
        streamed = requests.post(f"{server.url}/stream/{job['id']}", timeout=PATIENCE).json()  # POST, locally
    finally:
        server.stop()
    assert streamed["status"] == "COMPLETED", streamed
    items = [entry["output"] for entry in streamed["stream"]]
    pieces, final = items[:-1], items[-1]
    assert final["done"] is True and len(final["chunk_seeds"]) >= 2 and len(pieces) >= 2
    assert [p["chunk"] for p in pieces] == list(range(len(pieces)))
    joined = np.concatenate([decode_wav(p["audio_base64"])[0] for p in pieces])
    whole, _ = decode_wav(final["audio_base64"])
    assert np.array_equal(joined, whole)  # the stream, joined, is the final file's audio


def test_a_worker_that_cannot_serve_exits_at_start_with_the_reason(tiny_env, tmp_path):
    done = subprocess.run([sys.executable, "-m", "f5ui.serverless", "--test_input",
                           json.dumps({"input": {"text": "Hi", "voice": "x"}})], cwd=tmp_path, capture_output=True,
                          text=True, env=(worker_env(tiny_env, tmp_path / "data",
                                                          F5UI_CKPT=str(tmp_path / "missing.safetensors"))),
                          timeout=PATIENCE)
    assert done.returncode == 1
    log = done.stdout + done.stderr
    assert "Fitness check failed" in log and "missing.safetensors does not exist" in log and "Job result" not in log


# --- the worker's own checks, without the SDK ---------------------------------------------------

@pytest.fixture()
def worker(tiny_env, tmp_path):
    from f5ui.config import from_env
    from f5ui.serverless import Worker

    return Worker(from_env({**tiny_env, "F5UI_DATA_DIR": str(tmp_path / "data"), "F5UI_PRELOAD": "0"}))


def test_export_without_a_bucket_is_refused_before_anything_is_generated(worker, monkeypatch):
    """Links to a folder on the worker's disk would be no use to the caller: refused, with what to do."""
    import f5ui.serverless as serverless

    fetched = []
    monkeypatch.setattr(serverless, "fetch_reference", lambda *a, **k: fetched.append(a))
    error = json.loads(worker.handle({"input": {"text": "Hi", "ref_audio": "https://example.com/a.wav",
                                                "export": True}})["error"])
    assert error["field"] == "export" and error["error_type"] == "InvalidInput" and "F5UI_S3_BUCKET" in error["fix"]
    assert fetched == [] and not list(worker.studio.output_dir.glob("*.wav"))


# --- the worker's downloads (f5ui.fetch) ---------------------------------------------------------------

class _Listener:
    """A loopback TCP listener that counts connections: what an internal service would see."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0

        def accept() -> None:
            while True:
                try:
                    conn, _ = self.sock.accept()
                except OSError:
                    return
                self.connections += 1
                conn.close()

        threading.Thread(target=accept, daemon=True).start()


def test_internal_addresses_are_refused_before_any_connection_with_one_answer(worker, monkeypatch):
    import socket

    import f5ui.serverless as serverless

    listener = _Listener()
    connects = []
    real_connect = socket.create_connection
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connects.append(a) or real_connect(*a, **k))
    port = listener.port
    urls = [f"https://127.0.0.1:{port}/a.wav", f"https://localhost:{port}/a.wav", f"https://0x7f000001:{port}/a.wav",
            f"https://2130706433:{port}/a.wav", f"https://[::1]:{port}/a.wav", f"https://[::ffff:127.0.0.1]:{port}/a",
            f"https://127.1:{port}/a.wav", "https://10.0.0.8/a.wav", "https://192.168.1.1/a.wav",
            "https://172.16.0.1/a.wav", "https://169.254.169.254/latest/meta-data/", "https://100.64.0.1/a.wav",
            "https://[fd00::1]/a.wav", "https://[fe80::1]/a.wav", "https://0.0.0.0/a.wav", "https://224.0.0.1/a",
            "https://user:secret@example.com/a.wav", "https://:secret@example.com/a.wav"]
    answers = set()
    for url in urls:
        with pytest.raises(serverless.JobError) as caught:
            serverless.fetch_reference(url, worker.jobs_dir, 1 << 20, 30.0)
        assert caught.value.field == "ref_audio"
        answers.add((caught.value.message, caught.value.fix))
    assert len(answers) == 1 and next(iter(answers))[0] == serverless.FETCH_FAILED  # one text for every failure
    assert connects == [] and listener.connections == 0  # refused before any connection was made
    listener.sock.close()


def test_one_deadline_covers_connect_headers_and_body(monkeypatch):
    """A loopback server sending its answer, headers included, one byte every 0.5 s: with the address check
    relaxed (f5ui.fetch.allowed_address monkeypatched to accept loopback), the deadline itself is tested."""
    import f5ui.fetch as fetch
    from tests.http_peers import Trickle

    monkeypatch.setattr(fetch, "allowed_address", lambda address: True)
    slow = Trickle(every=0.5)  # about 40 s for the whole answer
    started = time.monotonic()
    with pytest.raises(fetch.FetchFailed, match="took longer than 2 s"):
        fetch.download(f"http://127.0.0.1:{slow.port}/clip.wav", 1 << 20, 2.0)
    assert time.monotonic() - started < 10 and slow.connections == 1
    quick = Trickle(every=0.0)
    assert fetch.download(f"http://127.0.0.1:{quick.port}/clip.wav", 1 << 20, 30.0) == (b"RIFF", "audio/wav")
    slow.stop()
    quick.stop()


def test_redirects_errors_and_oversize_answers_are_one_failure(worker, monkeypatch):
    import http.server
    import threading

    import f5ui.fetch as fetch
    import f5ui.serverless as serverless

    monkeypatch.setattr(fetch, "allowed_address", lambda address: True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
            elif self.path == "/missing":
                self.send_error(404)
            else:
                self.send_response(200)
                self.send_header("Content-Length", str(3 << 20))
                self.end_headers()
                self.wfile.write(b"x" * (3 << 20))

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    for path, reason in (("/redirect", "HTTP 302"), ("/missing", "HTTP 404"), ("/big", "announced")):
        with pytest.raises(fetch.FetchFailed, match=reason):
            fetch.download(base + path, 1 << 20, 10.0)
        with pytest.raises(serverless.JobError, match="could not be downloaded"):
            serverless._fetch(base + path, 1 << 20, 10.0)
    server.shutdown()


def test_requests_are_checked_before_anything_is_fetched(worker, monkeypatch):
    import f5ui.serverless as serverless

    fetch, fetched = serverless.fetch_reference, []
    monkeypatch.setattr(serverless, "fetch_reference", lambda *a, **k: fetched.append(a))
    with pytest.raises(serverless.JobError, match="needs an S3 bucket"):
        worker._request({"input": {"text": "Hi", "ref_audio": "https://example.com/a.wav", "export": True,
                                   "audio_format": "wma"}})
    with pytest.raises(serverless.JobError, match="characters long"):
        worker._request({"input": {"text": "x" * 6000, "ref_audio": "https://example.com/a.wav"}})
    assert fetched == []
    big = "data:audio/wav;base64," + "A" * (int(worker.settings.max_upload_mb * 2**20) * 4 // 3 + 8)
    with pytest.raises(serverless.JobError, match="larger than"):
        fetch(big, worker.jobs_dir, int(worker.settings.max_upload_mb * 2**20), 5.0)


def test_any_failure_of_a_streaming_job_is_an_error_object(worker, monkeypatch):
    def disk_full(job):  # noqa: ANN001, ANN202
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(worker, "_request", disk_full)
    (only,) = list(worker.handle_stream({"input": {}}))
    error = json.loads(only["error"])
    assert error["error_message"] == "The job failed: OSError." and "Traceback" not in json.dumps(only)
    assert json.loads(worker.handle({"input": {}})["error"]) == error
