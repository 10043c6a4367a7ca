"""Which words of the script a take really says: spoken, missing, repeated or garbled, with times.

The method, chosen on measurements (tests/test_check.py, README "Every take checks itself"):
recognition constrained to the script. pocketsphinx decodes the audio with a grammar in which
each script word, in order, may be said once (the likely path), said twice, or left out (both
strongly penalized, so only clear acoustic evidence takes them). What the decoder then says it
heard, compared with the script, names the missing and repeated words. Pauses are squeezed
out of the audio first: the decoder may not explain speech as silence, which on synthetic
speech it otherwise does. "Garbled" words are the ones that are heard but fit the sound far
worse than the phones a free phone recognizer finds there.

Measured on 24 espeak-ng sentences read twice (4 voices, 140–175 wpm), rendered whole, with a
word left out and with a word said twice: 90 % of missing and 90 % of repeated words named
exactly (96 % and 92 % at the word or beside it), 0.4 % of correct words flagged; the f5-tts
human recording cut and spliced the same way: 6 of 7 and 7 of 7, none flagged falsely. About
0.05 s of decoding per second of audio on 2 CPU cores, at any length.

The decoding runs in the decoder processes (sphinx_decode.py, pool in sphinx_models.py). Audio
longer than one piece (pieces.py) is decoded piece by piece, each against the window of the script
it can hold, so the cost stays proportional to the audio; past its deadline a check stops and
says which words it did not reach (they stay unchecked).

`spoken_prefix` answers a narrower question with a grammar of the script's prefixes: how much of
its text a reference clipped at a pause still says."""

from __future__ import annotations

import difflib
import logging

import numpy as np

from ..config import Settings
from ..schema import WordVerdict
from .base import SAMPLE_RATE, Availability, NeedsPackage
from .estimate import speech_spans
from .pieces import Budget, cut, overlap_end, speech_seconds, window_end
from .sphinx_decode import Heard, check_piece, lookup, spoken_prefix
from .sphinx_models import decoder_pool
from .words import Token

log = logging.getLogger(__name__)

GARBLED_FIT = 6.5  # fit worse than free phones by this: garbled (clean espeak words reach 6.0 at most)
MIN_GARBLED_FRAMES = 8  # too short to judge below this (80 ms)

Judged = tuple[str, float, float, int]  # status, start, end, repeats of one script word


