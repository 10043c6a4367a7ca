"""Disk use that does not only grow: files older than F5UI_RETENTION_HOURS are deleted from the
folders the app writes (outputs, uploads; local exports after F5UI_EXPORT_RETENTION_HOURS), once at
start-up (what earlier runs left) and then periodically in a background thread. A folder with a
ceiling (uploads) also makes room by deleting its oldest files first (`make_room`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

MIN_INTERVAL = 1.0  # seconds between sweeps, at least
MAX_INTERVAL = 3600.0  # ...and at most: a day's retention is swept every hour


def sweep(folder: Path, max_age_s: float, now: float | None = None) -> tuple[int, int]:
    """Delete the files under `folder` not modified for `max_age_s` seconds, then the folders this
    left empty. Returns (files, bytes) deleted. Never follows symlinks out of the folder."""
    if not folder.is_dir():
        return 0, 0
    cutoff = (time.time() if now is None else now) - max_age_s
    files = size = 0
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):  # deepest first
        try:
            if path.is_symlink() or path.is_file():
                info = path.lstat()
                if info.st_mtime < cutoff:
                    path.unlink()
                    files += 1
                    size += info.st_size
            elif path.is_dir() and not any(path.iterdir()) and path.stat().st_mtime < cutoff:
                path.rmdir()
        except OSError:  # removed meanwhile (Gradio's own cleanup), or not ours to delete
            continue
    return files, size


def make_room(folder: Path, max_bytes: float, incoming: int = 0) -> tuple[int, int]:
    """Delete the oldest files under `folder` (by modification time) until what is left plus `incoming`
    bytes fits in `max_bytes`, and the folders this empties. Returns (files, bytes) deleted."""
    if not folder.is_dir():
        return 0, 0
    found = []
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                info = path.stat()
                found.append((info.st_mtime, info.st_size, path))
        except OSError:  # removed meanwhile
            continue
    total = sum(size for _, size, _ in found)
    files = size_deleted = 0
    for _, size, path in sorted(found, key=lambda item: item[0]):
        if total + incoming <= max_bytes:
            break
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        files, size_deleted = files + 1, size_deleted + size
        _remove_empty_parents(path.parent, folder)
    if files:
        log.info("Made room in %s: deleted the %d oldest file(s), %.1f MB", folder.name, files, size_deleted / 2**20)
    return files, size_deleted


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()  # only succeeds when empty
        except OSError:
            return
        folder = folder.parent


class Retention:
    """Sweeps `folders` at start and every interval (a quarter of the retention, within bounds)."""

    def __init__(self, folders: Iterable[Path], hours: float) -> None:
        self.folders = [Path(f) for f in folders]
        self.max_age_s = max(0.0, float(hours)) * 3600.0
        self.interval = min(MAX_INTERVAL, max(MIN_INTERVAL, self.max_age_s / 4))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.max_age_s > 0

    def run_once(self) -> tuple[int, int]:
        files = size = 0
        for folder in self.folders:
            n, b = sweep(folder, self.max_age_s)
            files, size = files + n, size + b
        if files:
            log.info("Retention: deleted %d file(s), %.1f MB older than %.1f h", files, size / 2**20,
                     self.max_age_s / 3600)
        return files, size

    def start(self) -> None:
        """The start-up sweep now, then the periodic one in a daemon thread (nothing when disabled)."""
        if not self.enabled:
            log.info("Retention is off for %s (0 hours): their files are kept", ", ".join(f.name for f in self.folders))
            return
        self.run_once()
        self._thread = threading.Thread(target=self._loop, name="f5ui-retention", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # a sweep must never take the server down
                log.exception("Retention sweep failed")

    def stop(self) -> None:
        self._stop.set()
