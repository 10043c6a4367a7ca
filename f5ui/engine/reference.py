"""Reference voices: decoded, checked, clipped and transcribed by f5-tts's own
`preprocess_ref_audio_text`, cached by a hash of the audio bytes plus the typed
reference text, and bounded in size (least recently used are dropped)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..audio import check_file, check_reference, content_hash, read_audio, write_wav
from ..errors import InputError
from ..hub import is_unreachable
from ..schema import PreparedReference

log = logging.getLogger(__name__)

F5_MAX_REFERENCE_SECONDS = 12  # preprocess_ref_audio_text clips longer references to this
# Decoded at most: F5 keeps 12 s, and looks for a pause to clip at within the first ~12-15 s. Anything
# past this is never decoded, so a file that expands to hours costs what 30 s cost.
REFERENCE_DECODE_SECONDS = 30.0


# Given the clipped reference (samples, rate) and its full typed text: the text of what was kept
# and a note, or None when that cannot be told. The studio provides it (the word check).
TextTrimmer = Callable[[np.ndarray, int, str], "tuple[str, str] | None"]


class ReferenceCache:
    def __init__(self, cache_dir: Path, max_items: int = 32, trim_text: TextTrimmer | None = None) -> None:
        self.cache_dir = cache_dir
        self.max_items = max(1, max_items)
        self.trim_text = trim_text
        self._sweep()
        self._items: OrderedDict[str, PreparedReference] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.last_preprocess_seconds = 0.0  # time spent converting/clipping/transcribing on the last call

    def __len__(self) -> int:
        return len(self._items)

    def _sweep(self) -> None:
        """The cache lives in memory, so at start every file in its folder is an orphan (left by a
        previous process, or by a kill half-way through preprocessing): remove them all."""
        removed = 0
        for path in self.cache_dir.glob("*"):
            if path.is_file() or path.is_symlink():
                path.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("Removed %d orphaned file(s) from the reference cache %s", removed, self.cache_dir)

    def prepare(self, audio_path: str | Path, ref_text: str) -> PreparedReference:
        """A reference ready for F5. A typed text is used as is; an empty one is transcribed."""
        ref_text = (ref_text or "").strip()
        check_file(Path(audio_path))
        key = content_hash(audio_path, ref_text)
        with self._lock:
            cached = self._items.get(key)
            if cached is not None:
                self._items.move_to_end(key)
                self.hits += 1
                self.last_preprocess_seconds = 0.0
                return cached
        started = time.perf_counter()
        prepared = self._preprocess(Path(audio_path), ref_text, key)
        self.last_preprocess_seconds = time.perf_counter() - started
        log.info("Reference prepared (converted, clipped, transcribed as needed) in %.2f s",
                 self.last_preprocess_seconds)
        with self._lock:
            self.misses += 1
            self._items[key] = prepared
            while len(self._items) > self.max_items:
                _, old = self._items.popitem(last=False)
                _forget(old)
        return prepared

    def _preprocess(self, path: Path, ref_text: str, key: str) -> PreparedReference:
        audio = read_audio(path, max_seconds=REFERENCE_DECODE_SECONDS)
        check_reference(audio)
        # A plain WAV copy: f5-tts reads it with pydub, which needs no ffmpeg for WAV.
        wav_path = write_wav(self.cache_dir / f"{key}.wav", audio.samples, audio.sample_rate)

        from f5_tts.infer import utils_infer

        messages: list[str] = []
        try:
            processed_path, text = utils_infer.preprocess_ref_audio_text(str(wav_path), ref_text,
                                                                         show_info=messages.append)
        except InputError:
            raise
        except Exception as exc:
            if not ref_text:
                log.warning("Reference transcription failed: %s: %s", type(exc).__name__, exc)
                raise InputError(
                    "The reference text is empty and the speech recognizer (openai/whisper-large-v3-turbo) "
                    "could not be loaded to transcribe it" + _offline_hint(exc) + ".",
                    "Type the exact words spoken in the reference audio into 'Reference text'.",
                ) from None
            raise
        finally:
            wav_path.unlink(missing_ok=True)  # f5-tts keeps its own processed copy
        clipped = audio.truncated or any("clipping" in m for m in messages)
        # Own the processed file: f5-tts keys its copy by audio bytes only (shared across reference
        # texts) and never evicts it, so take it out of f5-tts's cache into ours.
        owned_path = self.cache_dir / f"{key}.ref.wav"
        shutil.move(processed_path, owned_path)  # a move, not a rename: the system temp dir may be another disk
        _drop_from_f5_cache(processed_path)
        processed = read_audio(owned_path)
        if not text.strip(" ."):
            raise InputError("No speech was recognized in the reference audio.",
                             "Upload a clip with clear speech, or type its words into 'Reference text'.")
        notices = []
        if clipped:
            length = (f"longer than {REFERENCE_DECODE_SECONDS:.0f} s (only the start was read)" if audio.truncated
                      else f"{audio.duration:.1f} s long")
            trimmed = self.trim_text(processed.samples, processed.sample_rate, text) if ref_text and self.trim_text \
                else None
            if trimmed:
                text, note = trimmed
                notices.append(f"The reference audio was {length}; F5-TTS uses at most {F5_MAX_REFERENCE_SECONDS} "
                               f"s, so it was clipped at a pause to {processed.duration:.1f} s. {note}")
            else:
                notices.append(
                    f"The reference audio was {length}; F5-TTS uses at most {F5_MAX_REFERENCE_SECONDS} s, so it was "
                    "clipped at a pause. Make sure the reference text matches the part that was kept, or upload a "
                    "shorter clip.")
        return PreparedReference(str(owned_path), text, processed.duration, notices)


def _offline_hint(exc: Exception) -> str:
    if is_unreachable(exc):
        return " (the Hugging Face Hub is not reachable from this machine)"
    return f" ({type(exc).__name__})"


def _drop_from_f5_cache(processed_path: str) -> None:
    from f5_tts.infer import utils_infer

    for audio_hash, path in list(utils_infer._ref_audio_cache.items()):
        if path == processed_path:
            utils_infer._ref_audio_cache.pop(audio_hash, None)
            utils_infer._ref_text_cache.pop(audio_hash, None)


def _forget(item: PreparedReference) -> None:
    Path(item.audio_path).unlink(missing_ok=True)
