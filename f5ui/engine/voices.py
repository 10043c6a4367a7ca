"""The voice library: saved reference voices that survive restarts.

A voice is a folder `<data dir>/voices/<id>/` holding the *preprocessed* reference (converted,
clipped, transcribed: what F5 reads) and `voice.json` (name, reference text, duration, notes).
Generating with a saved voice therefore never converts, clips or transcribes again. Folder ids
are random, names are checked (letters, digits, space, '-', '_'), so no name reaches a path."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..audio import read_audio
from ..errors import InputError, UserFacingError
from ..paths import VOICE_ID
from ..schema import PreparedReference

log = logging.getLogger(__name__)

MAX_NAME = 64
MAX_NOTES = 500
_NAME = re.compile(r"[\w -]")  # letters and digits (any script), "_", space, "-"
META = "voice.json"
AUDIO = "reference.wav"


def check_name(name: object) -> str:
    """The voice name, trimmed; InputError saying what is wrong with it."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("The voice needs a name.", "Type a name: letters, digits, spaces, '-' or '_'.")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise InputError(f"The voice name is {len(name)} characters long; the maximum is {MAX_NAME}.",
                         "Choose a shorter name.")
    bad = sorted({ch for ch in name if not _NAME.fullmatch(ch)})
    if bad:
        raise InputError(f"The voice name contains {''.join(bad)!r}, which names may not.",
                         "Use letters, digits, spaces, '-' and '_' only.")
    return name


@dataclass
class Voice:
    id: str
    name: str
    ref_text: str
    duration: float
    notes: str = ""
    created: str = ""
    updated: str = ""  # last save or rename: voice sync keeps the newest copy
    folder: str = ""  # where it lives on this server (never sent to clients)

    @property
    def audio_path(self) -> Path:
        return Path(self.folder) / AUDIO

    def public(self) -> dict[str, Any]:
        """What the API and the UI show."""
        data = asdict(self)
        data.pop("folder")
        data["duration"] = round(self.duration, 2)
        return data

    def reference(self) -> PreparedReference:
        return PreparedReference(str(self.audio_path), self.ref_text, self.duration, [])


class LibraryFull(UserFacingError):
    """The library holds as many voices, or as many bytes, as its settings allow."""


