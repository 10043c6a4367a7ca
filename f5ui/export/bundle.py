"""One export: every file of a take, then its manifest, under `{prefix}/{yyyy}/{mm}/{dd}/{id}/`.

Nothing half-done: the manifest is written last, only once every file it lists is there. When
any file fails, the ones already written are removed again and the error names the file and
why; no manifest ever claims an export that did not complete."""

from __future__ import annotations

import json
import logging
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..audio import content_hash
from ..codecs import FORMATS
from ..errors import UserFacingError
from .stores import Store, StoreError, StoreFull

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CONTENT_TYPES = {**{f.suffix: f.content_type for f in FORMATS.values()}, ".srt": "application/x-subrip",
                 ".vtt": "text/vtt", ".json": "application/json", ".csv": "text/csv", ".ass": "text/x-ssa",
                 ".png": "image/png"}


class ExportFailed(UserFacingError):
    """An export did not complete; nothing of it is left claiming it did."""


@dataclass
class ExportedFile:
    name: str
    url: str  # presigned GET link (S3); "" for a local export, whose files are offered as downloads
    bytes: int
    content_type: str
    local_path: str = field(default="", repr=False)  # server side only: never in to_dict()


@dataclass
class ExportResult:
    kind: str  # "s3" | "local"
    location: str  # s3://bucket/prefix/... or the local folder
    files: list[ExportedFile] = field(default_factory=list)  # the manifest last
    manifest: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        files = [{k: v for k, v in asdict(f).items() if k != "local_path"} for f in self.files]
        return {"kind": self.kind, "location": self.location, "files": files, "manifest": self.manifest}


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def export_files(store: Store, prefix: str, files: list[tuple[str, Path]], manifest: dict[str, Any],
                 now: float | None = None) -> ExportResult:
    """Upload `files` (name, local path), then the manifest describing them. Refused whole (nothing
    written) when they would pass the store's ceiling."""
    stamp = time.gmtime(now)
    export_id = f"{time.strftime('%H%M%S', stamp)}-{uuid.uuid4().hex}"  # unguessable: local exports are served
    base = "/".join(part for part in (prefix.strip("/"), time.strftime("%Y/%m/%d", stamp), export_id) if part)
    listed = [{"name": name, "bytes": path.stat().st_size, "sha256": content_hash(path),
               "content_type": content_type(name)} for name, path in files]
    record = {**manifest, "export_id": export_id, "location": store.where(base),
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", stamp), "f5ui_version": __version__, "files": listed}
    done: list[ExportedFile] = []
    with tempfile.TemporaryDirectory(prefix="f5ui-manifest-") as folder:
        manifest_path = Path(folder) / MANIFEST
        manifest_path.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        size = sum(item["bytes"] for item in listed) + manifest_path.stat().st_size
        try:
            with store.reserve(size):
                for name, path in [*files, (MANIFEST, manifest_path)]:  # the manifest last
                    kind = content_type(name)
                    try:
                        stored = store.put(f"{base}/{name}", path, kind)
                    except StoreError as exc:
                        _roll_back(store, base, done)
                        raise ExportFailed(f"The export failed at {name}: {exc}. Nothing was left half-exported.",
                                           "Fix the cause and export again.") from exc
                    done.append(ExportedFile(name, stored.url, stored.bytes, kind, stored.local_path))
        except StoreFull as exc:
            raise ExportFailed(f"The export was refused: {exc}. Nothing was written.",
                               "Download what you need from earlier exports: they are deleted after "
                               "F5UI_EXPORT_RETENTION_HOURS. Or ask the operator to raise F5UI_EXPORT_FOLDER_MB "
                               "or to set an S3 bucket (F5UI_S3_BUCKET).") from exc
    log.info("Exported %d file(s) to %s", len(done), store.where(base))
    return ExportResult(store.kind, store.where(base), done, record)


def _roll_back(store: Store, base: str, done: list[ExportedFile]) -> None:
    for item in done:
        try:
            store.delete(f"{base}/{item.name}")
        except StoreError as exc:  # the store itself is failing: say so in the log, keep the first error
            log.warning("Could not remove %s/%s after a failed export: %s", base, item.name, exc)
