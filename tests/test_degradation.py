"""Graceful degradation, against live apps: each broken piece of the environment is
simulated for real (blocked imports, bad model files, PATH without ffmpeg, a data dir
below a regular file, no GPU) and the status panel, /diagnostics and /health must say
what is off, why, and how to fix it, while everything else keeps working."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
import soundfile as sf
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from tests.helpers import PATIENCE, SECRET, SECRET_ID, LiveApp, by_name, fake_service_account, generate

pytestmark = pytest.mark.live  # every test here talks to an app process

# Installed but failing at import (a broken install): find_spec finds them, import raises.
BROKEN = ("whisperx", "google.cloud.speech_v1", "pocketsphinx")
# Not installed at all. A broken boto3 would break accelerate, which transformers and so f5-tts
# import (the model check then names boto3); "not installed" is what accelerate tolerates.
HIDDEN = ("boto3", "botocore")

SITECUSTOMIZE = '''
"""Test only: some installed packages fail at import, others look absent."""
import importlib.abc, importlib.machinery, sys

BROKEN = {broken!r}
HIDDEN = {hidden!r}


def _matches(fullname, names):
    return any(fullname == n or fullname.startswith(n + ".") for n in names)


class _Broken(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True) if _matches(fullname, BROKEN) else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise ImportError(module.__name__ + " is blocked (simulated broken install)")


class _Hiding(importlib.machinery.PathFinder):
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        return None if _matches(fullname, HIDDEN) else super().find_spec(fullname, path, target)


sys.meta_path[:] = [_Hiding if f is importlib.machinery.PathFinder else f for f in sys.meta_path]
sys.meta_path.insert(0, _Broken())
'''


def start(env: dict[str, str], log_dir: Path) -> LiveApp:
    app = LiveApp(env, log_dir)
    app.wait_http()
    return app


def open_panel(browser, app: LiveApp):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(app.url, wait_until="networkidle")
    page.get_by_text("System status: checks and fixes").click()
    page.locator("#status-table table").wait_for(timeout=15_000)
    return page


def row_text(page, check: str) -> str:
    return page.locator(f'#status-table tr[data-check="{check}"]').inner_text()


# --- optional packages that cannot be imported (plus a Google key that must stay secret) -------------

@pytest.fixture(scope="module")
def blocked_app(tiny_env, tmp_path_factory):
    root = tmp_path_factory.mktemp("blocked")
    (root / "site").mkdir()
    (root / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE.format(broken=BROKEN, hidden=HIDDEN))
    pythonpath = os.pathsep.join(p for p in (str(root / "site"), os.environ.get("PYTHONPATH", "")) if p)
    key_file = fake_service_account(root / "service-account.json")
    env = dict(tiny_env, PYTHONPATH=pythonpath, F5UI_DATA_DIR=str(root / "data"),
               F5UI_GOOGLE_CREDENTIALS=str(key_file),
               # A plaintext local endpoint: even if the block failed, nothing outside this machine is called.
               F5UI_GOOGLE_ENDPOINT="insecure://127.0.0.1:9")
    app = start(env, root / "run")
    app.key_file = key_file
    try:
        yield app
    finally:
        app.stop()


def test_unimportable_optional_packages_are_off_with_the_reason_and_generation_works(blocked_app, ref_clip):
    report = blocked_app.wait_checks()
    checks = by_name(report)
    for name in ("aligner whisperx", "aligner google", "aligner sphinx"):
        assert checks[name]["status"] == "off", checks[name]
        assert "cannot be imported" in checks[name]["detail"] and "blocked" in checks[name]["detail"]
        assert "pip install --force-reinstall" in checks[name]["fix"]
    assert checks["boto3"]["status"] == "off" and "not installed" in checks["boto3"]["detail"]
    assert checks["boto3"]["fix"] == "pip install boto3 (in the pinned requirements)."
    assert checks["aligner estimate"]["status"] == "ok"
    # The take check loses its word check (pocketsphinx) only; similarity and loudness still run.
    assert checks["check: word check"]["status"] == "off" and "blocked" in checks["check: word check"]["detail"]
    assert checks["check: speaker similarity"]["status"] == "ok"

    health = blocked_app.wait_ready()
    assert health["ready"] is True and health["checks"]["errors"] == []
    assert health["checks"]["off"] >= 4

    client = blocked_app.client()
    # The API endpoint and GET /diagnostics give the same report.
    api_report = client.predict(api_name="/diagnostics")
    assert by_name(api_report) == by_name(blocked_app.diagnostics())
    ref, ref_text = ref_clip
    outputs = generate(client, ref, ref_text)
    assert sf.info(outputs[0]).duration > 0.3
    quality = outputs[6]
    assert quality["word_accuracy"] is None and any("word check off" in n for n in quality["notes"])
    assert quality["loudness"]["lufs"] < 0
    timings, _files = client.predict(handle_file(str(ref)), ref_text, "en", "auto", api_name="/align")
    assert timings["backend"] == "estimate" and len(timings["words"]) == len(ref_text.split())


def test_a_google_key_never_reaches_the_panel_health_diagnostics_or_logs(blocked_app, chromium):
    blocked_app.wait_checks()
    shown = {
        "health": requests.get(blocked_app.url + "/health", timeout=10).text,
        "diagnostics": requests.get(blocked_app.url + "/diagnostics", timeout=10).text,
        "api": json.dumps(blocked_app.client().predict(api_name="/diagnostics")),
        "stdout": blocked_app.log_path.read_text(),
        "log file": (blocked_app.data_dir / "logs" / "f5ui.log").read_text(),
    }
    page = open_panel(chromium, blocked_app)
    shown["panel"] = page.locator("#status-table").inner_text() + page.locator("#model-status").inner_text()
    shown["page"] = page.content()
    credentials_row = row_text(page, "google credentials")
    page.close()
    assert str(blocked_app.key_file) in credentials_row and "OK" in credentials_row  # the path is shown
    for where, text in shown.items():
        for secret in (SECRET, SECRET_ID, "BEGIN PRIVATE KEY"):
            assert secret not in text, f"secret in {where}"


# --- the model cannot load ---------------------------------------------------------------------

def test_missing_checkpoint_keeps_the_ui_up_and_retry_loads_it_once_fixed(tiny_env, tmp_path, ref_clip, chromium):
    later = tmp_path / "weights" / "model.safetensors"  # appears only after the first failure
    app = start(dict(tiny_env, F5UI_CKPT=str(later)), tmp_path / "run")
    try:
        health = app.wait_ready()
        assert health["ready"] is False and health["model"]["state"] == "failed"
        assert str(later) in health["reason"] and "F5UI_CKPT" in health["model"]["fix"]
        assert {"model", "checkpoint"} <= set(health["checks"]["errors"])
        checks = by_name(app.diagnostics())
        assert checks["checkpoint"]["status"] == "error" and "F5UI_CKPT" in checks["checkpoint"]["fix"]

        client = app.client()
        ref, ref_text = ref_clip
        with pytest.raises(AppError) as failed:
            generate(client, ref, ref_text)[0]
        assert "not found" in str(failed.value) and "F5UI_CKPT" in str(failed.value)  # reason and fix
        # Alignment needs no TTS model: it keeps working while the model is down.
        timings, _files = client.predict(handle_file(str(ref)), ref_text, "en", "auto", api_name="/align")
        assert len(timings["words"]) == len(ref_text.split())

        page = open_panel(chromium, app)
        assert "failed" in page.locator("#model-status").inner_text()
        retry = page.locator("#retry-model")
        assert retry.is_visible()
        later.parent.mkdir(parents=True)
        shutil.copyfile(tiny_env["F5UI_CKPT"], later)  # the operator fixes the file
        retry.click()
        page.get_by_text("Model ready").wait_for(timeout=PATIENCE * 1000)
        assert not page.locator("#retry-model").is_visible()
        page.locator("#status-refresh").click()  # the checkpoint check runs again
        page.wait_for_function("""() => {
            const row = document.querySelector('#status-table tr[data-check="checkpoint"]');
            return row && row.innerText.includes('OK'); }""", timeout=15_000)
        page.close()
        assert app.health()["ready"] is True
        assert sf.info(generate(client, ref, ref_text)[0]).duration > 0.3
    finally:
        app.stop()


def test_wrong_architecture_is_reported_with_the_setting_to_change(tiny_env, tmp_path, ref_clip):
    arch = dict(json.loads(tiny_env["F5UI_MODEL_ARCH"]), depth=3)  # the checkpoint has 2 layers
    app = start(dict(tiny_env, F5UI_MODEL_ARCH=json.dumps(arch)), tmp_path / "run")
    try:
        health = app.wait_ready()
        assert health["ready"] is False and "does not fit the architecture" in health["reason"]
        model = by_name(app.diagnostics())["model"]
        assert model["status"] == "error" and "F5UI_MODEL_ARCH" in model["fix"]
        ref, ref_text = ref_clip
        with pytest.raises(AppError) as failed:
            generate(app.client(), ref, ref_text)[0]
        assert "does not fit the architecture" in str(failed.value) and "F5UI_MODEL_ARCH" in str(failed.value)
        assert requests.get(app.url + "/", timeout=10).status_code == 200
    finally:
        app.stop()


# --- ffmpeg missing ------------------------------------------------------------------------------

def path_without_ffmpeg(folder: Path) -> str:
    """One folder of links to every program on PATH except ffmpeg's."""
    folder.mkdir(parents=True)
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            if entry.name.startswith("ff") or (folder / entry.name).exists():
                continue
            (folder / entry.name).symlink_to(entry.path)
    return str(folder)


