"""The RunPod serverless worker through the `runpod` SDK's own local modes, with the tiny model:
`--test_input` (one job, then exit) and the local API server (`--rp_serve_api`): a normal job, a
streaming job, a job exported to moto's S3 server, each bad input, and a failing fitness check."""

from __future__ import annotations

import ast
import base64
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile as sf

from f5ui.errors import UserFacingError
from tests.helpers import ROOT, free_port

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
        deadline = time.monotonic() + 120
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
        return requests.post(self.url + "/runsync", json={"input": job_input}, timeout=300).json()

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


def test_one_job_through_test_input(tiny_env, tmp_path, ref_clip):
    """Exported (to the local folder: no bucket here), so the result is short enough for the SDK's log line."""
    job = {"input": {"text": TEXT, "ref_audio": data_uri(ref_clip[0]), "ref_text": ref_clip[1], "nfe_step": 8,
                     "seed": 11, "export": True, "audio_format": "wav"}}
    (tmp_path / "test_input.json").write_text(json.dumps(job))  # how the SDK takes a job too big for argv
    done = subprocess.run([sys.executable, "-m", "f5ui.serverless"], cwd=tmp_path, capture_output=True, text=True,
                          env=worker_env(tiny_env, tmp_path / "data"), timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if "Job result: " in line)
    output = ast.literal_eval(line.split("Job result: ", 1)[1])["output"]
    assert output["seed"] == 11 and output["chunk_seeds"][0] == 11 and output["location"].startswith("<data dir>/")
    folder = tmp_path / "data" / "exports" / output["location"].removeprefix("<data dir>/exports/")
    assert sf.info(str(folder / "speech.wav")).duration == pytest.approx(output["duration"], abs=0.01)
    assert [w["word"] for w in output["timings"]["words"]][:2] == ["Hello", "from"]
    assert "Traceback" not in done.stdout + done.stderr
    assert not list((tmp_path / "data" / "uploads" / "jobs").iterdir())  # the fetched reference is gone


def test_runsync_returns_the_audio(api, ref_clip):
    answer = api.runsync({"text": TEXT, "ref_audio": data_uri(ref_clip[0]), "ref_text": ref_clip[1], "nfe_step": 8,
                          "seed": 4})
    assert answer["status"] == "COMPLETED", answer
    output = answer["output"]
    samples, rate = decode_wav(output["audio_base64"])
    assert rate == 24000 and len(samples) / rate == pytest.approx(output["duration"], abs=0.01)
    assert output["seed"] == 4 and output["timings"]["words"][0]["word"] == "Hello"


def test_a_bad_job_through_test_input_fails_with_the_reason(tiny_env, tmp_path):
    done = subprocess.run([sys.executable, "-m", "f5ui.serverless", "--test_input",
                           json.dumps({"input": {"txt": "typo"}})], cwd=tmp_path, capture_output=True, text=True,
                          env=(worker_env(tiny_env, tmp_path / "data")), timeout=300)
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


@pytest.mark.parametrize("job_input, field, words", [
    ({"text": "Hi", "voice": 3}, "voice", "'voice' must be str or null"),
    ({"text": "", "voice": "x"}, "text", "'text' is missing or empty"),
    ({"text": "Hi"}, "voice", "Neither 'voice' nor 'ref_audio'"),
    ({"text": "Hi", "ref_audio": "http://example.com/a.wav"}, "ref_audio", "must be an https:// URL or a data: URI"),
    ({"text": "Hi", "ref_audio": "data:audio/wav;base64,@@@@"}, "ref_audio", "does not decode"),
    ({"text": "Hi", "voice": "Nobody"}, None, "no saved voice named 'Nobody'"),
    ({"text": "Hi", "voice": "x", "nfe_step": 1000}, None, "out of range"),
    ({"text": "Hi", "voice": "x", "word_timings": "yes"}, "word_timings", "must be bool"),
    ({"text": "Hi", "voice": "x", "seed": 1.5}, "seed", "must be int or null"),
])
def test_each_bad_input_is_a_clear_error_object(api, job_input, field, words):
    answer = api.runsync(job_input)
    assert answer["status"] == "FAILED"
    error = json.loads(answer["error"])  # RunPod's error is a string: ours is a JSON object
    assert words in error["error_message"] and error["field"] == field and error["fix"], error
    assert "Traceback" not in json.dumps(answer)


def test_a_streaming_job_yields_the_audio_in_pieces_that_join_to_the_final_file(tiny_env, tmp_path, ref_clip):
    server = LocalApi(worker_env(tiny_env, tmp_path / "data", F5UI_WORKER_STREAM="1"), tmp_path)
    try:
        long_text = " ".join(["This sentence is one chunk of a longer text."] * 4)
        job = requests.post(server.url + "/run", json={"input": {
            "text": long_text, "ref_audio": data_uri(ref_clip[0]), "ref_text": ref_clip[1], "nfe_step": 8,
            "word_timings": False}}, timeout=30).json()
        streamed = requests.post(f"{server.url}/stream/{job['id']}", timeout=300).json()  # POST, locally
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
                          timeout=120)
    assert done.returncode == 1
    log = done.stdout + done.stderr
    assert "Fitness check failed" in log and "missing.safetensors does not exist" in log and "Job result" not in log


# --- the worker's own checks, without the SDK ---------------------------------------------------

@pytest.fixture()
def worker(tiny_env, tmp_path):
    from f5ui.config import from_env
    from f5ui.serverless import Worker

    return Worker(from_env({**tiny_env, "F5UI_DATA_DIR": str(tmp_path / "data"), "F5UI_PRELOAD": "0"}))


class _Peer:
    """A local HTTP server that redirects, or trickles its body a byte at a time."""

    def __init__(self, mode: str) -> None:
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
                self.end_headers()
                for _ in range(40):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/clip.wav"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_reference_download_follows_no_redirect_and_has_a_deadline():
    from f5ui.serverless import JobError, _download

    redirect, slow = _Peer("redirect"), _Peer("slow")
    with pytest.raises(JobError, match="redirect"):
        _download(redirect.url, 1 << 20, 5.0)
    started = time.monotonic()
    with pytest.raises(JobError, match="took longer than 1 s"):  # each read is quick; the whole is not
        _download(slow.url, 1 << 20, 1.0)
    assert time.monotonic() - started < 2.5
    redirect.server.shutdown()
    slow.server.shutdown()


def test_requests_are_checked_before_anything_is_fetched(worker, monkeypatch):
    import f5ui.serverless as serverless

    fetch, fetched = serverless.fetch_reference, []
    monkeypatch.setattr(serverless, "fetch_reference", lambda *a, **k: fetched.append(a))
    with pytest.raises(serverless.JobError, match="Unknown audio_format"):
        worker._request({"input": {"text": "Hi", "ref_audio": "https://example.com/a.wav", "export": True,
                                   "audio_format": "wma"}})
    with pytest.raises(UserFacingError, match="characters long"):
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
