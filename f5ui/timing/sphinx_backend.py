"""Offline forced alignment with pocketsphinx 5 (its en-us model ships in the wheel).

No hub, no GPU, no cloud: the known text is aligned with `Decoder.set_align_text`, in the decoder
processes (sphinx_decode.align_piece). English only. Words missing from the pronunciation
dictionary (numbers, symbols, rare names) are left out of the alignment and interpolated afterwards.

Audio longer than one piece (pieces.py) is aligned piece by piece, so the cost stays proportional
to its length: the words of each piece come from the generation's chunks when it has them, else
from a first decode of the piece against the window of the script it can hold (the word check's
grammar, sphinx_decode.check_piece). Past its deadline the alignment stops; the words it did not
reach are timed by the estimate, and the result says so.
"""

from __future__ import annotations

import difflib
import logging
import re

import numpy as np

from ..config import Settings
from .base import SAMPLE_RATE, AlignInput, Availability, BackendOutput, NeedsPackage
from .errors import BackendFailed, BackendSkipped
from .estimate import ESTIMATE_CONFIDENCE, speech_spans, spread
from .pieces import MAX_PIECE_SECONDS, Budget, cut, overlap_end, speech_seconds, window_end
from .sphinx_decode import Aligned, align_piece, check_piece, lookup
from .sphinx_models import decoder_pool
from .words import Timed, group_by_chunk

log = logging.getLogger(__name__)

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

Piece = tuple[int, int, int, int]  # audio [a, b) in samples, dictionary words [lo, hi)


