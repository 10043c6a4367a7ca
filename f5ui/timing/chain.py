"""The alignment chain: try the configured backends in order, keep the first that
works, and say for every earlier one why it was skipped or failed."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..audio import SILENCE_PEAK, probe_audio, read_audio, resample
from ..config import Settings, from_env
from ..errors import InputError, UserFacingError, redact_paths
from ..schema import AlignmentResult, Attempt, ChunkHint, WordTiming
from ..text import clean_text
from .base import AlignInput, Availability, Backend, BackendOutput
from .errors import BackendFailed, BackendSkipped
from .registry import BACKEND_NAMES, LAST_RESORT, build_backends
from .words import finalize, tokenize

log = logging.getLogger(__name__)

MOSTLY_INTERPOLATED = 0.3  # more untimed words than this: the backend's result is weak
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")  # en, yue, pt-br, zh-hans
NOT_CONFIGURED_FIX = "Add {name} to F5UI_ALIGNERS to use it."


class AlignmentChain:
    """Word timings for a known transcript. Thread-safe; models load once and are reused."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or from_env()
        self.backends: dict[str, Backend] = build_backends(self.settings)
        self.order = self._parse_order(self.settings.aligners)

    @staticmethod
    def _parse_order(value: str) -> list[str]:
        order: list[str] = []
        for name in (n.strip().lower() for n in value.split(",")):
            if not name:
                continue
            if name not in BACKEND_NAMES:
                log.warning("Unknown aligner %r in F5UI_ALIGNERS (known: %s); ignored", name, ", ".join(BACKEND_NAMES))
            elif name not in order:
                order.append(name)
        if LAST_RESORT not in order:
            order.append(LAST_RESORT)  # a result is always possible, marked low confidence
        return order

    # --- status --------------------------------------------------------------------
    def availability(self, name: str, language: str | None = None) -> Availability:
        """Whether backend `name` can run (for `language`), why not, and the fix. Cheap: loads nothing."""
        if name not in self.order:
            return Availability.no("not in F5UI_ALIGNERS", NOT_CONFIGURED_FIX.format(name=name))
        return self._backend_availability(name, (language or self.settings.language).lower())

    def _backend_availability(self, name: str, language: str) -> Availability:
        try:
            return self.backends[name].availability(language)
        except Exception as exc:  # neither the status panel nor an alignment may break on a broken optional backend
            log.warning("aligner %s: availability check raised", name, exc_info=True)
            return Availability.no(f"{type(exc).__name__}: {exc}",
                                   "The next aligner in F5UI_ALIGNERS is used; see the detail and the log.")

    def preload(self, language: str | None = None) -> dict[str, float]:
        """Load every enabled backend's models now; seconds each took (benchmarks, warm starts)."""
        language = (language or self.settings.language).lower()
        costs: dict[str, float] = {}
        for name in self.order:
            if self.availability(name, language).ok:
                started = time.perf_counter()
                self.backends[name].load(language)
                costs[name] = time.perf_counter() - started
        return costs

    # --- alignment -------------------------------------------------------------------
    def align(self, audio_path: str | Path, transcript: str, language: str | None = None,
              chunk_hints: Sequence[ChunkHint] | None = None, backend: str | None = None) -> AlignmentResult:
        """Word timings of `transcript` in the audio file. `language` defaults to the
        F5UI_LANGUAGE setting; `chunk_hints` are (text, start, end) of generated chunks;
        `backend` forces one backend (the estimate still stands behind it)."""
        self._check_transcript(transcript)
        # The header first: a file that says it is too long is refused before anything is decoded;
        # decoding stops at the limit whatever the header says (a header can lie).
        limit = float(self.settings.max_align_seconds)
        header = probe_audio(audio_path)
        if header.duration is not None and header.duration > limit:
            raise self._too_long(header.duration, limit)
        audio = read_audio(audio_path, max_seconds=limit)
        if audio.truncated:
            raise self._too_long(None, limit)
        return self.align_samples(audio.samples, audio.sample_rate, transcript, language, chunk_hints, backend)

    def align_samples(self, samples: np.ndarray, sample_rate: int, transcript: str,
                      language: str | None = None, chunk_hints: Sequence[ChunkHint] | None = None,
                      backend: str | None = None) -> AlignmentResult:
        """Same as `align` for audio already in memory (mono float samples)."""
        transcript, tokens = self._check_transcript(transcript)
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim > 1:
            samples = samples.mean(axis=1)
        duration = len(samples) / float(sample_rate) if sample_rate else 0.0
        if len(samples) == 0:
            raise InputError("The audio is empty (no samples).", "Upload a recording of the transcript being spoken.")
        limit = float(self.settings.max_align_seconds)
        if duration > limit:
            raise self._too_long(duration, limit)
        if not np.isfinite(samples).all() or float(np.abs(samples).max()) < SILENCE_PEAK:
            raise InputError("The audio is silent (no sound above -60 dBFS), so there are no words to time.",
                             "Upload the recording in which the transcript is spoken.")
        if backend is not None and backend not in BACKEND_NAMES:
            raise InputError(f"Unknown aligner {backend!r}.", f"Pick one of: {', '.join(BACKEND_NAMES)}.")
        language = (language or self.settings.language or "en").strip().lower()
        if not LANGUAGE_CODE.fullmatch(language):
            raise InputError(f"{language[:20]!r} is not a language code.",
                             "Use an ISO 639-1 code such as en, de or fr.")
        request = AlignInput(resample(samples, int(sample_rate)), tokens, transcript, language,
                             list(chunk_hints) if chunk_hints else None)
        order = [backend] if backend else list(self.order)
        if LAST_RESORT not in order:
            order.append(LAST_RESORT)

        attempts: list[Attempt] = []
        for name in order:
            started = time.perf_counter()
            available = self._backend_availability(name, language)  # checked here, once, for every backend
            if not available.ok:
                attempts.append(Attempt(name, "skipped", redact_paths(available.reason)))
                log.info("aligner %s skipped: %s", name, available.reason)
                continue
            try:
                out = self.backends[name].align(request)
                words = finalize(tokens, out.times, request.duration, out.interpolated or None)
            except BackendSkipped as exc:
                attempts.append(Attempt(name, "skipped", redact_paths(str(exc))))
                log.info("aligner %s skipped: %s", name, exc)
                continue
            except (BackendFailed, UserFacingError) as exc:  # said for the user already
                attempts.append(Attempt(name, "failed", redact_paths(str(exc) or type(exc).__name__)))
                log.warning("aligner %s failed: %s", name, exc)
                continue
            except Exception as exc:  # unexpected: any failure of one backend hands over to the next
                reason = f"{type(exc).__name__}: {exc}"
                attempts.append(Attempt(name, "failed", redact_paths(reason)))
                log.warning("aligner %s failed unexpectedly: %s", name, reason, exc_info=True)
                continue
            seconds = time.perf_counter() - started
            return self._result(name, words, out, attempts, request.duration, seconds)
        raise UserFacingError("No aligner could time the words: " +
                              "; ".join(f"{a.backend}: {a.reason}" for a in attempts))

    @staticmethod
    def _too_long(duration: float | None, limit: float) -> InputError:
        length = f"{duration:.0f} s long" if duration is not None else f"longer than {limit:.0f} s"
        return InputError(f"The audio is {length}; word alignment accepts at most {limit:.0f} s.",
                          "Split the recording into shorter parts, or raise F5UI_MAX_ALIGN_SECONDS.")

    @staticmethod
    def _check_transcript(transcript: str) -> tuple[str, list]:
        """The transcript without control characters, and its words; InputError when there are none."""
        transcript = clean_text(transcript) if isinstance(transcript, str) else transcript
        if not isinstance(transcript, str) or not transcript.strip():
            raise InputError("The transcript is empty.", "Type the words that are spoken in the audio.")
        tokens = tokenize(transcript)
        if not tokens:
            raise InputError("The transcript has no words, only punctuation.",
                             "Type the words that are spoken in the audio.")
        return transcript, tokens

    @staticmethod
    def _result(name: str, words: list[WordTiming], out: BackendOutput, attempts: list[Attempt],
                duration: float, seconds: float) -> AlignmentResult:
        filled = sum(1 for w in words if w.interpolated)
        attempts.append(Attempt(name, "used", f"timed {len(words) - filled} of {len(words)} words"
                                f"{f', {filled} interpolated' if filled else ''} in {seconds:.2f} s"
                                f"{f'; {out.stopped}' if out.stopped else ''}"))
        notes = [out.note] if out.note else []
        low = bool(out.low_confidence) or name == LAST_RESORT
        if filled > MOSTLY_INTERPOLATED * len(words):
            low = True
            notes.append(f"{filled} of {len(words)} words could not be timed by {name} and were interpolated")
        if name == LAST_RESORT:
            failed = [f"{a.backend}: {a.reason}" for a in attempts if a.status == "failed"]
            if failed:
                notes.append("aligners that failed: " + "; ".join(failed))
        warning = ("Low confidence: " + "; ".join(notes) + ".") if low and notes else ""
        return AlignmentResult(words=words, backend=name, attempts=attempts, duration=round(duration, 3),
                               low_confidence=low, warning=warning)
