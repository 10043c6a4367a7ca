"""Deployment, proven here without a Docker engine: the container's start script run for real, with
the role the Dockerfile's default stage gives it, against folders standing in for /runpod-volume,
/workspace and /data; the nltk fetch and the model fetch against loopback peers standing for the
internet; the listening address from Gradio's own variables; ZeroGPU's duration rule."""

from __future__ import annotations

import datetime
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from f5ui import hosting
from tests.helpers import PATIENCE, ROOT, by_name, free_port, install_punkt_tab
from tests.http_peers import HeldHub, RefusingProxy
from tests.test_packaging import effective, stages

START = ROOT / "scripts" / "start.sh"
LAYOUT = set(hosting.LAYOUT)  # what the start script lays out on the volume


def default_role() -> str:
    """What `docker run` of the default build (the Dockerfile's last stage) passes to the start script."""
    every = stages()
    return json.loads(effective(every[-1], every, "CMD"))[0]


class Started:
    """scripts/start.sh as the container runs it: its own working directory, the venv's python, the
    default build's role; the port in PORT unless `port_variable` names another."""

    def __init__(self, env: dict[str, str], cwd: Path, role: str | None = None, port_variable: str = "PORT") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cwd.mkdir(parents=True, exist_ok=True)
        self.log = cwd / f"start-{time.monotonic_ns()}.log"
        inherited = {k: v for k, v in os.environ.items() if k != "F5UI_DATA_DIR"}
        full = {**inherited, **env, port_variable: str(self.port), "PYTHON": str(ROOT / ".venv" / "bin" / "python")}
        self.proc = subprocess.Popen(["bash", str(START), role or default_role()], cwd=cwd, env=full,
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)

    def health(self, timeout: float = PATIENCE) -> dict:
        """The first /health answer, once the server listens."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"start.sh exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                return requests.get(self.url + "/health", timeout=10).json()
            except requests.RequestException:
                time.sleep(0.3)
        raise TimeoutError(self.log.read_text()[-3000:])

    def wait(self, timeout: float = PATIENCE) -> dict:
        """/health once the model load has finished, either way."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.health(deadline - time.monotonic())
            if health["model"]["state"] in ("ready", "failed"):
                return health
            time.sleep(0.3)
        raise TimeoutError(self.log.read_text()[-3000:])

    def diagnostics(self) -> dict:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            report = requests.get(self.url + "/diagnostics", timeout=30).json()
            if not report["pending"]:
                return report
            time.sleep(0.5)
        raise TimeoutError("diagnostics still running")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)
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


# --- nltk's punkt_tab: claimed only when it is there, tried once a day ---------------------------------

def proxied(proxy: RefusingProxy) -> dict[str, str]:
    """https through `proxy`; nltk refuses proxied fetches unless told the proxy is trusted."""
    return {"https_proxy": proxy.url, "HTTPS_PROXY": proxy.url, "NLTK_ALLOW_PROXIED_URLOPEN": "1"}


