"""Free recognition of a take, compared with its script: the words heard as other words.

The grammar check (check.py) only knows the script's words, so a word said as a different word is
caught only when it also fits badly. A free recognizer hears the different word. This runs
faster-whisper, the engine under WhisperX's ASR, directly: a chunk is under 30 s, so WhisperX's VAD
batching adds nothing, and its VAD model would be one more download. Off unless F5UI_CHECK_ASR names
a model (a faster-whisper size such as "large-v3-turbo", fetched once into the data dir, or a local
CTranslate2 folder); a model that cannot load turns it off with the reason.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Settings
from ..device import cuda_or_cpu
from .base import Availability, NeedsPackage
from .words import Token, tokenize

log = logging.getLogger(__name__)


@dataclass
class Heard:
    words: list[str]  # normalized as the script's tokens are
    text: str  # what the recognizer wrote


class FreeRecognizer(NeedsPackage):
    name = "faster-whisper"
    package = "faster-whisper"
    module = "faster_whisper"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._model = None
        self._error = ""  # why the configured model could not load

    def availability(self, language: str) -> Availability:
        if not self.settings.check_asr:
            return Availability.no("no recognizer configured (F5UI_CHECK_ASR is empty)",
                                   "Set F5UI_CHECK_ASR=large-v3-turbo (or a local faster-whisper folder) to also "
                                   "flag words said as other words.")
        ok, reason = self._package.availability()
        if not ok:
            return Availability.no(reason, "pip install faster-whisper (whisperx, in the pinned requirements, brings "
                                   "it), then restart.")
        if self._error:
            return Availability.no(f"the recognizer {self.settings.check_asr!r} could not load: {self._error}",
                                   "Check F5UI_CHECK_ASR (a faster-whisper size, or a local CTranslate2 folder "
                                   "with model.bin and tokenizer.json); offline, download it once beforehand.")
        return Availability.yes(f"faster-whisper {Path(self.settings.check_asr).name}")

    def load(self) -> bool:
        """Load the model now; False (with the reason kept for availability) when it cannot."""
        with self._lock:
            return self._get() is not None

    def _get(self):  # noqa: ANN202 - faster_whisper.WhisperModel | None
        if self._model is None and not self._error:
            try:
                from faster_whisper import WhisperModel

                device = cuda_or_cpu(self.settings.device)
                self._model = WhisperModel(self.settings.check_asr, device=device,
                                           compute_type="default" if device == "cuda" else "int8",
                                           download_root=str(self.settings.writable_dir("models/faster-whisper")))
                log.info("Check recognizer loaded: %s", self.settings.check_asr)
            except Exception as exc:  # any failure turns only this part off
                self._error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                log.warning("Check recognizer %r not loaded: %s", self.settings.check_asr, self._error)
        return self._model

    def hear(self, samples: np.ndarray, language: str) -> Heard | None:
        """What the recognizer hears in 16 kHz mono `samples`; None when it is unavailable."""
        with self._lock:
            model = self._get()
            if model is None:
                return None
            segments, _info = model.transcribe(np.asarray(samples, dtype=np.float32), language=language[:2],
                                               beam_size=5, condition_on_previous_text=False, vad_filter=False,
                                               without_timestamps=True)
            text = " ".join(s.text.strip() for s in segments)
        return Heard([t.norm for t in tokenize(text)], text)


def substituted(tokens: list[Token], heard: Heard) -> set[int]:
    """Indices of script tokens the recognizer heard as other words (a 'replace' in the word
    alignment of script and transcript, as jiwer counts substitutions)."""
    script = [t.norm for t in tokens]
    out: set[int] = set()
    for op, i1, i2, _j1, _j2 in difflib.SequenceMatcher(a=script, b=heard.words, autojunk=False).get_opcodes():
        if op == "replace":
            out.update(range(i1, i2))
    return out
