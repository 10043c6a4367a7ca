"""Offline forced alignment with pocketsphinx 5 (its en-us model ships in the wheel).

No hub, no GPU, no cloud: the known text is aligned with `Decoder.set_align_text`.
English only. Words missing from the pronunciation dictionary (numbers, symbols,
rare names) are left out of the alignment and interpolated afterwards.
"""

from __future__ import annotations

import logging
import math
import re

from ..codecs import pcm16
from ..config import Settings
from .base import AlignInput, Availability, BackendOutput, NeedsPackage
from .errors import BackendFailed, BackendSkipped
from .pauses import original_time, squeeze
from .sphinx_models import NO_PAUSES, phone_loop, word_decoder
from .words import Timed

log = logging.getLogger(__name__)

# Wide beams: the default ones drop the alignment on fast or slow speech (field notes);
# alignment search space is linear in the text, so this costs little. Dither (pocketsphinx's
# fixed-seed noise, so still deterministic) keeps digital silence from breaking the features.
# Measured on 24 held-out espeak sentences (4 voices, 140-175 wpm) + 3 recordings: beams of
# 1e-80 lost 4 of 24 alignments; these lose none, mean start error 15.7 ms (was 17.7 ms).
BEAMS = {"beam": 1e-120, "wbeam": 1e-100, "pbeam": 1e-120, "dither": True}
# Second pass, when the first finds no path: pauses squeezed out and no silence allowed (NO_PAUSES),
# so the decoder cannot spend speech on silence (the same held-out set: no failures, 18 ms error).
# No second passes: with them the alignment of a clip with pauses often stopped at the
# first long pause (measured: 9 of 16 words); the alignment search alone reaches the end.
PASSES = {"fwdflat": False, "bestpath": False}
FRAME_RATE = 100  # frames per second (pocketsphinx default -frate)
MIN_DICTIONARY_COVERAGE = 0.5  # below this the text is probably not English
_VARIANT = re.compile(r"\(\d+\)$")  # "and(2)": alternate pronunciation
# Plausible mean phone duration; outside it the alignment was forced onto the wrong sound.
PHONE_SECONDS = (0.02, 0.4)
# Forced alignment "succeeds" on audio that says something else: it fits the script's phones
# wherever it must. Free phone recognition (a phone loop) finds the best phones the audio allows;
# the forced path's acoustic cost over the loop's tells how well the script fits the sound.
# Measured (pocketsphinx en-us, tests/speech.py clips): the right text 1.2-2.2x on clean speech
# (up to 2.7x on espeak speech at 10 dB SNR), a wrong one 2.8-4.7x; the f5-tts human reference
# 1.2x with its own text, 2.9-3.9x with other sentences.
MISMATCH_FIT = 2.5