def test_without_ffmpeg_wav_works_m4a_is_refused_and_the_panel_says_why(tiny_env, tmp_path, ref_clip):
    path = path_without_ffmpeg(tmp_path / "bin")
    assert shutil.which("ffmpeg", path=path) is None
    app = start(dict(tiny_env, PATH=path), tmp_path / "run")
    try:
        ffmpeg = by_name(app.diagnostics())["ffmpeg"]
        assert ffmpeg["status"] == "warn" and "M4A" in ffmpeg["detail"] and "apt-get install ffmpeg" in ffmpeg["fix"]
        health = app.wait_ready()
        assert health["ready"] is True and "ffmpeg" in health["checks"]["warnings"]
        client = app.client()
        ref, ref_text = ref_clip
        assert sf.info(generate(client, ref, ref_text)[0]).duration > 0.3
        m4a = tmp_path / "ref.m4a"  # made here, where ffmpeg is on PATH
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(ref), "-c:a", "aac", str(m4a)], check=True)
        with pytest.raises(AppError) as refused:
            generate(client, m4a, ref_text)[0]
        assert "ffmpeg" in str(refused.value) and "Convert the file to WAV" in str(refused.value)
    finally:
        app.stop()


# --- data dir not writable ----------------------------------------------------------------------------

def test_unwritable_data_dir_falls_back_to_a_temp_dir_with_a_warning(tiny_env, tmp_path, ref_clip):
    blocker = tmp_path / "volume-not-mounted"
    blocker.write_text("a regular file where the volume should be")
    app = start(dict(tiny_env, F5UI_DATA_DIR=str(blocker / "data")), tmp_path / "run")
    try:
        data_dir = by_name(app.diagnostics())["data dir"]
        assert data_dir["status"] == "warn"
        assert str(blocker / "data") in data_dir["detail"] and tempfile.gettempdir() in data_dir["detail"]
        assert "F5UI_DATA_DIR" in data_dir["fix"]
        health = app.wait_ready()
        assert health["ready"] is True and "data dir" in health["checks"]["warnings"]
        ref, ref_text = ref_clip
        assert sf.info(generate(app.client(), ref, ref_text)[0]).duration > 0.3
    finally:
        app.stop()


