"""Always-available estimate: speech spans from an energy-based silence detector
(and chunk boundaries known at generation time), words spread over the speech in
proportion to their length. No model; low confidence by design."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from ..config import Settings
from .base import SAMPLE_RATE, AlignInput, Availability, BackendOutput
from .words import Timed, Token, group_by_chunk

log = logging.getLogger(__name__)

ESTIMATE_CONFIDENCE = 0.2
FRAME = 0.02  # analysis window, seconds
HOP = 0.01
RELATIVE_DB = -35.0  # a frame is speech when louder than the loudest frame minus this
ABSOLUTE_DB = -55.0  # ...and louder than this (dBFS)
MIN_PAUSE = 0.12  # shorter quiet stretches are inside words (stops, closures)
MIN_SPEECH = 0.04


def speech_spans(samples: np.ndarray, sample_rate: int = SAMPLE_RATE, start: float = 0.0,
                 end: float | None = None) -> list[tuple[float, float]]:
    """Non-silent stretches (seconds) of samples[start:end], pauses shorter than MIN_PAUSE bridged."""
    end = len(samples) / sample_rate if end is None else end
    a, b = int(start * sample_rate), int(end * sample_rate)
    x = np.asarray(samples[a:b], dtype=np.float32)
    frame, hop = int(FRAME * sample_rate), int(HOP * sample_rate)
    if len(x) < frame:
        return []
    n = 1 + (len(x) - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    rms = np.sqrt(np.mean(x[idx] ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(rms)
    loud = db > max(ABSOLUTE_DB, float(db.max()) + RELATIVE_DB)
    spans: list[list[float]] = []
    for i in np.flatnonzero(loud):
        t0, t1 = start + i * HOP, start + i * HOP + FRAME
        if spans and t0 - spans[-1][1] < MIN_PAUSE:
            spans[-1][1] = t1
        else:
            spans.append([t0, t1])
    return [(s, min(e, end)) for s, e in spans if e - s >= MIN_SPEECH]


PUNCTUATION_PULL = 0.35  # a pause is this much "closer" to a word boundary that has punctuation


def _spread(tokens: Sequence[Token], spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Lay the words end to end over the speech time (pauses skipped), by length; then move
    each pause to the nearest word boundary, preferring boundaries at punctuation (speakers
    pause at commas and full stops), and spread each span's words over that span."""
    weights = np.array([t.weight for t in tokens], dtype=np.float64)
    lengths = np.array([e - s for s, e in spans])
    edges = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum() * lengths.sum()  # speech-time
    pauses = np.cumsum(lengths)[:-1]  # speech-time position of each pause
    punctuated = [False] + [tok.text[-1:] in ",.;:!?)\u2014\u2013-\"'\u201d" for tok in tokens[:-1]] + [True]
    bounds = [0]
    for p in pauses:
        candidates = range(bounds[-1], len(tokens) + 1)
        best = min(candidates, key=lambda b: abs(edges[b] - p) * (PUNCTUATION_PULL if punctuated[b] else 1.0))
        bounds.append(best)
    bounds.append(len(tokens))
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(tokens)
    for k, (s, e) in enumerate(spans):
        lo, hi = bounds[k], bounds[k + 1]
        if hi <= lo:
            continue  # a breath or a click: no words here
        w = np.concatenate([[0.0], np.cumsum(weights[lo:hi])]) / weights[lo:hi].sum()
        for i in range(lo, hi):
            out[i] = (s + (e - s) * w[i - lo], s + (e - s) * w[i - lo + 1])
    return out


def spread(tokens: Sequence[Token], samples: np.ndarray, start: float, end: float) -> list[tuple[float, float]]:
    """(start, end) of each token, spread over the speech of samples[start:end] (seconds) by length."""
    spans = speech_spans(samples, SAMPLE_RATE, start, end) or [(start, end)]
    return _spread(tokens, spans)


class EstimateBackend:
    name = "estimate"
    package = ""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def availability(self, language: str) -> Availability:
        return Availability.yes("always available: silence detection and text length (low confidence)")

    def load(self, language: str = "en") -> None:
        return None

    def align(self, request: AlignInput) -> BackendOutput:
        regions = group_by_chunk(request.tokens, request.chunk_hints, request.duration)
        times: list[Timed] = [None] * len(request.tokens)
        for start, end, members in regions:
            for i, (s, e) in zip(members, spread([request.tokens[i] for i in members], request.samples, start, end)):
                times[i] = (s, e, ESTIMATE_CONFIDENCE)
        return BackendOutput(times=times, interpolated=[False] * len(times), low_confidence=True,
                             note="word times are estimated from pauses and word lengths (no aligner was used)")
