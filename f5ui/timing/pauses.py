"""Speech with its pauses cut out, and the way back to the original timeline.

pocketsphinx may explain a stretch of synthetic speech as silence and then lose the
text; with the pauses gone it has nothing to put silence on. Both the word check and
the aligner's second pass decode squeezed audio and map the frames back."""

from __future__ import annotations

import numpy as np

from .base import SAMPLE_RATE, pcm16

__all__ = ["original_time", "pcm16", "squeeze"]
from .estimate import speech_spans

PAD = 0.03  # seconds kept around each stretch of speech
FRAME = SAMPLE_RATE // 100  # pocketsphinx's 10 ms frame, in samples


def squeeze(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The speech with its pauses cut out, and for every 10 ms frame of it the original time
    (both empty when there is no speech at all)."""
    spans = speech_spans(samples, SAMPLE_RATE)
    if not spans:
        return np.zeros(0, dtype=np.float32), np.zeros(0)
    pieces, times = [], []
    for start, end in spans:
        a, b = max(0, int((start - PAD) * SAMPLE_RATE)), min(len(samples), int((end + PAD) * SAMPLE_RATE))
        pieces.append(samples[a:b])
        times.append(np.arange(a, b, FRAME) / SAMPLE_RATE)
    return np.concatenate(pieces), np.concatenate(times)


def original_time(timeline: np.ndarray, frame: int) -> float:
    """Seconds in the original audio of a frame of the squeezed audio."""
    if len(timeline) == 0:
        return 0.0
    return round(float(timeline[min(max(frame, 0), len(timeline) - 1)]), 3)
