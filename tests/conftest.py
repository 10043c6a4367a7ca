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
    from f5ui.paths import FileGate
    from f5ui.service import Studio

    env = dict(tiny_env, F5UI_DATA_DIR=str(tmp_path_factory.mktemp("studio-data")))
    # As the CLI builds it: these tests name local files directly (test_security.py covers the default gate).
    studio = Studio(from_env(env), files=FileGate(None))
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
    """`python app.py` on a free port of 127.0.0.1, with the test's environment on top of this one.
    Output goes to `folder`/stdout.log; the data dir is `folder` unless `env` sets F5UI_DATA_DIR."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        full_env = {**os.environ, "F5UI_DATA_DIR": str(folder), **env, "F5UI_PORT": str(self.port)}
        self.data_dir = Path(full_env["F5UI_DATA_DIR"])
        self.log_path = folder / "stdout.log"
        self.clients: list = []
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

    def diagnostics(self) -> dict:
        return requests.get(self.url + "/diagnostics", timeout=10).json()

    def _poll(self, fetch, done, timeout: float, what: str) -> dict:  # noqa: ANN001 - two small callables
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = fetch()
            if done(value):
                return value
            time.sleep(0.3)
        raise TimeoutError(f"{what} (last answer: {value})")

    def wait_ready(self, timeout: float = 120) -> dict:
        """/health once the model load has finished, either way."""
        return self._poll(self.health, lambda h: h["model"]["state"] in ("ready", "failed"), timeout,
                          "the model did not finish loading")

    def wait_checks(self, timeout: float = 150) -> dict:
        """The report once the background checks are done (they wait for the model's own imports)."""
        return self._poll(self.diagnostics, lambda r: not r["pending"], timeout, "background checks still running")

    def client(self):  # noqa: ANN201 - gradio_client.Client
        """A gradio_client for this app, closed by stop() (its heartbeat stream holds the server open)."""
        from gradio_client import Client

        client = Client(self.url, verbose=False)
        self.clients.append(client)
        return client

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.proc.terminate()  # the server's graceful shutdown is bounded at 3 s
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


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
    return live_app.client()


@pytest.fixture(scope="module")
def chromium():
    """Debian Chromium driven by Playwright, launched as tests/test_browser.py does. Module scope:
    two sync Playwright sessions cannot be open in one process at once."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Debian chromium is required (scripts/setup.sh test installs it)"
    # Playwright cannot download its own browser here; without the networking flags Chromium
    # keeps trying to reach Google's hosts.
    args = ["--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--no-sandbox"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
        yield browser
        browser.close()
