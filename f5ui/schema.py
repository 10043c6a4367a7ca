"""Result and request types shared by the engine, the UI, the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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
class SynthesisResult:
    audio_path: Path
    sample_rate: int
    duration: float
    seed: int
    ref_text: str
    spectrogram_path: Path | None
    chunks: list[str]
    notices: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)  # stage → seconds, for benchmarks and logs