class SphinxBackend(NeedsPackage):
    name = "sphinx"
    package = module = "pocketsphinx"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._decoder = None
        self._squeezed = None  # second-pass decoder, made on first need
        self._loop = None  # phone-loop decoder for the fit check

    def availability(self, language: str) -> Availability:
        missing = self.package_availability()
        if missing:
            return missing
        if not language.lower().startswith("en"):
            return Availability.no(f"pocketsphinx ships only an English (en-us) model; language is {language!r}",
                                   "Set F5UI_LANGUAGE=en for pocketsphinx, or rely on another aligner for this "
                                   "language.")
        return Availability.yes("offline English aligner (pocketsphinx en-us model)")

    def load(self, language: str = "en") -> None:
        with self._lock:
            self._get_decoder()
            self._get_loop()

    def _get_loop(self):  # noqa: ANN202 - pocketsphinx.Decoder
        if self._loop is None:
            self._loop = phone_loop()
        return self._loop

    def _fit(self, decoder, pcm: bytes) -> float | None:  # noqa: ANN001
        """Acoustic cost of the forced path over free phone recognition of the same audio (>= ~1)."""
        forced = sum(-math.log(max(s.ascore, 1e-300)) for s in decoder.seg())
        loop = self._get_loop()
        loop.start_utt()
        loop.process_raw(pcm, no_search=False, full_utt=True)
        loop.end_utt()
        if loop.hyp() is None:
            return None
        free = sum(-math.log(max(s.ascore, 1e-300)) for s in loop.seg())
        return forced / free if free > 0 else None

    def _get_decoder(self, no_pauses: bool = False):  # noqa: ANN202 - pocketsphinx.Decoder
        if (self._squeezed if no_pauses else self._decoder) is None:
            decoder = word_decoder(**BEAMS, **PASSES, **(NO_PAUSES if no_pauses else {}))
            if no_pauses:
                self._squeezed = decoder
            else:
                self._decoder = decoder
                log.info("pocketsphinx en-us model loaded")
        return self._squeezed if no_pauses else self._decoder

    @staticmethod
    def _force(decoder, text: str, pcm: bytes) -> bool:  # noqa: ANN001
        try:
            decoder.set_align_text(text)
        except RuntimeError as exc:
            raise BackendFailed(f"pocketsphinx refused the text: {exc}") from exc
        decoder.start_utt()
        decoder.process_raw(pcm, no_search=False, full_utt=True)
        decoder.end_utt()
        return decoder.hyp() is not None

    def _dictionary_words(self, decoder, norm: str) -> list[str] | None:  # noqa: ANN001
        """Dictionary entries that spell this script word, or None if it cannot be said."""
        candidates = [norm]
        if "-" in norm:
            candidates.append(norm.split("-"))  # "well-known" → "well" "known"
        for cand in candidates:
            parts = [cand] if isinstance(cand, str) else [p for p in cand if p]
            if parts and all(decoder.lookup_word(p) is not None for p in parts):
                return parts
        return None

    def align(self, request: AlignInput) -> BackendOutput:
        with self._lock:
            decoder = self._get_decoder()
            spelled = [self._dictionary_words(decoder, t.norm) for t in request.tokens]
            known = sum(1 for s in spelled if s)
            if known < MIN_DICTIONARY_COVERAGE * len(request.tokens):
                raise BackendSkipped(
                    f"only {known} of {len(request.tokens)} words are in the English pronunciation dictionary; "
                    "the text does not look English")
            words = [w for s in spelled if s for w in s]
            pcm, timeline = request.pcm16(), None
            if not self._force(decoder, " ".join(words), pcm):
                squeezed, timeline = squeeze(request.samples)
                decoder, pcm = self._get_decoder(no_pauses=True), pcm16(squeezed)
                if not len(squeezed) or not self._force(decoder, " ".join(words), pcm):
                    raise BackendFailed("pocketsphinx could not align the transcript to the audio, with pauses "
                                        "or without (does the transcript match what is said?)")
                log.info("pocketsphinx aligned on the second pass (pauses squeezed out)")
            fit = self._fit(decoder, pcm)
            segments = [(_VARIANT.sub("", s.word), s.start_frame, s.end_frame, s.prob) for s in decoder.seg()
                        if not (s.word.startswith("<") or s.word.startswith("[") or s.word.startswith("+"))]
            phones = {w: len((decoder.lookup_word(w) or "x").split()) for w in set(words)}
        if len(segments) != len(words):
            raise BackendFailed(f"pocketsphinx returned {len(segments)} words for {len(words)}")

        times: list[Timed] = []
        seg_iter = iter(segments)
        implausible = 0
        for parts in spelled:
            if not parts:
                times.append(None)
                continue
            got = [next(seg_iter) for _ in parts]
            start, end = _seconds(got[0][1], timeline), _seconds(got[-1][2] + 1, timeline)  # end_frame inclusive
            conf = min(max(0.0, min(float(g[3]) for g in got)), 1.0)
            per_phone = (end - start) / max(1, sum(phones.get(p, 1) for p in parts))
            if not PHONE_SECONDS[0] <= per_phone <= PHONE_SECONDS[1]:
                implausible += 1
                conf *= 0.5
            times.append((start, end, conf))
        # Forced alignment always "succeeds" on a near-match; words squeezed into a
        # frame or two, or stretched over long stretches, mean the text and the audio differ.
        notes = []
        if fit is not None and fit > MISMATCH_FIT:
            notes.append(f"the transcript does not match the audio: its words fit the sound {fit:.1f}x worse than "
                         "free phone recognition does (a matching transcript stays under "
                         f"{MISMATCH_FIT:.1f}x)")
        if implausible > 0.25 * known:
            notes.append(f"{implausible} of {known} words got implausible durations from pocketsphinx; "
                         "the transcript may not match the audio")
        low, note = bool(notes), "; ".join(notes)
        return BackendOutput(times=times, interpolated=[False] * len(times), low_confidence=low, note=note)


def _seconds(frame: int, timeline) -> float:  # noqa: ANN001 - np.ndarray | None
    return frame / FRAME_RATE if timeline is None else original_time(timeline, frame)
