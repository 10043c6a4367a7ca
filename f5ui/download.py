"""Fetch the model files into the Hugging Face cache before the app starts (the container's start
script runs this when F5UI_PREDOWNLOAD=1), with progress in the log. What is cached already, or
local, is not fetched again. A failure is reported and the exit code says so; the start script
launches the app anyway, which then shows the reason in its status panel."""

from __future__ import annotations

import logging
import sys
import time

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


if __name__ == "__main__":
    sys.exit(main())
