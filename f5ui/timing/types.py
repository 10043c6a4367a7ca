"""Result types of word alignment; plain data, JSON-able through `to_dict()`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
    def from_dict(cls, data: dict[str, Any]) -> "AlignmentResult":
        return cls(
            words=[WordTiming(w["word"], float(w["start"]), float(w["end"]), float(w["confidence"]),
                              bool(w.get("interpolated", False))) for w in data["words"]],
            backend=data["backend"],
            attempts=[Attempt(a["backend"], a["status"], a["reason"]) for a in data.get("attempts", [])],
            duration=float(data.get("duration", 0.0)),
            low_confidence=bool(data.get("low_confidence", False)),
            warning=data.get("warning", ""),
        )


class BackendSkipped(Exception):
    """The backend does not apply to this request (language, missing credentials, ...)."""


class BackendFailed(Exception):
    """The backend ran and could not align; the message says why."""
