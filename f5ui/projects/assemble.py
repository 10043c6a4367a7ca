"""A chapter's audio and word timings from its segments: in order with a pause between them (a book),
or each at its cue's time (a subtitle project: dubbing). Written piece by piece, so memory holds
one segment (plus any overlap), never the chapter; the words of each segment shifted to where it
lands, each with its speaker's name for the subtitle writers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import read_audio
from ..schema import AlignmentResult, Attempt, WordTiming
from .records import Segment

log = logging.getLogger(__name__)

GAP_SECONDS = 0.5  # silence between two segments of a chapter
SAMPLE_RATE = 24000  # F5-TTS's output rate
OVERRUN_TOLERANCE = 0.05  # s a cue's speech may run past its end before it is listed as not fitting


@dataclass
class Joined:
    path: Path
    duration: float
    alignment: AlignmentResult
    speakers: list[str]  # one per word of `alignment`
    starts: dict[int, float] = field(default_factory=dict)  # segment id → where it starts, s
    overruns: list[int] = field(default_factory=list)  # dubbing: segments that run past their cue


class TrackWriter:
    """Samples placed at positions in a WAV written front to back; overlapping audio is mixed."""

    def __init__(self, path: Path, rate: int) -> None:
        self.rate = rate
        self.file = sf.SoundFile(str(path), "w", samplerate=rate, channels=1, format="WAV", subtype="PCM_16")
        self.written = 0  # samples flushed to the file
        self.buffer = np.zeros(0, dtype=np.float32)  # what follows `written`, not final yet

    def place(self, start: int, samples: np.ndarray) -> None:
        start = max(start, self.written)  # the past is written: a late piece starts where the file is
        if start > self.written + len(self.buffer):
            self.buffer = np.concatenate([self.buffer, np.zeros(start - self.written - len(self.buffer), np.float32)])
        offset = start - self.written
        self.file.write(np.clip(self.buffer[:offset], -1.0, 1.0))  # nothing placed later can reach before `start`
        self.buffer, self.written = self.buffer[offset:], start
        end = len(samples)
        if end > len(self.buffer):
            self.buffer = np.concatenate([self.buffer, np.zeros(end - len(self.buffer), np.float32)])
        self.buffer[:end] += samples.astype(np.float32)

    @property
    def end(self) -> int:
        return self.written + len(self.buffer)

    def close(self, total: int | None = None) -> int:
        if total is not None and total > self.end:
            self.buffer = np.concatenate([self.buffer, np.zeros(total - self.end, np.float32)])
        self.file.write(np.clip(self.buffer, -1.0, 1.0))
        self.written += len(self.buffer)
        self.file.close()
        return self.written


def starts(segments: list[Segment], timed: bool = False, gap: float = GAP_SECONDS) -> tuple[list[int], int]:
    """Where each segment starts (samples) and the track's length: at its cue (`timed`; the track lasts
    to the last cue's end at least), else one after another with `gap` between. From the segments'
    recorded lengths, so a chapter already joined need not be read again."""
    out, cursor, end = [], 0, 0
    for segment in segments:
        length = int(round(segment.duration * SAMPLE_RATE))
        if timed and segment.cue_start is not None:
            start = int(round(segment.cue_start * SAMPLE_RATE))
        else:
            start = cursor + (int(round(gap * SAMPLE_RATE)) if out else 0)
        out.append(start)
        cursor = start + length
        end = max(end, cursor)
    if timed:
        end = max(end, int(round(max((s.cue_end or 0.0 for s in segments), default=0.0) * SAMPLE_RATE)))
    return out, end


def join(segments: list[Segment], audio_of: Callable[[Segment], Path], speaker_of: Callable[[Segment], str],
         path: Path, timed: bool = False, write: bool = True) -> Joined:
    """The segments (all with audio) as one track at `path` (written unless `write` is off: it is there
    already) with their words where they land."""
    placed, total = starts(segments, timed)
    if write:
        writer = TrackWriter(path, SAMPLE_RATE)
        try:
            for segment, start in zip(segments, placed):
                audio = read_audio(audio_of(segment))
                samples = audio.samples if audio.sample_rate == SAMPLE_RATE else _resample(audio.samples,
                                                                                           audio.sample_rate)
                writer.place(start, samples)
            writer.close(total)
        except BaseException:
            writer.file.close()
            raise
    words: list[WordTiming] = []
    speakers: list[str] = []
    for segment, start in zip(segments, placed):
        name = speaker_of(segment)
        for word in _words(segment, start / SAMPLE_RATE):
            words.append(word)
            speakers.append(name)
    overruns = [s.id for s in segments if timed and s.cue_start is not None and s.cue_end is not None
                and s.duration > s.cue_end - s.cue_start + OVERRUN_TOLERANCE]
    missing = sum(1 for s in segments if not s.timings)
    warning = f"{missing} segment(s) have no word timings." if missing else ""
    duration = total / SAMPLE_RATE
    alignment = AlignmentResult(words, "project", [Attempt("project", "used", "joined from the segments' timings")],
                                duration, any(w.interpolated for w in words), warning)
    return Joined(path, duration, alignment, speakers, {s.id: p / SAMPLE_RATE for s, p in zip(segments, placed)},
                  overruns)


def _words(segment: Segment, offset: float) -> list[WordTiming]:
    if not segment.timings:
        return []
    timed = AlignmentResult.from_dict(segment.timings)
    return [WordTiming(w.word, w.start + offset, w.end + offset, w.confidence, w.interpolated) for w in timed.words]


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import resample_poly

    return resample_poly(samples, SAMPLE_RATE, rate).astype(np.float32)
