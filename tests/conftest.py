"""Fixtures: a tiny random-weight F5-TTS model on disk, a Studio configured to it through the
same F5UI_* variables users set, a live app on 127.0.0.1, reference audio files (good and bad),
and Chromium. Helpers shared by test modules are in tests/helpers.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import PATIENCE, LiveApp
from tests.tiny_model import build_tiny_model, reference_clip

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# The tests set up the environment they need: machine-wide Google credentials or a Gradio upload
# folder must not change what they see (live apps inherit this environment).
for _name in ("GOOGLE_APPLICATION_CREDENTIALS", "GRADIO_TEMP_DIR"):
    os.environ.pop(_name, None)


@pytest.fixture
def isolated_nltk(monkeypatch):
    """nltk finds only data the test installs (not a punkt_tab that scripts/run.sh put in .venv)."""
    import nltk

    monkeypatch.setattr(nltk.data, "path", [])


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
    status = studio.model.wait(timeout=PATIENCE)
    assert status.state == "ready", status
    studio.checkup.load()  # the decoder processes too (start() loads them in the background): timings compare warm
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


# Slow tests carry markers, so a developer can run the fast part alone (`pytest -m "not live and not
# browser"`); CI runs everything. Tests that start an app themselves are marked in their module.
LIVE_FIXTURES = {"live_app", "client", "secure_app", "blocked_app", "uploaded_ref"}


def pytest_collection_modifyitems(items):  # noqa: ANN001, ANN201 - pytest hook
    for item in items:
        if LIVE_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.live)
        if "chromium" in item.fixturenames:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def s3_open(tmp_path_factory):
    """moto's S3 server without authentication: presigned links can be fetched from it."""
    from tests.s3_server import MotoS3

    server = MotoS3(tmp_path_factory.mktemp("moto-open"), auth=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_auth(tmp_path_factory):
    """moto's S3 server checking every request's signature and the IAM policies of its users."""
    from tests.s3_server import MotoS3

    server = MotoS3(tmp_path_factory.mktemp("moto-auth"), auth=True)
    yield server
    server.stop()