class WordChecker(NeedsPackage):
    """The word check, run in the decoder processes."""

    name = "sphinx-check"
    package = module = "pocketsphinx"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.pool = decoder_pool(settings)

    def availability(self, language: str) -> Availability:
        missing = self.package_availability()
        if missing:
            return missing
        if not language.lower().startswith("en"):
            return Availability.no(f"the word check uses pocketsphinx's English model; language is {language!r}",
                                   "Set F5UI_LANGUAGE=en, or read the similarity and loudness figures only.")
        return Availability.yes("pocketsphinx, recognition constrained to the script")

    def load(self) -> None:
        """Start the decoder processes and wait until their models are loaded."""
        self.pool.warm()

    # --- the check ------------------------------------------------------------------------
    def check(self, samples: np.ndarray, tokens: list[Token]) -> list[WordVerdict]:
        """A verdict for every token (16 kHz mono `samples`). Words the dictionary lacks are
        not judged (their status is "spoken", unchecked)."""
        return self.check_within(samples, tokens)[0]

    def check_within(self, samples: np.ndarray, tokens: list[Token],
                     budget: Budget | None = None) -> tuple[list[WordVerdict], str]:
        """`check`, within a decoding budget (by default the deadline for the audio's length): the
        verdicts, and a note when the deadline stopped it (the words it did not reach are unchecked)."""
        samples = np.asarray(samples, dtype=np.float32)
        duration = len(samples) / SAMPLE_RATE
        budget = budget or Budget.for_audio(self.settings, duration)
        phones = self.pool.run(lookup, [t.norm for t in tokens])
        spelled = [t.norm if p else None for t, p in zip(tokens, phones)]
        script = [s for s in spelled if s]
        judged: list[Judged | None] = [None] * len(script)  # None: not reached
        if script:
            reached = self._walk(samples, script, [t.weight for t, s in zip(tokens, spelled) if s], judged, budget)
        note = ""
        if script and reached < len(script):
            at = [t for t, s in zip(tokens, spelled) if s][reached]  # the first word not reached
            note = (f"the word check {budget.describe(duration)}: {len(script) - reached} of {len(script)} words, "
                    f"from “{at.text}” on, were not checked")
            log.warning("Word check: %s", note)
        verdicts, k = [], 0
        for token, form in zip(tokens, spelled):
            result = judged[k] if form is not None else None
            k += form is not None
            if result is None:
                verdicts.append(WordVerdict(token.text, "spoken", 0.0, 0.0, checked=False))
            else:
                status, start, end, repeats = result
                verdicts.append(WordVerdict(token.text, status, start, end, repeats=repeats))
        return verdicts, note

    def _walk(self, samples: np.ndarray, script: list[str], weights: list[int], judged: list[Judged | None],
              budget: Budget) -> int:
        """Decode the audio piece by piece, each against the window of the script it can hold; fill
        `judged`; return how many script words were reached (all of them unless the budget ran out)."""
        pieces = cut(samples)
        spans = speech_spans(samples, SAMPLE_RATE) if len(pieces) > 1 else []
        total_speech = speech_seconds(spans, 0.0, len(samples) / SAMPLE_RATE) or len(samples) / SAMPLE_RATE
        rate = sum(weights) / total_speech  # script weight per second of speech
        first = 0  # the first script word not yet placed
        for n, (a, b) in enumerate(pieces):
            last = n == len(pieces) - 1
            if first >= len(script):
                break  # speech after the script's end: nothing left to look for
            if budget.exhausted:
                return first
            if len(pieces) == 1:
                end = len(script)
            else:
                rest = speech_seconds(spans, a / SAMPLE_RATE, len(samples) / SAMPLE_RATE)
                piece = speech_seconds(spans, a / SAMPLE_RATE, b / SAMPLE_RATE)
                expected = rate * piece if last else sum(weights[first:]) * (piece / rest if rest > 0 else 1.0)
                end = window_end(weights, first, expected, last)
            window = script[first:end]
            if last:  # every word left is judged here: what was not heard is missing
                heard, seconds = self.pool.run(check_piece, samples[a:b], a / SAMPLE_RATE, window, False)
                budget.spend(seconds)
                judged[first:end] = _judge(window, heard, a / SAMPLE_RATE)
                judged[end:] = [("missing", b / SAMPLE_RATE, b / SAMPLE_RATE, 0)] * (len(script) - end)
                return len(script)
            reach = int(overlap_end(spans, b / SAMPLE_RATE) * SAMPLE_RATE)  # the next piece's words are its own
            heard, seconds = self.pool.run(check_piece, samples[a:reach], a / SAMPLE_RATE, window, True, True,
                                           b / SAMPLE_RATE)
            budget.spend(seconds)
            placed = _placed(window, heard)
            if placed:  # a piece that says none of its window (noise, music) places nothing
                judged[first:first + placed] = _judge(window[:placed], heard, a / SAMPLE_RATE)
                first += placed
        return len(script) if first >= len(script) else first

    def spoken_prefix(self, samples: np.ndarray, tokens: list[Token]) -> int | None:
        """How many tokens of the script, from its start, `samples` say (a reference clipped at a
        pause says a prefix of its text); None when that cannot be told."""
        phones = self.pool.run(lookup, [t.norm for t in tokens])
        spelled = [(i, t.norm) for i, (t, p) in enumerate(zip(tokens, phones)) if p]
        if not spelled:
            return None
        said, _seconds = self.pool.run(spoken_prefix, np.asarray(samples, dtype=np.float32), [w for _, w in spelled])
        if said == 0:
            return None
        return spelled[said - 1][0] + 1


def _placed(window: list[str], heard: list[Heard] | None) -> int:
    """How many words of the window a piece said: up to the last one heard where it belongs (words
    after it, left out as far as this piece knows, are looked for in the next piece)."""
    if not heard:
        return 0
    matcher = difflib.SequenceMatcher(a=window, b=[h.word for h in heard], autojunk=False)
    return max((i2 for op, _i1, i2, _j1, _j2 in matcher.get_opcodes() if op == "equal"), default=0)


def _judge(script: list[str], heard: list[Heard] | None, at: float) -> list[Judged]:
    """Line the heard words up with the script: left out → missing, said again → repeated, heard but
    fitting the sound far worse than free phones → garbled. Nothing heard: every word missing (at `at`)."""
    if heard is None:
        return [("missing", at, at, 0)] * len(script)
    status: list[str] = ["spoken"] * len(script)
    times: list[tuple[float, float]] = [(at, at)] * len(script)
    repeats = [0] * len(script)
    matcher = difflib.SequenceMatcher(a=script, b=[h.word for h in heard], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                h = heard[j1 + k]
                times[i1 + k] = (h.start, h.end)
                garbled = h.frames >= MIN_GARBLED_FRAMES and h.fit > GARBLED_FIT
                status[i1 + k] = "garbled" if garbled else "spoken"
            continue
        for i in range(i1, i2):  # script words not heard where they belong
            status[i] = "missing"
            where = heard[j1].start if j1 < len(heard) else (heard[-1].end if heard else at)
            times[i] = (where, where)
        for j in range(j1, j2):  # heard again: the copy belongs to the script word it repeats
            owner = next((i for i in range(max(0, i1 - 1), min(len(script), i2 + 1)) if script[i] == heard[j].word),
                         None)
            if owner is not None:
                repeats[owner] += 1
    status = ["repeated" if n and st == "spoken" else st for st, n in zip(status, repeats)]  # after all ops
    return [(st, start, end, n) for st, (start, end), n in zip(status, times, repeats)]
