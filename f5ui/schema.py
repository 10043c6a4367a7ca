"""Every result and request type shared between rooms (the engine, timing, export, diagnostics,
the UI, the API and the CLI), in one place as whisperX keeps its `schema.py`. Plain data,
JSON-able through `to_dict()`/`as_dict()`; this module imports nothing of f5ui."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

# --- requests --------------------------------------------------------------------------------

Progress = Callable[[float, str], None]  # (fraction done 0..1, what is happening)


@dataclass(frozen=True)
class GenerationParams:
    """Knobs of one generation; ranges are checked by `engine.synthesis.validate_request`."""

    speed: float = 1.0
    nfe_step: int = 32
    cfg_strength: float = 2.0
    cross_fade: float = 0.15
    seed: int | None = None  # None: pick a random seed and report it
    remove_silence: bool = False
    max_takes: int = 0  # takes of a flagged chunk at most; 0: the server's default (F5UI_MAX_TAKES)
    normalize_loudness: bool = False  # to F5UI_LOUDNESS_TARGET


# --- the model service -----------------------------------------------------------------------

ModelState = Literal["idle", "loading", "ready", "failed"]
IDLE: ModelState = "idle"
LOADING: ModelState = "loading"
READY: ModelState = "ready"
FAILED: ModelState = "failed"


@dataclass(frozen=True)
class ServiceStatus:
    state: ModelState
    detail: str
    fix: str = ""
    device: str = ""
    load_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- synthesis -------------------------------------------------------------------------------

ChunkHint = tuple[str, float, float]  # (chunk text, start s, end s) of a generated chunk in the output


@dataclass
class PreparedReference:
    """A reference voice after conversion, clipping and transcription, ready for F5."""

    audio_path: str
    text: str
    duration: float
    notices: list[str] = field(default_factory=list)  # e.g. "clipped to 12 s"

    def cache_key(self) -> str:
        """Names this reference's content for the caches built from it (its tensors on the device, its
        speaker embedding): a saved voice overwritten in place keeps its path, so the file's version counts."""
        stat = os.stat(self.audio_path)
        return f"{self.audio_path}|{stat.st_mtime_ns}|{stat.st_size}|{self.text}"


# --- word timings ----------------------------------------------------------------------------

AttemptStatus = Literal["used", "skipped", "failed"]


def _f(value: Any, digits: int = 3) -> float:
    """A plain Python float (backends hand back numpy floats, which json cannot write)."""
    return round(float(value), digits)


@dataclass
class WordTiming:
    word: str  # as written in the script, punctuation attached ("nature,")
    start: float  # seconds from the start of the audio
    end: float
    confidence: float  # 0..1; backend score, or a fixed low value for estimated/interpolated times
    interpolated: bool = False  # True: the backend gave no time for this word; it was filled in

    def to_dict(self) -> dict[str, Any]:
        return {"word": str(self.word), "start": _f(self.start), "end": _f(self.end),
                "confidence": _f(self.confidence), "interpolated": bool(self.interpolated)}


@dataclass
class Attempt:
    backend: str
    status: AttemptStatus
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "status": self.status, "reason": self.reason}


@dataclass
class AlignmentResult:
    words: list[WordTiming]
    backend: str
    attempts: list[Attempt] = field(default_factory=list)  # every backend tried, in order, the used one last
    duration: float = 0.0  # of the audio, seconds
    low_confidence: bool = False
    warning: str = ""  # shown to the user when non-empty

    def to_dict(self) -> dict[str, Any]:
        return {
            "words": [w.to_dict() for w in self.words],
            "backend": self.backend,
            "attempts": [a.to_dict() for a in self.attempts],
            "duration": _f(self.duration),
            "low_confidence": bool(self.low_confidence),
            "warning": self.warning,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlignmentResult:
        return cls(
            words=[WordTiming(w["word"], float(w["start"]), float(w["end"]), float(w["confidence"]),
                              bool(w.get("interpolated", False))) for w in data["words"]],
            backend=data["backend"],
            attempts=[Attempt(a["backend"], a["status"], a["reason"]) for a in data.get("attempts", [])],
            duration=float(data.get("duration", 0.0)),
            low_confidence=bool(data.get("low_confidence", False)),
            warning=data.get("warning", ""),
        )


WordStatus = Literal["spoken", "missing", "repeated", "garbled"]


@dataclass
class WordVerdict:
    """What a take did with one word of its script."""

    word: str  # as written in the script
    status: WordStatus
    start: float  # where it was said (for "missing": where it should have been), seconds
    end: float
    repeats: int = 0  # extra times it was said
    checked: bool = True  # False: the checker could not judge it (not in its dictionary)

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.word, "status": self.status, "start": _f(self.start), "end": _f(self.end),
                "repeats": self.repeats, "checked": self.checked}


