"""Speech with its pauses cut out, and the way back to the original timeline.

pocketsphinx may explain a stretch of synthetic speech as silence and then lose the
text; with the pauses gone it has nothing to put silence on. Both the word check and
the aligner's second pass decode squeezed audio and map the frames back."""

from __future__ import annotations

import numpy as np

from .base import SAMPLE_RATE
from .estimate import speech_spans

PAD = 0.03  # seconds kept around each stretch of speech
FRAME = SAMPLE_RATE // 100  # pocketsphinx's 10 ms frame, in samples


def squeeze(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The speech with its pauses cut out, and for every 10 ms frame of it the original time
    (both empty when there is no speech at all)."""
    spans = speech_spans(samples, SAMPLE_RATE)
    if not spans:
        return np.zeros(0, dtype=np.float32), np.zeros(0)
    cuts = [(max(0, int((start - PAD) * SAMPLE_RATE)), min(len(samples), int((end + PAD) * SAMPLE_RATE)))
            for start, end in spans]
    squeezed = np.concatenate([samples[a:b] for a, b in cuts])
    # Frames run over the joined pieces, so a frame's sample is found in the piece that holds it.
    starts = np.array([a for a, _ in cuts])
    ends = np.cumsum([b - a for a, b in cuts])  # where each piece ends in the squeezed audio
    frames = np.arange(0, len(squeezed), FRAME)
    piece = np.searchsorted(ends, frames, side="right")
    begins = np.concatenate([[0], ends[:-1]])  # where each piece begins there
    return squeezed, (starts[piece] + frames - begins[piece]) / SAMPLE_RATE


def original_time(timeline: np.ndarray, frame: int) -> float:
    """Seconds in the original audio of a frame of the squeezed audio."""
    if len(timeline) == 0:
        return 0.0
    return round(float(timeline[min(max(frame, 0), len(timeline) - 1)]), 3)
