"""Result and request types shared by the engine, the UI, the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .timing.types import AlignmentResult


@dataclass(frozen=True)
class GenerationParams:
    """Knobs of one generation; ranges are checked by `engine.synthesis.validate_params`."""

    speed: float = 1.0
    nfe_step: int = 32
    cfg_strength: float = 2.0
    cross_fade: float = 0.15
    seed: int | None = None  # None: pick a random seed and report it
    remove_silence: bool = False


@dataclass
class PreparedReference:
    """A reference voice after conversion, clipping and transcription, ready for F5."""

    audio_path: str
    text: str
    duration: float
    notices: list[str] = field(default_factory=list)  # e.g. "clipped to 12 s"


@dataclass
class TimedAudio:
    """Word timings of one audio file and the subtitle files written from them."""

    audio_path: Path
    alignment: "AlignmentResult"
    files: dict[str, Path]  # srt_words, srt_phrases, vtt, json, csv, ass


@dataclass
class SynthesisResult:
    audio_path: Path
    sample_rate: int
    duration: float
    seed: int
    ref_text: str
    spectrogram_path: Path | None
    text: str  # the text that was spoken (cleaned)
    chunks: list[str]
    chunk_spans: list[tuple[str, float, float]]  # (chunk text, start s, end s) in the output audio
    notices: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)  # stage → seconds, for benchmarks and logs
    timing: TimedAudio | None = None  # word timings, when requested and possible
