"""What each generated take was made of (text, voice, settings, seed, model, timing backend), kept
beside the outputs under the audio's content hash, so an export of that audio can say it in its
manifest, however the audio comes back (the browser and gradio_client hand back copies)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from ..audio import content_hash

log = logging.getLogger(__name__)


def audio_key(path: str | Path) -> str:
    """A take's record is named by its audio's sha256 (found again from the file alone)."""
    return content_hash(path)


class TakeLog:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def record(self, audio_path: str | Path, info: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{audio_key(audio_path)}.json"
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(partial, target)

    def find(self, audio_path: str | Path) -> dict[str, Any] | None:
        """The record of the take whose audio has these bytes, or None (not made here, or swept)."""
        path = self.folder / f"{audio_key(audio_path)}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