class SphinxBackend(NeedsPackage):
    name = "sphinx"
    package = module = "pocketsphinx"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.pool = decoder_pool(settings)

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
        self.pool.warm()

    def align(self, request: AlignInput) -> BackendOutput:
        spelled, phones = self._spell(request)
        owners = [i for i, parts in enumerate(spelled) if parts for _ in parts]  # token of each dictionary word
        words = [w for parts in spelled if parts for w in parts]
        budget = Budget.for_audio(self.settings, request.duration)
        pieces = _hinted_pieces(request, spelled)
        walk = None if pieces is not None else _Walk(request.samples, words, [request.tokens[i].weight for i in owners])
        timed: list[tuple[float, float, float] | None] = [None] * len(words)
        fits: list[tuple[float, float | None]] = []
        failures: list[str] = []
        stopped_at: tuple[float, int] | None = None  # where the deadline stopped it: seconds, dictionary word
        for a, b, lo, hi in pieces if pieces is not None else walk:
            if budget.exhausted:
                stopped_at = (a / SAMPLE_RATE, lo)
                break
            if hi is None:  # no chunk hints: a first decode finds the words this piece says
                reach = int(overlap_end(walk.spans, b / SAMPLE_RATE) * SAMPLE_RATE)
                heard, seconds = self.pool.run(check_piece, request.samples[a:reach], a / SAMPLE_RATE, walk.window,
                                               True, False, b / SAMPLE_RATE)
                budget.spend(seconds)
                hi = walk.place(heard)
                if hi <= lo:
                    continue  # none of its window heard (noise, music): its words are looked for further on
            try:
                piece: Aligned = self.pool.run(align_piece, request.samples[a:b], a / SAMPLE_RATE, words[lo:hi])
            except BackendFailed as exc:
                if hi - lo == len(words):
                    raise  # the whole text in one piece: as ever, the next aligner takes over
                failures.append(f"{a / SAMPLE_RATE:.0f}–{b / SAMPLE_RATE:.0f} s ({exc})")
                continue
            budget.spend(piece.seconds)
            if piece.second_pass:
                log.info("pocketsphinx aligned %.0f–%.0f s on the second pass (pauses squeezed out)",
                         a / SAMPLE_RATE, b / SAMPLE_RATE)
            if len(piece.words) != hi - lo:
                raise BackendFailed(f"pocketsphinx returned {len(piece.words)} words for {hi - lo}")
            timed[lo:hi] = [(start, end, prob) for _w, start, end, prob in piece.words]
            fits.append((piece.forced, piece.free))
        if not any(timed):
            raise BackendFailed("pocketsphinx could not align any piece of the audio: " + "; ".join(failures))
        times, implausible = _token_times(spelled, phones, timed)
        notes = _notes(fits, implausible, sum(1 for s in spelled if s), failures)
        interpolated = [False] * len(times)
        stopped = ""
        if stopped_at is not None:
            left = sorted({owners[k] for k in range(stopped_at[1], len(words))})
            stopped = self._estimate_rest(request, times, left, stopped_at[0], budget)
            notes.append(stopped)
            for i in left:
                interpolated[i] = True
        return BackendOutput(times=times, interpolated=interpolated, low_confidence=bool(notes),
                             note="; ".join(notes), stopped=stopped)

    def _spell(self, request: AlignInput) -> tuple[list[list[str] | None], dict[str, int]]:
        """Per token, the dictionary words that spell it ("well-known" → "well" "known"), or None."""
        candidates = sorted({p for t in request.tokens for p in [t.norm, *t.norm.split("-")] if p})
        phones = {w: n for w, n in zip(candidates, self.pool.run(lookup, candidates)) if n}
        spelled = []
        for token in request.tokens:
            parts = [p for p in token.norm.split("-") if p]
            spelled.append([token.norm] if token.norm in phones else parts if parts and all(
                p in phones for p in parts) else None)
        known = sum(1 for s in spelled if s)
        if known < MIN_DICTIONARY_COVERAGE * len(request.tokens):
            raise BackendSkipped(f"only {known} of {len(request.tokens)} words are in the English pronunciation "
                                 "dictionary; the text does not look English")
        return spelled, phones

    def _estimate_rest(self, request: AlignInput, times: list[Timed], left: list[int], start: float,
                       budget: Budget) -> str:
        """Time the tokens the alignment did not reach by the estimate, over the audio from `start`
        (where it stopped); the note that says so."""
        tokens = [request.tokens[i] for i in left]
        for i, (s, e) in zip(left, spread(tokens, request.samples, start, request.duration)):
            times[i] = (s, e, ESTIMATE_CONFIDENCE)
        return (f"pocketsphinx {budget.describe(request.duration)}: the last {len(left)} words, from "
                f"“{tokens[0].text}” at {start:.1f} s, are timed by the estimate") if tokens else ""


class _Walk:
    """Pieces of a long recording without chunk hints, in order, each with the window of script words
    it can hold; `place` records how many of them a piece's first decode heard."""

    def __init__(self, samples: np.ndarray, words: list[str], weights: list[int]) -> None:
        self.samples, self.words, self.weights = samples, words, weights
        self.pieces = cut(samples)
        self.spans = speech_spans(samples, SAMPLE_RATE) if len(self.pieces) > 1 else []
        self.duration = len(samples) / SAMPLE_RATE
        self.rate = sum(weights) / (speech_seconds(self.spans, 0.0, self.duration) or self.duration)
        self.first = 0
        self.window: list[str] = []

    def __iter__(self):  # noqa: ANN204 - Iterator[tuple[int, int, int, int | None]]
        for n, (a, b) in enumerate(self.pieces):
            if self.first >= len(self.words):
                return
            piece = speech_seconds(self.spans, a / SAMPLE_RATE, b / SAMPLE_RATE)
            if n == len(self.pieces) - 1:  # the last piece takes every word left (as many as it can hold)
                last = len(self.words) if n == 0 else window_end(self.weights, self.first, self.rate * piece, True)
                yield a, b, self.first, last
                return
            rest = speech_seconds(self.spans, a / SAMPLE_RATE, self.duration)
            expected = sum(self.weights[self.first:]) * (piece / rest if rest > 0 else 1.0)
            self.window = self.words[self.first:window_end(self.weights, self.first, expected, False)]
            yield a, b, self.first, None

    def place(self, heard) -> int:  # noqa: ANN001 - list[sphinx_decode.Heard] | None
        """The end of the words the piece said (up to the last one heard where it belongs)."""
        if heard:
            matcher = difflib.SequenceMatcher(a=self.window, b=[h.word for h in heard], autojunk=False)
            self.first += max((i2 for op, _i1, i2, _j1, _j2 in matcher.get_opcodes() if op == "equal"), default=0)
        return self.first