# --- no GPU (this machine) ----------------------------------------------------------------------------

def test_no_gpu_runs_on_cpu_with_a_speed_warning_in_panel_and_health(live_app, chromium, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    live_app.wait_ready()
    deadline = time.monotonic() + PATIENCE
    while live_app.health()["checks"]["pending"] and time.monotonic() < deadline:
        time.sleep(0.3)
    health = live_app.health()
    assert health["ready"] is True and "cpu" in health["model"]["detail"]
    assert "gpu" in health["checks"]["warnings"]
    gpu = by_name(requests.get(live_app.url + "/diagnostics", timeout=10).json())["gpu"]
    assert gpu["status"] == "warn" and "slower" in gpu["detail"] and "--gpus all" in gpu["fix"]

    page = open_panel(chromium, live_app)
    summary = page.locator("#model-status").inner_text()
    assert "Model ready" in summary and "warning" in summary
    assert "WARN" in row_text(page, "gpu") and "slower" in row_text(page, "gpu")
    assert not page.locator("#retry-model").is_visible()
    with page.expect_download(timeout=15_000) as download:
        page.locator("#status-download").click()
    saved = tmp_path / "report.json"
    download.value.save_as(saved)
    report = json.loads(saved.read_text())
    assert by_name(report)["gpu"]["status"] == "warn" and report["summary"]["warn"] >= 1
    page.close()