def _megabytes(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def now_stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def stamp_order(stamp: str) -> float:
    """A voice's `updated` (or `created`) time as seconds, for "which copy is newer"; 0 when unreadable."""
    try:
        when = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return 0.0
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(partial, path)


class VoiceLibrary:
    """`max_voices` and `max_bytes` bound the library (0: no bound); a save past either is refused."""

    def __init__(self, root: Path, max_voices: int = 0, max_bytes: int = 0) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_voices = max_voices
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    # --- reading ---------------------------------------------------------------------------
    def _load(self, folder: Path) -> Voice | None:
        try:
            data = json.loads((folder / META).read_text(encoding="utf-8"))
            voice = Voice(id=folder.name, name=check_name(data["name"]), ref_text=str(data["ref_text"]),
                          duration=float(data["duration"]), notes=str(data.get("notes", "")),
                          created=str(data.get("created", "")),
                          updated=str(data.get("updated") or data.get("created", "")), folder=str(folder))
        except (OSError, ValueError, KeyError, TypeError, InputError) as exc:
            log.warning("Voice folder %s is unreadable and skipped: %s", folder, exc)
            return None
        return voice if voice.audio_path.is_file() else None

    def list(self) -> list[Voice]:
        folders = (f for f in sorted(self.root.iterdir()) if f.is_dir() and not f.name.startswith("."))  # not staged
        voices = [v for v in (self._load(f) for f in folders) if v]
        return sorted(voices, key=lambda v: v.name.casefold())

    def find(self, name: str) -> Voice | None:
        key = " ".join(str(name).split()).casefold()
        return next((v for v in self.list() if v.name.casefold() == key), None)

    def get(self, name: str) -> Voice:
        if not isinstance(name, str) or not name.strip():
            check_name(name)  # says the voice needs a name
        voice = self.find(name) if isinstance(name, str) else None
        if voice is None:
            names = ", ".join(v.name for v in self.list()) or "none saved yet"
            raise InputError(f"There is no saved voice named {str(name)[:MAX_NAME]!r}.",
                             f"Pick one of the saved voices ({names}), or save this one first.")
        return voice

    # --- changing --------------------------------------------------------------------------
    def check_free(self, name: object, overwrite: bool = False) -> tuple[str, Voice | None]:
        """The name, checked, and the voice it would replace; InputError when it is not a name or is
        taken without `overwrite`. Callers ask before preparing the audio (seconds of work)."""
        name = check_name(name)
        existing = self.find(name)
        if existing and not overwrite:
            raise InputError(f"A voice named {existing.name!r} is already saved.",
                             "Choose another name, or save with overwrite to replace it.")
        if existing is None:
            self._check_count()
        return name, existing

    # --- the ceilings ----------------------------------------------------------------------
    def _check_count(self) -> None:
        count = len(self.list())
        if self.max_voices and count >= self.max_voices:
            raise LibraryFull(f"The voice library is full: it holds {count} voices, the most F5UI_MAX_VOICES "
                              f"allows.", "Delete a voice you no longer need, or raise F5UI_MAX_VOICES.")

    def size(self, leaving_out: str = "") -> int:
        """Bytes the library takes on disk (without the voice `leaving_out`, which a save replaces)."""
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file() and not p.is_symlink()
                   and p.relative_to(self.root).parts[0] != leaving_out)

    def _check_bytes(self, adding: int, replacing: str = "") -> None:
        if not self.max_bytes:
            return
        after = self.size(leaving_out=replacing) + adding
        if after > self.max_bytes:
            raise LibraryFull(f"Saving this voice ({_megabytes(adding)}) would bring the voice library to "
                              f"{_megabytes(after)}; the most F5UI_MAX_VOICES_MB allows is "
                              f"{_megabytes(self.max_bytes)}.",
                              "Delete voices you no longer need, or raise F5UI_MAX_VOICES_MB.")

    def save(self, name: str, prepared: PreparedReference, notes: str = "", overwrite: bool = False) -> Voice:
        """Keep a preprocessed reference under `name`. An existing name needs `overwrite`."""
        notes = (notes or "").strip()[:MAX_NOTES]
        with self._lock:
            name, existing = self.check_free(name, overwrite)
            self._check_bytes(Path(prepared.audio_path).stat().st_size + 4096, existing.id if existing else "")
            voice_id = existing.id if existing else uuid.uuid4().hex[:16]
            folder = self.root / voice_id
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / f".{AUDIO}.partial"
            shutil.copyfile(prepared.audio_path, partial)
            os.replace(partial, folder / AUDIO)
            duration = read_audio(folder / AUDIO).duration
            updated = now_stamp()
            created = existing.created if existing and existing.created else updated
            _write_json(folder / META, {"name": name, "ref_text": prepared.text, "duration": duration,
                                        "notes": notes, "created": created, "updated": updated})
        log.info("Saved voice %r (%.1f s)", name, duration)
        return self.get(name)

    def rename(self, old: str, new: str) -> Voice:
        new = check_name(new)
        with self._lock:
            voice = self.get(old)
            other = self.find(new)
            if other and other.id != voice.id:
                raise InputError(f"A voice named {other.name!r} is already saved.", "Choose another name.")
            data = json.loads((Path(voice.folder) / META).read_text(encoding="utf-8"))
            data["name"] = new
            data["updated"] = now_stamp()
            _write_json(Path(voice.folder) / META, data)
        return self.get(new)

    def delete(self, name: str) -> None:
        with self._lock:
            voice = self.get(name)
            shutil.rmtree(voice.folder, ignore_errors=True)
        log.info("Deleted voice %r", voice.name)

    def adopt(self, voice_id: str, meta: Path, audio: Path, replace: bool = False) -> Voice | None:
        """Take in a voice from elsewhere (S3 sync): its files, under its id; None when its name is
        taken here by another voice, its files are not a voice, or the library is full. With `replace`,
        a newer copy of a voice that is here already takes its place (the audio and the metadata swap
        together)."""
        if not VOICE_ID.fullmatch(voice_id):
            return None
        folder = self.root / voice_id
        with self._lock:
            try:  # a voice from the bucket counts against the ceilings like one saved here
                if not folder.exists():
                    self._check_count()
                self._check_bytes(meta.stat().st_size + audio.stat().st_size, voice_id)
            except LibraryFull as full:
                log.warning("Voice %s not taken in: %s", voice_id, full)
                return None
            staged = self.root / f".{voice_id}.partial"
            shutil.rmtree(staged, ignore_errors=True)
            staged.mkdir()
            shutil.copyfile(meta, staged / META)
            shutil.copyfile(audio, staged / AUDIO)
            incoming = self._load(staged)
            clash = incoming and self.find(incoming.name)
            if incoming is None or (clash and clash.id != voice_id) or (folder.exists() and not replace):
                shutil.rmtree(staged, ignore_errors=True)
                return None
            if folder.exists():
                retired = self.root / f".{voice_id}.old"
                shutil.rmtree(retired, ignore_errors=True)
                folder.rename(retired)
                staged.rename(folder)
                shutil.rmtree(retired, ignore_errors=True)
            else:
                staged.rename(folder)
        return self._load(folder)