def run_punkt(nltk_dir: Path, proxy: RefusingProxy) -> subprocess.CompletedProcess:
    """`python -m f5ui.punkt`'s main with nltk looking only in `nltk_dir` (not in a punkt_tab that
    scripts/run.sh may have put in the shared venv), online, the internet behind a refusing proxy."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(NLTK_DATA=str(nltk_dir), PYTHONPATH=str(ROOT), **proxied(proxy))
    code = ("import os, sys, nltk; nltk.data.path[:] = [os.environ['NLTK_DATA']]; "
            "from f5ui.punkt import main; sys.exit(main())")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=PATIENCE)


def test_punkt_is_claimed_only_when_it_is_there_and_a_failed_try_waits_a_day(tmp_path):
    proxy = RefusingProxy()
    nltk_dir = tmp_path / "nltk_data"
    try:
        first = run_punkt(nltk_dir, proxy)
        assert first.returncode == 1 and "nltk punkt_tab could not be downloaded" in first.stdout, first.stdout
        assert "downloaded into" not in first.stdout and "present" not in first.stdout  # nltk exits 0 anyway
        assert len(proxy.requests) == 1 and proxy.requests[0].startswith("CONNECT ")  # it really tried
        stamp = nltk_dir / ".punkt_tab-last-try"
        assert stamp.read_text() == datetime.datetime.now(datetime.UTC).date().isoformat()

        again = run_punkt(nltk_dir, proxy)  # the same day: not tried, and said so
        assert again.returncode == 1 and "tried again tomorrow" in again.stdout and str(stamp) in again.stdout
        assert len(proxy.requests) == 1

        stamp.write_text("2000-01-01")  # a day later: tried once more
        assert run_punkt(nltk_dir, proxy).returncode == 1 and len(proxy.requests) == 2

        install_punkt_tab(nltk_dir)
        present = run_punkt(nltk_dir, proxy)
        assert present.returncode == 0 and "nltk punkt_tab present" in present.stdout and len(proxy.requests) == 2
    finally:
        proxy.stop()


# --- F5UI_PREDOWNLOAD: /health first, the download beside it ----------------------------------------------

def predownloading(pending: list[str]) -> bool:
    return any("/resolve/" in held and "model_1250000" in held and "cached_path" not in held for held in pending)


@pytest.mark.live
def test_predownload_runs_beside_a_server_that_answers_health_and_a_failed_one_never_stops_it(
        tiny_env, tmp_path, monkeypatch):
    """With the hub's checkpoint (the default F5UI_CKPT) and a hub that holds every request, the app answers
    /health (ready: false) while the download waits on it; released with 404, the download fails and the
    app keeps serving with the reason. Online, so the nltk fetch goes to a refusing proxy: the log never
    claims it. The address comes from Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT."""
    clean_environ(monkeypatch)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    hub, proxy = HeldHub(), RefusingProxy()
    env = {k: v for k, v in volume_env(tiny_env, tmp_path).items() if k != "F5UI_CKPT"}
    env.update(F5UI_PREDOWNLOAD="1", HF_ENDPOINT=hub.url, HF_HUB_ETAG_TIMEOUT="900", HF_HUB_DOWNLOAD_TIMEOUT="900",
               GRADIO_SERVER_NAME="127.0.0.1", PORT="1", **proxied(proxy))
    started = Started(env, tmp_path / "app", port_variable="GRADIO_SERVER_PORT")
    try:
        # The predownload (the checkpoint asked for by huggingface_hub without cached_path, the model load's
        # resolver, in its user agent) is under way …
        hub.wait_for(predownloading, PATIENCE)
        health = started.health()  # … and the server answers beside it
        assert health["status"] == "ok" and health["ready"] is False
        assert predownloading(hub.pending), "the download finished before /health answered"
        hub.release()
        health = started.wait()
    finally:
        hub.release()
        log = started.stop()
        hub.stop()
        proxy.stop()
    assert health["status"] == "ok" and health["model"]["state"] == "failed" and health["model"]["fix"]
    assert "Fetching the model beside the server" in log and "The model download failed" in log
    assert "nltk punkt_tab could not be downloaded" in log and "punkt_tab downloaded" not in log
    assert [r for r in proxy.requests if r.startswith("CONNECT ")]  # the nltk fetch really went out, and failed
    assert f"starting the app on 127.0.0.1:{started.port}" in log


def test_gradio_server_name_and_port_are_honoured_unless_ours_or_a_flag_say_otherwise(monkeypatch, tmp_path):
    """What app.py runs before serving (Spaces start app.py with Gradio's variables set)."""
    from f5ui.config import Settings, from_env

    # hosting.apply writes os.environ: every variable it sets is registered here first, so it is put back.
    for name in ("F5UI_HOST", "F5UI_PORT", "SPACE_ID", "F5UI_STORAGE", "F5UI_STORAGE_NOTE", "HF_HOME", "TORCH_HOME",
                 "NLTK_DATA", "GRADIO_TEMP_DIR"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("F5UI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    settings = hosting.apply(from_env())
    assert (settings.host, settings.port) == ("0.0.0.0", 7999)
    flagged = Settings(data_dir=str(tmp_path), host="10.1.2.3", port=8123)  # --host / --port given
    assert (hosting.apply(flagged).host, flagged.port) == ("10.1.2.3", 8123)
    monkeypatch.setenv("F5UI_HOST", "127.0.0.1")
    monkeypatch.setenv("F5UI_PORT", "7001")
    settings = hosting.apply(from_env())
    assert (settings.host, settings.port) == ("127.0.0.1", 7001)
