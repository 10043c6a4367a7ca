"""Long audio in pieces, so that decoding costs what the audio's length makes it cost.

One pocketsphinx search over a whole recording grows faster than the recording (measured with the
word check: 0.07 s of decoding per audio second at 13 s, 0.12 at 33 s, 0.29 at 63 s, and 26 minutes
for 320 s), because every word of the script stays a candidate at every frame. So long audio is
cut at pauses into pieces of at most MAX_PIECE_SECONDS and decoded piece by piece, each against the
window of script words it can hold: from where the previous piece ended (known from its decode) to
a little more than the speaking rate predicts (and with a few seconds of the next piece, whose words
it does not keep: OVERLAP_SECONDS). What a decode may cost in all is a `Budget`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Settings
from .base import SAMPLE_RATE
from .estimate import speech_spans

MAX_PIECE_SECONDS = 20.0  # a piece's decode: ~0.07 s per audio second (0.29 at 63 s: see above)
# Pieces end at sentence-long pauses where they can: measured on 600 s of espeak sentences, a piece of
# two or three sentences flags several times more correct words than each sentence alone (where the
# check was measured), as one search over the whole recording did too.
MIN_PIECE_SECONDS = 3.0
SENTENCE_PAUSE = 0.4  # seconds
WINDOW_MARGIN = 1.5  # a window holds this many times the words the speaking rate predicts for its piece...
WINDOW_EXTRA = 8  # ...plus this many
FINAL_MARGIN, FINAL_EXTRA = 2.0, 16  # the last piece takes every word left, up to this many
# A piece is decoded with this much of the next one after it, and keeps only the words heard before
# its end: where a piece's audio ended, the decoder could stop its path for free and leave the piece's
# last word for the next piece, which does not say it ("got dark." heard as "got got": 11 false flags
# in 600 s of espeak speech). With the next words heard, the piece's own last word is placed right.
OVERLAP_SECONDS = 1.5  # of speech


@dataclass
class Budget:
    """Seconds of decoding a check or an alignment may spend (F5UI_DECODE_DEADLINE per second of its
    audio, at least F5UI_DECODE_DEADLINE_FLOOR), and what it spent: the decoder's CPU time, measured
    where it runs (a wait for a free decoder process, or other work on a busy machine, does not count)."""

    limit: float
    spent: float = 0.0

    @classmethod
    def for_audio(cls, settings: Settings, seconds: float) -> Budget:
        return cls(max(float(settings.decode_deadline_floor), float(settings.decode_deadline) * seconds))

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.limit

    def spend(self, seconds: float) -> None:
        self.spent += seconds

    def describe(self, seconds: float) -> str:
        """What the deadline was, for the note of a result cut short."""
        return (f"stopped at its deadline ({self.spent:.1f} s of decoding, {self.limit:.1f} s allowed for "
                f"{seconds:.0f} s of audio: F5UI_DECODE_DEADLINE, F5UI_DECODE_DEADLINE_FLOOR)")


def cut(samples: np.ndarray, max_seconds: float = MAX_PIECE_SECONDS) -> list[tuple[int, int]]:
    """[start, end) sample ranges that cover the audio, each at most `max_seconds` long, cut in the
    middle of pauses: at the first sentence-long pause (SENTENCE_PAUSE) once a piece has
    MIN_PIECE_SECONDS, else at its longest pause, else (speech without a pause for `max_seconds`) at
    its end. Audio up to `max_seconds` is one piece."""
    total = len(samples)
    limit, least = int(max_seconds * SAMPLE_RATE), int(MIN_PIECE_SECONDS * SAMPLE_RATE)
    if total <= limit:
        return [(0, total)]
    spans = speech_spans(samples, SAMPLE_RATE)
    pauses = [(int(a[1] * SAMPLE_RATE), int(b[0] * SAMPLE_RATE)) for a, b in zip(spans, spans[1:])]
    pieces, start = [], 0
    while total - start > limit:
        inside = [(b - a, (a + b) // 2) for a, b in pauses if start + least < (a + b) // 2 <= start + limit]
        long = [middle for length, middle in inside if length >= SENTENCE_PAUSE * SAMPLE_RATE]
        end = long[0] if long else max(inside)[1] if inside else start + limit
        pieces.append((start, end))
        start = end
    pieces.append((start, total))
    return pieces


def overlap_end(spans: list[tuple[float, float]], end: float) -> float:
    """Where a piece ending at `end` (seconds) is decoded to: OVERLAP_SECONDS of speech further on."""
    need = OVERLAP_SECONDS
    for s, e in spans:
        if e <= end:
            continue
        s = max(s, end)
        if e - s >= need:
            return s + need
        need -= e - s
    return spans[-1][1] if spans else end


def speech_seconds(spans: list[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of speech between `start` and `end` (from speech_spans of the whole audio)."""
    return sum(max(0.0, min(e, end) - max(s, start)) for s, e in spans)


def window_end(weights: list[int], first: int, expected: float, last: bool) -> int:
    """Index after the last script word a piece may hold, from `first`: words up to a margin over the
    `expected` weight (Token.weight) the speaking rate predicts for the piece, plus a few."""
    margin, extra = (FINAL_MARGIN, FINAL_EXTRA) if last else (WINDOW_MARGIN, WINDOW_EXTRA)
    reach, end = margin * expected, first
    while end < len(weights) and reach > 0:
        reach -= weights[end]
        end += 1
    return min(len(weights), end + extra)
