"""What every backend receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol, Sequence

import numpy as np

from ..packages import PackageProbe
from .words import Timed, Token

SAMPLE_RATE = 16000  # every backend works on 16 kHz mono (wav2vec2, pocketsphinx, Google LINEAR16)

ChunkHint = tuple[str, float, float]  # (chunk text, start s, end s), known at generation time


@dataclass
class AlignInput:
    samples: np.ndarray  # float32 mono, SAMPLE_RATE
    tokens: list[Token]
    transcript: str
    language: str  # ISO 639-1, lower case: "en"
    chunk_hints: Optional[Sequence[ChunkHint]] = None

    @property
    def duration(self) -> float:
        return len(self.samples) / float(SAMPLE_RATE)

    def pcm16(self) -> bytes:
        return (np.clip(self.samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


@dataclass
class BackendOutput:
    times: list[Timed]  # one per token; None = not timed by the backend (filled in later)
    interpolated: list[bool] = field(default_factory=list)  # per token, True where the backend itself spread times
    match_ratio: Optional[float] = None  # share of script words the backend recognized (None: not measured)
    low_confidence: bool = False
    note: str = ""  # why confidence is low, shown to the user


class Backend(Protocol):
    name: str

    def availability(self, language: str) -> tuple[bool, str]:
        """Cheap check (no model load, no network): can this backend run, and why not."""

    def load(self, language: str) -> None:
        """Load models now (for warm starts and benchmarks); align() loads lazily too."""

    def align(self, request: AlignInput) -> BackendOutput:
        """Raise BackendSkipped when it does not apply, BackendFailed (or any error) when it fails."""


class NeedsPackage:
    """For backends built on an optional package: `probe_import()` (diagnostics call it in the
    background) and `package_problem()` for the start of `availability()`."""

    _package: PackageProbe

    def probe_import(self) -> str:
        """Import the package for real ('' when it works, else why)."""
        return self._package.probe()

    def package_problem(self) -> str:
        """'' when the package is installed and importable (as far as known), else why not."""
        ok, reason = self._package.availability()
        return "" if ok else reason
