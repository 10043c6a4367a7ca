"""Where a segment is generated: the one replaceable piece of a run. A maker takes a SegmentJob
(everything a generation needs, by value: text, voice name, settings, seed) and returns a
SegmentOutput (a WAV file and what the take check and the aligner said). The runner does the rest
(order, storing, progress) the same for every maker.

`LocalMaker` runs the job on this process's model through Studio.generate, the function every
surface uses (take check with regeneration of flagged chunks, word timings), as background work:
it takes the model only while no interactive request waits, and stops at the next chunk when the
run is paused. A remote maker (RunPod serverless jobs) keeps several jobs in flight (`inflight`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..schema import GenerationParams
from ..service import Studio
from ..streaming import Cancelled


@dataclass(frozen=True)
class SegmentJob:
    project_id: str
    segment_id: int
    text: str
    voice: str  # a saved voice's name
    params: GenerationParams  # its seed is always set, so the take can be reproduced
    language: str = ""


@dataclass
class SegmentOutput:
    audio: Path  # a WAV the maker wrote; the runner moves it into the project
    duration: float
    seed: int
    chunk_seeds: list[int] = field(default_factory=list)
    quality: dict[str, Any] | None = None  # the take check's report (None: not checked)
    flagged: bool = False  # still flagged after max_takes: for review
    timings: dict[str, Any] | None = None  # word timings (AlignmentResult.to_dict())
    notices: list[str] = field(default_factory=list)


class SegmentMaker(Protocol):
    name: str  # recorded with every take
    inflight: int  # segments it works on at once

    def make(self, job: SegmentJob, stop: threading.Event | None) -> SegmentOutput:
        """Generate one segment; raise UserFacingError when it cannot, Cancelled when `stop` is set.
        `stop` None: a person asked for this one segment and waits for it (not background work)."""
        ...


class LocalMaker:
    name = "local"
    inflight = 1  # one model per process; background work yields to requests between segments

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def make(self, job: SegmentJob, stop: threading.Event | None) -> SegmentOutput:
        def on_audio(_samples: np.ndarray, _rate: int) -> None:  # called after every chunk
            if stop is not None and stop.is_set():
                raise Cancelled("the run was paused")

        if stop is not None:  # background work waits for the model's load here, not while holding its slot
            self.studio.model.get()
        result = self.studio.generate(None, "", job.text, job.params, word_timings=True, voice=job.voice,
                                      on_audio=on_audio, background=stop)
        report = result.quality
        return SegmentOutput(Path(result.audio_path), result.duration, result.seed, list(result.chunk_seeds),
                             report.to_dict() if report else None, bool(report and report.flagged()),
                             result.timing.alignment.to_dict() if result.timing else None, list(result.notices))
