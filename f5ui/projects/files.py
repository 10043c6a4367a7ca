"""Where a project's files live: `<data dir>/projects/<id>/` with `segments/`, `chapters/` and the
cover, beside the database. Ids are made here (random hex) and checked before any path is built
from one, so nothing a request names becomes a path. A file is written under a temporary name,
synced, then renamed: it is either whole or absent, never half-written under its real name."""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from pathlib import Path

from ..errors import InputError

log = logging.getLogger(__name__)

PROJECT_ID = re.compile(r"[0-9a-f]{16}")
SEGMENTS, CHAPTERS = "segments", "chapters"
FILE_NAME = re.compile(r"[0-9A-Za-z_-]{1,80}\.[a-z0-9]{1,5}")
PARTIAL = ".partial"


def new_project_id() -> str:
    return uuid.uuid4().hex[:16]


def check_project_id(value: object) -> str:
    """The id when it is one this studio could have made; InputError otherwise (never a path)."""
    text = value.strip() if isinstance(value, str) else ""
    if not PROJECT_ID.fullmatch(text):
        raise InputError(f"{str(value)[:40]!r} is not a project id.", "Use the id project_create returned "
                         "(16 hexadecimal characters); the projects endpoint lists them.")
    return text


def _sync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


class ProjectFiles:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, project_id: str, part: str = "") -> Path:
        path = self.root / check_project_id(project_id)
        return path / part if part else path

    def path(self, project_id: str, part: str, name: str) -> Path:
        if not FILE_NAME.fullmatch(name):
            raise ValueError(f"not a project file name: {name!r}")
        return self.folder(project_id, part) / name

    def place(self, source: Path, project_id: str, part: str, name: str, move: bool = False) -> Path:
        """`source` as `name` in the project's `part` folder, whole or not at all (synced before renaming,
        so the database never points at a file that a crash could leave short)."""
        target = self.path(project_id, part, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}{PARTIAL}")
        if move:
            shutil.move(str(source), partial)
        else:
            shutil.copyfile(source, partial)
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
        _sync_folder(target.parent)
        return target

    def write_bytes(self, project_id: str, name: str, data: bytes) -> Path:
        target = self.path(project_id, "", name)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}{PARTIAL}")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
        return target

    def sweep(self, project_id: str, keep: set[str]) -> int:
        """Remove what a crash left: partial files, and audio no row refers to. Returns how many."""
        removed = 0
        for part in (SEGMENTS, CHAPTERS):
            folder = self.folder(project_id, part)
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.is_file() and (path.name.endswith(PARTIAL) or path.name not in keep):
                    path.unlink(missing_ok=True)
                    removed += 1
        if removed:
            log.info("Project %s: removed %d file(s) no segment refers to", project_id, removed)
        return removed

    def remove(self, project_id: str) -> None:
        shutil.rmtree(self.folder(project_id), ignore_errors=True)

    def project_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return [p.name for p in self.root.iterdir() if p.is_dir() and PROJECT_ID.fullmatch(p.name)]
