"""What every backend is, receives and returns. Backend-internal types live here; the result
types every room shares (WordTiming, Attempt, AlignmentResult, ChunkHint) are in f5ui.schema."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np

from ..audio import SPEECH_RATE
from ..codecs import pcm16
from ..config import Settings
from ..packages import PackageProbe
from ..schema import ChunkHint
from .words import Timed, Token

SAMPLE_RATE = SPEECH_RATE  # every backend works on 16 kHz mono (wav2vec2, pocketsphinx, Google LINEAR16)


@dataclass
class AlignInput:
    samples: np.ndarray  # float32 mono, SAMPLE_RATE
    tokens: list[Token]
    transcript: str
    language: str  # ISO 639-1, lower case: "en"
    chunk_hints: Sequence[ChunkHint] | None = None

    @property
    def duration(self) -> float:
        return len(self.samples) / float(SAMPLE_RATE)

    def pcm16(self) -> bytes:
        return pcm16(self.samples)


@dataclass
class BackendOutput:
    times: list[Timed]  # one per token; None = not timed by the backend (filled in later)
    interpolated: list[bool] = field(default_factory=list)  # per token, True where the backend itself spread times
    match_ratio: float | None = None  # share of script words the backend recognized (None: not measured)
    low_confidence: bool = False
    note: str = ""  # why confidence is low, shown to the user
    stopped: str = ""  # why the backend stopped before the end (its deadline), when it did


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run now, why not, and what makes it run: what the chain's attempts
    and the status panel both say."""

    ok: bool
    reason: str
    fix: str = ""  # for the operator, when not ok

    @classmethod
    def yes(cls, reason: str) -> Availability:
        return cls(True, reason)

    @classmethod
    def no(cls, reason: str, fix: str) -> Availability:
        return cls(False, reason, fix)


class Backend(Protocol):
    name: ClassVar[str]
    package: ClassVar[str]  # pip name of what it runs on ("" for none)

    def __init__(self, settings: Settings) -> None: ...

    def availability(self, language: str) -> Availability:
        """Cheap (no model load, no network): can this backend run for `language`, and if not, the fix."""

    def load(self, language: str) -> None:
        """Load models now (for warm starts and benchmarks); align() loads lazily too."""

    def align(self, request: AlignInput) -> BackendOutput:
        """Called only when available. Raise BackendSkipped when this request is not for it,
        BackendFailed (or any error) when it fails."""


class NeedsPackage:
    """For backends built on an optional package: `probe_import()` (diagnostics call it in the
    background) and `package_availability()` for the start of `availability()`."""

    package: ClassVar[str]  # pip name, for the messages
    module: ClassVar[str]  # what find_spec looks for
    probe_module: ClassVar[str | None] = None  # what probe_import() imports, when not `module`

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._package = PackageProbe(self.module, self.package, self.probe_module)
        self._lock = threading.Lock()  # the backend's models are made once and not re-entrant

    def probe_import(self) -> str:
        """Import the package for real ('' when it works, else why)."""
        return self._package.probe()

    def package_availability(self) -> Availability | None:
        """None when the package is installed and importable (as far as known), else why not and the fix."""
        ok, reason = self._package.availability()
        if ok:
            return None
        if "cannot be imported" in reason:
            fix = (f"Reinstall it in the app's environment: pip install --force-reinstall {self.package} "
                   "(meanwhile the next aligner in F5UI_ALIGNERS times the words).")
        else:
            fix = (f"pip install {self.package} (the pinned requirements include it); the next aligner is used "
                   "meanwhile.")
        return Availability.no(reason, fix)
