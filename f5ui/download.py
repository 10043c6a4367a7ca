"""Fetch the model files into the Hugging Face cache with progress in the log, when F5UI_PREDOWNLOAD=1:
the worker's start script runs `python -m f5ui.download` before the worker, the app runs it in a child
process beside its server (`fetch_beside`), so /health answers while a first download takes minutes.
What is cached already, or local, is not fetched again (a model load that asks for the same file
meanwhile waits on huggingface_hub's lock of it). A failure is reported and the exit code says so;
the app serves anyway and shows the reason in its status panel."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from .config import from_env
from .engine.model_service import VOCOS_REPO
from .hub import cached_file, split_hf_url
from .logs import configure_logging

log = logging.getLogger("f5ui.download")
VOCOS_FILES = ("config.yaml", "pytorch_model.bin")


def fetch(repo: str, filename: str) -> str:
    from huggingface_hub import hf_hub_download

    cached = cached_file(repo, filename)
    if cached:
        log.info("%s/%s: already in the cache", repo, filename)
        return cached
    log.info("%s/%s: downloading…", repo, filename)
    started = time.monotonic()
    path = hf_hub_download(repo, filename)
    log.info("%s/%s: downloaded in %.0f s", repo, filename, time.monotonic() - started)
    return path


def main() -> int:
    configure_logging(None)
    settings = from_env()
    wanted: list[tuple[str, str]] = []
    if settings.ckpt.startswith("hf://"):
        wanted.append(split_hf_url(settings.ckpt))
    else:
        log.info("checkpoint %s is not on the hub: nothing to download", settings.ckpt)
    if not settings.vocoder:
        wanted += [(VOCOS_REPO, name) for name in VOCOS_FILES]
    else:
        log.info("vocoder %s is a local folder: nothing to download", settings.vocoder)
    failed = 0
    for repo, filename in wanted:
        try:
            fetch(repo, filename)
        except Exception as exc:  # offline, gated, disk full: say so, let the app start and explain
            failed += 1
            log.error("%s/%s could not be downloaded: %s: %s", repo, filename, type(exc).__name__, exc)
    return 1 if failed else 0


def fetch_beside(timeout: float) -> threading.Thread:
    """`python -m f5ui.download` in a child process, watched by a thread that stops it after `timeout`
    seconds and logs the outcome; the caller goes on serving."""
    package_root = str(Path(__file__).resolve().parent.parent)  # whatever the working directory is
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen([sys.executable, "-m", "f5ui.download"], stdin=subprocess.DEVNULL, env=env)
    log.info("Fetching the model beside the server (at most %.0f s); /health answers meanwhile", timeout)

    def watch() -> None:
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            log.warning("The model download took more than %.0f s and was stopped (F5UI_DOWNLOAD_TIMEOUT); the "
                        "model load goes on by itself and the status panel shows its state", timeout)
            return
        if code:
            log.warning("The model download failed (the reason is above); the app serves anyway and its status "
                        "panel says why")
        else:
            log.info("The model files are in the cache")

    watcher = threading.Thread(target=watch, name="f5ui-predownload", daemon=True)
    watcher.start()
    return watcher


if __name__ == "__main__":
    sys.exit(main())