def _hinted_pieces(request: AlignInput, spelled: list[list[str] | None]) -> list[Piece] | None:
    """With the generation's chunk spans: pieces of whole chunks (each at most MAX_PIECE_SECONDS unless
    a chunk alone is longer), with their words. None without hints, or when one piece holds it all."""
    if request.duration <= MAX_PIECE_SECONDS or not request.chunk_hints:
        return None
    counts = [len(parts) if parts else 0 for parts in spelled]
    pieces: list[list[int]] = []
    for start, end, members in group_by_chunk(request.tokens, request.chunk_hints, request.duration):
        a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        lo = sum(counts[:members[0]])
        hi = lo + sum(counts[members[0]:members[-1] + 1])
        if pieces and b - pieces[-1][0] <= MAX_PIECE_SECONDS * SAMPLE_RATE:
            pieces[-1][1], pieces[-1][3] = b, hi  # the chunk joins the piece before it
        else:
            pieces.append([a if pieces else 0, b, lo, hi])
    pieces[-1][1] = len(request.samples)
    for before, after in zip(pieces, pieces[1:]):  # cut where one chunk's cross-fade (or gap) to the next is half done
        before[1] = after[0] = (before[1] + after[0]) // 2
    return [(a, b, lo, hi) for a, b, lo, hi in pieces if hi > lo]


def _token_times(spelled: list[list[str] | None], phones: dict[str, int],
                 timed: list[tuple[float, float, float] | None]) -> tuple[list[Timed], int]:
    """Per token, (start, end, confidence) from its dictionary words' times (None where any part is
    untimed); and how many got an implausible duration."""
    times: list[Timed] = []
    implausible, k = 0, 0
    for parts in spelled:
        if not parts:
            times.append(None)
            continue
        got = timed[k:k + len(parts)]
        k += len(parts)
        if any(g is None for g in got):
            times.append(None)
            continue
        start, end = got[0][0], got[-1][1]
        conf = min(max(0.0, min(g[2] for g in got)), 1.0)
        per_phone = (end - start) / max(1, sum(phones.get(p, 1) for p in parts))
        if not PHONE_SECONDS[0] <= per_phone <= PHONE_SECONDS[1]:
            implausible += 1
            conf *= 0.5
        times.append((start, end, conf))
    return times, implausible


def _notes(fits: list[tuple[float, float | None]], implausible: int, known: int, failures: list[str]) -> list[str]:
    """Why the alignment is doubtful. Forced alignment always "succeeds" on a near-match; words squeezed
    into a frame or two, or stretched over long stretches, mean the text and the audio differ."""
    notes = []
    free = [f for _forced, f in fits]
    fit = sum(forced for forced, _f in fits) / sum(free) if fits and None not in free and sum(free) > 0 else None
    if fit is not None and fit > MISMATCH_FIT:
        notes.append(f"the transcript does not match the audio: its words fit the sound {fit:.1f}x worse than "
                     "free phone recognition does (a matching transcript stays under "
                     f"{MISMATCH_FIT:.1f}x)")
    if implausible > 0.25 * known:
        notes.append(f"{implausible} of {known} words got implausible durations from pocketsphinx; "
                     "the transcript may not match the audio")
    if failures:
        notes.append("pocketsphinx could not align " + "; ".join(failures) + " (those words are interpolated)")
    return notes
