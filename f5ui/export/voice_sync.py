"""The voice library mirrored under `{prefix}/voices/<id>/` in the S3 bucket: push the voices saved
here, fetch the ones saved elsewhere (another pod, another machine). A voice saved or renamed on
both sides is settled by its `updated` time: the newer copy wins. Plain files both ways; the
library decides what to take in. A deletion is not carried over (the bucket keeps no tombstones)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..paths import VOICE_ID
from .stores import Store

log = logging.getLogger(__name__)

META = "voice.json"
AUDIO = "reference.wav"


def remote_voice_ids(store: Store, prefix: str) -> set[str]:
    """Ids of the voices in the bucket that have both their files. A key is the bucket's word, not ours:
    only well-formed ids are kept, so none becomes a path (`..`) before the library checks it."""
    base = f"{prefix.strip('/')}/voices/".lstrip("/")
    files: dict[str, set[str]] = {}
    for key in store.list(base):
        voice_id, _, name = key[len(base):].partition("/")
        files.setdefault(voice_id, set()).add(name)
    return {voice_id for voice_id, names in files.items() if VOICE_ID.fullmatch(voice_id) and {META, AUDIO} <= names}


def push(store: Store, prefix: str, voice_id: str, folder: Path) -> None:
    base = f"{prefix.strip('/')}/voices/{voice_id}".lstrip("/")
    store.put(f"{base}/{AUDIO}", folder / AUDIO, "audio/wav")  # the audio first: a voice.json means complete
    store.put(f"{base}/{META}", folder / META, "application/json")


def remote_updated(store: Store, prefix: str, voice_id: str, into: Path) -> str:
    """The bucket copy's `updated` time (its voice.json only, a few hundred bytes); '' when unreadable."""
    base = f"{prefix.strip('/')}/voices/{voice_id}".lstrip("/")
    meta = store.get(f"{base}/{META}", into / voice_id / META)
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        return str(data.get("updated") or data.get("created") or "") if isinstance(data, dict) else ""
    except (OSError, ValueError):
        return ""


def fetch(store: Store, prefix: str, voice_id: str, into: Path) -> tuple[Path, Path]:
    """The voice's (voice.json, reference.wav), downloaded into `into`."""
    base = f"{prefix.strip('/')}/voices/{voice_id}".lstrip("/")
    return store.get(f"{base}/{META}", into / voice_id / META), store.get(f"{base}/{AUDIO}", into / voice_id / AUDIO)