@dataclass
class TakeVerdict:
    """The check of one take of a chunk (or of any audio against its script)."""

    words: list[WordVerdict] = field(default_factory=list)
    similarity: float | None = None  # cosine of speaker embeddings, take vs reference
    checked: bool = True  # False: no word check ran (its reason is in the report's notes)
    note: str = ""  # what the check could not do for this take (its deadline stopped it)

    def flagged(self, status: WordStatus) -> list[str]:
        return [w.word for w in self.words if w.status == status]

    @property
    def ok(self) -> bool:
        return all(w.status == "spoken" for w in self.words)

    @property
    def score(self) -> tuple[int, int, float]:
        """Lower is better: missing words first, then repeated or garbled ones, then (higher) similarity."""
        missing = len(self.flagged("missing"))
        other = len(self.flagged("repeated")) + len(self.flagged("garbled"))
        return missing, other, -(self.similarity if self.similarity is not None else 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"missing": self.flagged("missing"), "repeated": self.flagged("repeated"),
                "garbled": self.flagged("garbled"), "similarity": self.similarity, "checked": self.checked,
                **({"note": self.note} if self.note else {})}


@dataclass
class ChunkTake:
    seed: int
    verdict: TakeVerdict | None  # None: nothing checked it


@dataclass
class ChunkReport:
    """Every take tried for one chunk, and which one was kept (the best by TakeVerdict.score)."""

    index: int
    text: str
    takes: list[ChunkTake]
    chosen: int  # index into takes

    @property
    def kept(self) -> ChunkTake:
        return self.takes[self.chosen]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "text": self.text, "chosen": self.chosen,
                "takes": [{"seed": t.seed, **(t.verdict.to_dict() if t.verdict else {"checked": False})}
                          for t in self.takes]}


@dataclass
class QualityReport:
    """How a take came out: every word's verdict (with times in the take), word accuracy, speaker
    similarity to the reference, loudness, and per chunk the takes tried."""

    words: list[WordVerdict] = field(default_factory=list)
    word_accuracy: float | None = None  # share of checked words spoken once and clearly
    similarity: float | None = None
    loudness: dict[str, Any] = field(default_factory=dict)
    chunks: list[ChunkReport] = field(default_factory=list)
    method: str = ""  # how the words were checked
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why

    def flagged(self) -> list[WordVerdict]:
        return [w for w in self.words if w.status != "spoken"]

    def to_dict(self) -> dict[str, Any]:
        return {"word_accuracy": self.word_accuracy, "similarity": self.similarity, "loudness": self.loudness,
                "flagged": [w.to_dict() for w in self.flagged()], "words": [w.to_dict() for w in self.words],
                "chunks": [c.to_dict() for c in self.chunks], "method": self.method, "notes": self.notes}


@dataclass
class TimedAudio:
    """Word timings of one audio file and the subtitle files written from them."""

    audio_path: Path
    alignment: AlignmentResult
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
    chunk_spans: list[ChunkHint]  # where each chunk lies in the output audio
    notices: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)  # stage → seconds, for benchmarks and logs
    timing: TimedAudio | None = None  # word timings, when requested and possible
    chunk_seeds: list[int] = field(default_factory=list)  # the seed of each chunk, to reproduce the take
    chunk_reports: list[ChunkReport] = field(default_factory=list)  # the takes tried per chunk
    quality: QualityReport | None = None


# --- diagnostics -----------------------------------------------------------------------------

CheckStatus = Literal["ok", "warn", "error", "off"]
OK: CheckStatus = "ok"
WARN: CheckStatus = "warn"
ERROR: CheckStatus = "error"
OFF: CheckStatus = "off"
STATUSES: tuple[CheckStatus, ...] = (OK, WARN, ERROR, OFF)
MAX_CHECK_TEXT = 500
_PEM = re.compile(r"-----BEGIN [A-Z ]*-----.*?(?:-----END [A-Z ]*-----|$)", re.S)


def one_line(text: str) -> str:
    """One line of at most MAX_CHECK_TEXT characters, with any PEM block (a pasted key) removed."""
    text = " ".join(_PEM.sub("[key removed]", str(text)).split())
    return text if len(text) <= MAX_CHECK_TEXT else text[: MAX_CHECK_TEXT - 1] + "…"


@dataclass(frozen=True)
class Check:
    """One line of the diagnostics report. Anything not ok carries a concrete fix."""

    name: str
    group: str
    status: CheckStatus
    detail: str  # one line
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"check {self.name!r}: status must be one of {STATUSES}, not {self.status!r}")
        object.__setattr__(self, "detail", one_line(self.detail))
        object.__setattr__(self, "fix", one_line(self.fix))
        if self.status != OK and not self.fix:
            raise ValueError(f"check {self.name!r} is {self.status} and needs a fix hint")

    def as_dict(self) -> dict[str, str]:
        return asdict(self)
