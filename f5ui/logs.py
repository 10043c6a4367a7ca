"""Logging to stdout and a rotating file in the data dir."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(log_dir: Path | None, level: int = logging.INFO) -> Path | None:
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_f5ui", False):
            root.removeHandler(handler)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    log_file = None
    if log_dir is not None:
        log_file = log_dir / "f5ui.log"
        handlers.append(logging.handlers.RotatingFileHandler(log_file, maxBytes=5 * 2**20, backupCount=3))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._f5ui = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for noisy in ("httpx", "urllib3", "matplotlib", "numba", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return log_file
