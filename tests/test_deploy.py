"""Deployment, proven here without a Docker engine: the container's start script run for real
against folders standing in for /runpod-volume, /workspace and /data; the Dockerfile read with a
real parser; the Space's front matter kept equal to the pins; ZeroGPU's duration rule."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest
import requests
from dockerfile_parse import DockerfileParser

from f5ui import hosting
from tests.helpers import ROOT, by_name, free_port

START = ROOT / "scripts" / "start.sh"
LAYOUT = set(hosting.LAYOUT)  # what the start script lays out on the volume
# What only exists or makes sense in the running container: never in a build step.
RUNTIME_MARKERS = ("/runpod-volume", "/workspace", "F5UI_DATA_DIR", "HF_HOME", "nltk.downloader", "f5ui.", "app.py",
                   "start.sh")
INSTALL_VERBS = {"apt-get", "rm", "useradd", "mkdir", "chown", "pip"}


class Started:
    """scripts/start.sh as the container runs it: its own working directory, the venv's python."""

    def __init__(self, env: dict[str, str], cwd: Path, role: str = "app") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cwd.mkdir(parents=True, exist_ok=True)
        self.log = cwd / f"start-{time.monotonic_ns()}.log"
        inherited = {k: v for k, v in os.environ.items() if k != "F5UI_DATA_DIR"}
        full = {**inherited, **env, "PORT": str(self.port), "PYTHON": str(ROOT / ".venv" / "bin" / "python")}
        self.proc = subprocess.Popen(["bash", str(START), role], cwd=cwd, env=full, stdout=open(self.log, "wb"),
                                     stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"start.sh exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                health = requests.get(self.url + "/health", timeout=2).json()
                if health["model"]["state"] in ("ready", "failed"):
                    return health
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise TimeoutError(self.log.read_text()[-3000:])

    def diagnostics(self) -> dict:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            report = requests.get(self.url + "/diagnostics", timeout=10).json()
            if not report["pending"]:
                return report
            time.sleep(0.5)
        raise TimeoutError("diagnostics still running")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        return self.log.read_text()


def files_and_times(data: Path) -> dict[Path, float]:
    """Every file of the data dir but the logs and outputs a run writes, with its modification time."""
    return {p: p.stat().st_mtime for p in data.rglob("*")
            if p.is_file() and p.parts[len(data.parts)] not in ("logs", "outputs")}


def volumes(root: Path) -> dict[str, Path]:
    return {"runpod serverless": root / "runpod-volume", "runpod pod": root / "workspace", "spaces": root / "data"}


def volume_env(tiny_env: dict, root: Path, **extra: str) -> dict[str, str]:
    env = {**tiny_env, "F5UI_VOLUMES": ",".join(str(p) for p in volumes(root).values()), **extra}
    for name in ("HF_HOME", "TORCH_HOME", "NLTK_DATA", "GRADIO_TEMP_DIR", "F5UI_STORAGE", "F5UI_STORAGE_NOTE"):
        env.pop(name, None)
    return env


def clean_environ(monkeypatch) -> None:  # noqa: ANN001
    for name in ("HF_HOME", "TORCH_HOME", "NLTK_DATA", "GRADIO_TEMP_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.live
@pytest.mark.parametrize("which", ["runpod serverless", "runpod pod", "spaces"])
def test_start_script_lays_out_the_volume_and_starts_twice_without_redoing_anything(which, tiny_env, tmp_path,
                                                                                     monkeypatch):
    clean_environ(monkeypatch)
    chosen = volumes(tmp_path)[which]
    chosen.mkdir(parents=True)  # only this one "is mounted"
    env = volume_env(tiny_env, tmp_path)
    first = Started(env, tmp_path / "app")
    try:
        health = first.wait()
        assert health["ready"] is True and health["status"] == "ok"
        report = by_name(first.diagnostics())
    finally:
        log = first.stop()
    data = chosen / "f5ui"
    assert {p.name for p in data.iterdir()} >= LAYOUT
    assert f"data dir {data}" in log and "created" in log
    assert str(data) in report["data dir"]["detail"] and str(data / "hf") in report["hf cache"]["detail"]
    assert "not a mounted volume" in report["data dir"]["detail"]  # a temp folder is not a mount: said so
    before = files_and_times(data)
    second = Started(env, tmp_path / "app")
    try:
        assert second.wait()["ready"] is True
    finally:
        log = second.stop()
    assert "layout already in place" in log and " created " not in log
    after = files_and_times(data)
    assert {p: t for p, t in after.items() if p in before} == before  # nothing re-created or re-downloaded
    assert {p.name for p in data.iterdir()} >= LAYOUT
    assert not (tmp_path / "app" / "f5ui_data").exists()  # the volume was used, not the local folder


@pytest.mark.live
@pytest.mark.parametrize("problem", ["missing", "not writable"])
def test_without_a_usable_volume_it_still_serves_and_says_why(problem, tiny_env, tmp_path, monkeypatch):
    clean_environ(monkeypatch)
    if problem == "not writable":
        pod = volumes(tmp_path)["runpod pod"]
        pod.mkdir(parents=True)
        (pod / "f5ui").write_text("a file where the data dir should be")  # what root cannot write through either
    started = Started(volume_env(tiny_env, tmp_path), tmp_path / "app")
    try:
        assert started.wait()["ready"] is True
        row = by_name(started.diagnostics())["data dir"]
    finally:
        log = started.stop()
    assert row["status"] == "warn" and "no writable persistent volume found" in row["detail"]
    assert "persistent volume" in row["fix"]
    if problem == "not writable":
        assert "workspace is not writable" in row["detail"] and "workspace is not writable (" in log
    assert (tmp_path / "app" / "f5ui_data" / "voices").is_dir()  # the local folder of the working directory


def test_hosting_exports_are_shell_safe_and_prefer_f5ui_data_dir(tiny_env, tmp_path, monkeypatch):
    clean_environ(monkeypatch)
    odd = tmp_path / "it's a dir; rm -rf x"
    env = {**os.environ, "F5UI_DATA_DIR": str(odd), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "f5ui.hosting", "exports"], env=env,
                         capture_output=True, text=True, check=True).stdout
    exported = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    assert shlex.split(exported["F5UI_DATA_DIR"]) == [str(odd)] and exported["F5UI_STORAGE"] == "F5UI_DATA_DIR"
    assert shlex.split(exported["HF_HOME"]) == [str(odd / "hf")]


# --- the Dockerfile --------------------------------------------------------------------------

def test_dockerfile_builds_only_and_starts_right():
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    steps = [(i["instruction"], i["value"]) for i in parser.structure if i["instruction"] != "COMMENT"]
    assert [v for k, v in steps if k == "FROM"] == ["python:3.11-slim-bookworm AS app", "app AS worker"]
    for kind, value in steps:
        if kind == "COPY":
            for source in value.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY source {source} is missing"
        if kind == "RUN":  # build steps only install: nothing that needs the running container
            assert not any(marker in value for marker in RUNTIME_MARKERS), value
            for command in re.split(r"&&", re.sub(r"--mount=\S+", "", value)):
                assert command.split()[0] in INSTALL_VERBS, command
    ignored = (ROOT / ".dockerignore").read_text().split()
    for kind, value in steps:
        if kind == "COPY":
            assert not any(src in ignored for src in value.split()[:-1]), value
    entrypoint = next(v for k, v in steps if k == "ENTRYPOINT")
    assert entrypoint == '["/app/scripts/start.sh"]'
    script = ROOT / "scripts" / "start.sh"
    assert os.access(script, os.X_OK) and "set -euo pipefail" in script.read_text()
    assert "/health" in next(v for k, v in steps if k == "HEALTHCHECK") and ("EXPOSE", "7860") in steps
    users = [v for k, v in steps if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    tracked = subprocess.run(["git", "ls-files", "-s", "scripts/start.sh"], cwd=ROOT, capture_output=True,
                             text=True).stdout
    assert tracked.startswith("100755"), "start.sh must be executable in the repository, not only here"


# --- Hugging Face Spaces ---------------------------------------------------------------------

def test_space_front_matter_matches_the_pins():
    readme = (ROOT / "README.md").read_text()
    assert readme.startswith("---\n")
    front = dict(line.split(": ", 1) for line in readme.split("---\n")[1].strip().splitlines())
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert front["sdk"] == "gradio" and front["sdk_version"] == pins["gradio"]
    assert front["app_file"] == "app.py" and (ROOT / front["app_file"]).is_file()
    assert front["python_version"].strip('"') == "3.11"


def test_zerogpu_duration_grows_with_the_text_and_spaces_leaves_other_hardware_alone(studio, ref_clip):
    from f5ui.engine.zerogpu import MAX_SECONDS, chunk_duration, gpu_task
    from f5ui.schema import GenerationParams

    assert chunk_duration("Hi.", 32) < chunk_duration("A much longer chunk of text " * 5, 32)
    assert chunk_duration("x" * 200, 64) > chunk_duration("x" * 200, 16)
    assert chunk_duration("x" * 100000, 64) == MAX_SECONDS
    decorated = gpu_task(duration=lambda n: 5)(lambda n: n * 2)  # spaces is installed: off ZeroGPU, a pass-through
    assert decorated(21) == 42
    result = studio.generate(ref_clip[0], ref_clip[1], "Through the ZeroGPU wrapper.", GenerationParams(nfe_step=4),
                             word_timings=False)
    assert result.duration > 0.5


@pytest.mark.live
def test_a_failed_model_download_never_stops_the_app(tiny_env, tmp_path, monkeypatch):
    """F5UI_PREDOWNLOAD=1 with the hub's checkpoint while offline: the fetch fails, the app serves anyway."""
    clean_environ(monkeypatch)
    env = {k: v for k, v in volume_env(tiny_env, tmp_path, F5UI_PREDOWNLOAD="1", HF_HUB_OFFLINE="1").items()
           if k != "F5UI_CKPT"}  # the default: hf://SWivid/F5-TTS/...
    started = Started(env, tmp_path / "app")
    try:
        health = started.wait()
        report = by_name(started.diagnostics())
    finally:
        log = started.stop()
    assert "could not be downloaded" in log and "the app starts anyway" in log
    assert health["status"] == "ok" and health["model"]["state"] == "failed" and health["model"]["fix"]
    assert report["checkpoint"]["status"] == "error" and "HF_HUB_OFFLINE" in report["checkpoint"]["detail"]
