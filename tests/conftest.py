"""Shared fixtures: a tiny random-weight F5-TTS model on disk, a Studio configured
to it through the same F5UI_* variables users set, a live app on 127.0.0.1, and
reference audio files (good and bad)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile as sf

from tests.tiny_model import build_tiny_model, reference_clip

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def tiny_env(tmp_path_factory) -> dict[str, str]:
    """F5UI_* variables selecting a tiny checkpoint, vocab and vocoder built with f5-tts's classes."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def ref_clip() -> tuple[Path, str]:
    return reference_clip()


@pytest.fixture(scope="session")
def studio(tiny_env, tmp_path_factory):
    """One in-process Studio for service-level tests, loaded once."""
    from f5ui.config import from_env
    from f5ui.service import Studio

    env = dict(tiny_env, F5UI_DATA_DIR=str(tmp_path_factory.mktemp("studio-data")))
    studio = Studio(from_env(env))
    studio.start()
    status = studio.model.wait(timeout=120)
    assert status.state == "ready", status
    return studio


# --- audio files -----------------------------------------------------------------

@pytest.fixture(scope="session")
def audio_files(tmp_path_factory, ref_clip) -> dict[str, Path]:
    """Reference-like files a user might upload, good and bad."""
    folder = tmp_path_factory.mktemp("audio")
    ref, _ = ref_clip
    samples, sr = sf.read(str(ref), dtype="float32")
    files: dict[str, Path] = {}
    files["silent"] = folder / "silent.wav"
    sf.write(files["silent"], np.zeros(sr * 3, dtype=np.float32), sr)
    files["corrupt"] = folder / "corrupt.wav"
    files["corrupt"].write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(2000))
    files["text"] = folder / "notes.mp3"
    files["text"].write_text("this is not audio at all\n" * 50)
    files["empty"] = folder / "empty.wav"
    files["empty"].write_bytes(b"")
    files["tiny"] = folder / "tiny.wav"
    sf.write(files["tiny"], samples[: sr // 20], sr)
    # Longer than F5's 12 s limit: the clip three times, with pauses, at 44.1 kHz stereo.
    pause = np.zeros(int(sr * 1.2), dtype=np.float32)
    long_mono = np.concatenate([samples, pause, samples, pause, samples])
    files["long"] = folder / "long_stereo.wav"
    sf.write(files["long"], np.stack([long_mono, long_mono], axis=1), sr)
    files["mp3"] = folder / "ref.mp3"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(ref), "-b:a", "64k", str(files["mp3"])],
                   check=True)
    return files


# --- live app ----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveApp:
    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.log_path = data_dir / "stdout.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        full_env = dict(os.environ, **env, F5UI_PORT=str(self.port), F5UI_DATA_DIR=str(data_dir))
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=full_env,
                                     stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT)

    def wait_http(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"app did not answer:\n{self.log_path.read_text()[-3000:]}")

    def health(self) -> dict:
        return requests.get(self.url + "/health", timeout=5).json()

    def wait_ready(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.health()
            if health["model"]["state"] in ("ready", "failed"):
                return health
            time.sleep(0.3)
        raise TimeoutError("model did not finish loading")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def live_app(tiny_env, tmp_path_factory):
    app = LiveApp(tiny_env, tmp_path_factory.mktemp("live-app"))
    try:
        app.wait_http()
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="session")
def client(live_app):
    from gradio_client import Client

    return Client(live_app.url, verbose=False)


# --- live apps with a controlled environment (degradation tests) ---------------------

class EnvLiveApp(LiveApp):
    """A live app whose environment the test sets entirely (PATH, PYTHONPATH, F5UI_DATA_DIR …);
    its stdout goes to `log_dir`/stdout.log, which need not be the data dir."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = Path(env.get("F5UI_DATA_DIR", str(log_dir)))
        self.log_path = log_dir / "stdout.log"
        full_env = dict(os.environ, F5UI_DATA_DIR=str(log_dir))
        full_env.update(env)
        full_env["F5UI_PORT"] = str(self.port)
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=full_env,
                                     stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT)

    def client(self):  # noqa: ANN201 - gradio_client.Client
        """A gradio_client for this app, closed by stop() (its heartbeat stream holds the server open)."""
        from gradio_client import Client

        client = Client(self.url, verbose=False)
        self.__dict__.setdefault("clients", []).append(client)
        return client

    def stop(self) -> None:
        for client in self.__dict__.get("clients", []):
            client.close()
        # uvicorn's graceful shutdown waits on open streams (browser pages, heartbeats): a test app
        # has nothing to save, so don't wait long.
        self.proc.terminate()
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def diagnostics(self) -> dict:
        return requests.get(self.url + "/diagnostics", timeout=10).json()

    def wait_checks(self, timeout: float = 150) -> dict:
        """The report once the background checks are done (they wait for the model's own imports)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            report = self.diagnostics()
            if not report["pending"]:
                return report
            time.sleep(0.3)
        raise TimeoutError(f"background checks still running: {report['pending']}")


@pytest.fixture(scope="module")
def chromium():
    """Debian Chromium driven by Playwright, launched as tests/test_browser.py does. Module scope:
    two sync Playwright sessions cannot be open in one process at once."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Debian chromium is required (scripts/setup.sh test installs it)"
    args = ["--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--no-sandbox"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
        yield browser
        browser.close()
