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
word left out and with a word said twice: 92 % of missing and 90 % of repeated words named
exactly (98 % and 92 % at the word or beside it), 0.3 % of correct words flagged; the f5-tts
human recording cut and spliced the same way: 6 of 7 and 7 of 7, none flagged falsely. 0.046 s
of decoding per second of audio on 2 CPU cores.

`spoken_prefix` answers a narrower question with a grammar of the script's prefixes: how much of
its text a reference clipped at a pause still says."""

from __future__ import annotations

import difflib
import logging
import math
from dataclasses import dataclass

import numpy as np

from ..codecs import pcm16
from ..config import Settings
from ..schema import WordVerdict
from .base import SAMPLE_RATE, Availability, NeedsPackage
from .pauses import original_time, squeeze
from .sphinx_models import NO_PAUSES, phone_loop, word_decoder
from .words import Token

log = logging.getLogger(__name__)

SKIP_WEIGHT = 1e-12  # grammar weight of leaving a word out (vs ~1 for saying it)
REPEAT_WEIGHT = 1e-16  # ...and of saying it twice
GARBLED_FIT = 6.5  # fit worse than free phones by this: garbled (clean espeak words reach 6.0 at most)
MIN_GARBLED_FRAMES = 8  # too short to judge below this (80 ms)
BEAMS = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80}


@dataclass
class _Heard:
    word: str  # dictionary form
    start: float  # seconds, original timeline
    end: float
    cost: float  # -log acoustic score of the segment
    first: int  # its first 10 ms frame in the squeezed audio
    frames: int


class WordChecker(NeedsPackage):
    """One pocketsphinx grammar decoder and one phone loop, shared under a lock."""

    name = "sphinx-check"
    package = module = "pocketsphinx"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._decoder = None
        self._loop = None

    def availability(self, language: str) -> Availability:
        missing = self.package_availability()
        if missing:
            return missing
        if not language.lower().startswith("en"):
            return Availability.no(f"the word check uses pocketsphinx's English model; language is {language!r}",
                                   "Set F5UI_LANGUAGE=en, or read the similarity and loudness figures only.")
        return Availability.yes("pocketsphinx, recognition constrained to the script")

    def _decoders(self):  # noqa: ANN202
        if self._decoder is None:
            self._decoder = word_decoder(bestpath=False, fwdflat=False, **BEAMS, **NO_PAUSES)
            self._loop = phone_loop()
        return self._decoder, self._loop

    def load(self) -> None:
        with self._lock:
            self._decoders()

    # --- the check ------------------------------------------------------------------------
    def check(self, samples: np.ndarray, tokens: list[Token]) -> list[WordVerdict]:
        """A verdict for every token (16 kHz mono `samples`). Words the dictionary lacks are
        not judged (their status is "spoken", unchecked)."""
        squeezed, timeline = squeeze(np.asarray(samples, dtype=np.float32))
        with self._lock:
            decoder, loop = self._decoders()
            spelled = [t.norm if decoder.lookup_word(t.norm) else None for t in tokens]
            script = [s for s in spelled if s]
            if not script:
                return [WordVerdict(t.text, "spoken", 0.0, 0.0, checked=False) for t in tokens]
            if not len(squeezed):  # no speech at all: nothing of the script was said
                heard, loop_costs = None, None
            else:
                heard = self._decode(decoder, pcm16(squeezed), script, timeline)
                loop_costs = _frame_costs(loop, pcm16(squeezed), len(squeezed))
        if heard is None:  # the decoder found no path at all: nothing here is the script
            return [WordVerdict(t.text, "missing" if s else "spoken", 0.0, 0.0, checked=bool(s))
                    for t, s in zip(tokens, spelled)]
        return _verdicts(tokens, spelled, script, heard, loop_costs)

    def spoken_prefix(self, samples: np.ndarray, tokens: list[Token]) -> int | None:
        """How many tokens of the script, from its start, `samples` say (a reference clipped at a
        pause says a prefix of its text); None when that cannot be told."""
        squeezed, timeline = squeeze(np.asarray(samples, dtype=np.float32))
        with self._lock:
            decoder, _loop = self._decoders()
            spelled = [(i, t.norm) for i, t in enumerate(tokens) if decoder.lookup_word(t.norm)]
            if not spelled or not len(squeezed):
                return None
            # Every word after the first is optional together with the rest: w0 [w1 [w2 ...]].
            body = " ".join(f"{w} [" for _, w in spelled[:-1]) + f" {spelled[-1][1]}" + " ]" * (len(spelled) - 1)
            decoder.add_jsgf_string("prefix", f"#JSGF V1.0;\ngrammar prefix;\npublic <prefix> = {body} ;\n")
            decoder.activate_search("prefix")
            decoder.start_utt()
            decoder.process_raw(pcm16(squeezed), no_search=False, full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
            said = len(hyp.hypstr.split()) if hyp is not None else 0
        if said == 0:
            return None
        return spelled[said - 1][0] + 1

    def _decode(self, decoder, pcm: bytes, script: list[str], timeline: np.ndarray) -> list[_Heard] | None:  # noqa: ANN001
        decoder.add_jsgf_string("check", _grammar(script))
        decoder.activate_search("check")
        decoder.start_utt()
        decoder.process_raw(pcm, no_search=False, full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is None:
            return None
        out = []
        for seg in decoder.seg():
            word = seg.word.split("(")[0]
            if not word or word.startswith(("<", "[", "+")):  # "(NULL)" grammar nodes, fillers
                continue
            first, last = max(0, seg.start_frame), max(seg.start_frame, seg.end_frame)
            out.append(_Heard(word, original_time(timeline, first), original_time(timeline, last + 1),
                              -math.log(max(seg.ascore, 1e-300)), first, last - first + 1))
        return out


def _grammar(script: list[str]) -> str:
    rules = "".join(f"<w{i}> = ( /{1 - SKIP_WEIGHT - REPEAT_WEIGHT}/ {w} | /{REPEAT_WEIGHT}/ {w} {w} | "
                    f"/{SKIP_WEIGHT}/ <NULL> ) ;\n" for i, w in enumerate(script))
    body = " ".join(f"<w{i}>" for i in range(len(script)))
    return f"#JSGF V1.0;\ngrammar check;\npublic <script> = {body} ;\n{rules}"


def _frame_costs(loop, pcm: bytes, n_samples: int) -> np.ndarray:  # noqa: ANN001
    """Per 10 ms frame, the acoustic cost of the best free phone sequence (the yardstick of "garbled")."""
    costs = np.zeros(n_samples // (SAMPLE_RATE // 100) + 2)
    loop.start_utt()
    loop.process_raw(pcm, no_search=False, full_utt=True)
    loop.end_utt()
    if loop.hyp() is None:
        return costs
    for seg in loop.seg():
        first, last = max(0, seg.start_frame), max(seg.start_frame, seg.end_frame)
        costs[first:last + 1] = -math.log(max(seg.ascore, 1e-300)) / (last - first + 1)
    return costs


def _verdicts(tokens: list[Token], spelled: list[str | None], script: list[str], heard: list[_Heard],
              loop_costs: np.ndarray) -> list[WordVerdict]:
    """Line the heard words up with the script: left out → missing, said again → repeated."""
    status: list[str] = ["spoken"] * len(script)
    times: list[tuple[float, float]] = [(0.0, 0.0)] * len(script)
    repeats = [0] * len(script)
    matcher = difflib.SequenceMatcher(a=script, b=[h.word for h in heard], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                h = heard[j1 + k]
                times[i1 + k] = (h.start, h.end)
                garbled = h.frames >= MIN_GARBLED_FRAMES and _fit(h, loop_costs) > GARBLED_FIT
                status[i1 + k] = "garbled" if garbled else "spoken"
            continue
        for i in range(i1, i2):  # script words not heard where they belong
            status[i] = "missing"
            at = heard[j1].start if j1 < len(heard) else (heard[-1].end if heard else 0.0)
            times[i] = (at, at)
        for j in range(j1, j2):  # heard again: the copy belongs to the script word it repeats
            owner = next((i for i in range(max(0, i1 - 1), min(len(script), i2 + 1)) if script[i] == heard[j].word),
                         None)
            if owner is not None:
                repeats[owner] += 1
    status = ["repeated" if n and st == "spoken" else st for st, n in zip(status, repeats)]  # after all ops
    verdicts, k = [], 0
    for token, form in zip(tokens, spelled):
        if form is None:
            verdicts.append(WordVerdict(token.text, "spoken", 0.0, 0.0, checked=False))
            continue
        start, end = times[k]
        verdicts.append(WordVerdict(token.text, status[k], start, end, repeats=repeats[k]))
        k += 1
    return verdicts


def _fit(h: _Heard, loop_costs: np.ndarray) -> float:
    free = float(loop_costs[h.first:h.first + h.frames].sum())
    return h.cost / free if free > 0 else 1.0
