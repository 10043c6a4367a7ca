"""What a project is made of, as plain data: what an importer read (Draft), and the rows the
database keeps (Project, Chapter, Segment). JSON-able through `public()`; never a server path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SegmentStatus = Literal["pending", "done", "flagged", "failed", "locked"]
PENDING: SegmentStatus = "pending"
DONE: SegmentStatus = "done"
FLAGGED: SegmentStatus = "flagged"  # still flagged by the take check after max_takes: for review
FAILED: SegmentStatus = "failed"
LOCKED: SegmentStatus = "locked"  # kept as it is: never regenerated
SEGMENT_STATUSES: tuple[SegmentStatus, ...] = (PENDING, DONE, FLAGGED, FAILED, LOCKED)
WITH_AUDIO: tuple[SegmentStatus, ...] = (DONE, FLAGGED, LOCKED)

RunState = Literal["idle", "queued", "running", "paused", "done", "cancelled"]
RUN_STATES: tuple[RunState, ...] = ("idle", "queued", "running", "paused", "done", "cancelled")
KINDS = ("text", "txt", "md", "epub", "srt", "vtt")
TIMED_KINDS = ("srt", "vtt")  # each cue a segment, placed at its cue time (dubbing)


# --- what an importer read ---------------------------------------------------------------------

@dataclass
class Paragraph:
    text: str
    line: int  # where it starts in the source (1-based), for messages
    cue: tuple[float, float] | None = None  # (start, end) s of a subtitle cue
    speaker: str = ""  # a speaker the format itself names (WebVTT <v Name>)


@dataclass
class DraftChapter:
    title: str
    paragraphs: list[Paragraph] = field(default_factory=list)


@dataclass
class Draft:
    kind: str  # one of KINDS
    chapters: list[DraftChapter]
    title: str = ""
    author: str = ""
    language: str = ""
    cover: tuple[bytes, str] | None = None  # image bytes and their suffix (.jpg, .png)
    unit: str = "line"  # what Paragraph.line counts, for messages: line, cue or paragraph


# --- what the database keeps -------------------------------------------------------------------

@dataclass
class Project:
    id: str
    name: str
    kind: str
    created: str
    updated: str
    default_voice: str
    speakers: dict[str, dict[str, Any]]  # speaker → {"voice", "speed", "seed"}
    params: dict[str, Any]  # generation settings (GenerationParams' fields; seed: the base seed or None)
    title: str = ""
    author: str = ""
    language: str = ""
    cover: str = ""  # file name in the project's folder
    state: RunState = "idle"
    message: str = ""  # why the last run stopped, when it did not finish

    @property
    def timed(self) -> bool:
        return self.kind in TIMED_KINDS

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "created": self.created, "updated": self.updated,
                "default_voice": self.default_voice, "speakers": self.speakers, "params": self.params,
                "title": self.title, "author": self.author, "language": self.language, "cover": bool(self.cover),
                "state": self.state, "message": self.message}


@dataclass
class Chapter:
    id: int
    project_id: str
    position: int
    title: str
    audio: str = ""  # the joined chapter's file name, when joined
    audio_key: str = ""  # which segment files it was joined from (rejoined only when they change)
    duration: float = 0.0

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "position": self.position, "title": self.title, "duration": round(self.duration, 3)}


@dataclass
class Segment:
    id: int
    project_id: str
    chapter_id: int
    position: int  # order in the whole project
    line: int
    speaker: str
    text: str
    status: SegmentStatus = PENDING
    seed: int | None = None  # chosen; None: from the speaker's or the project's seed, else random
    speed: float | None = None  # from a {"name", "speed"} tag; None: the speaker's or the project's
    cue_start: float | None = None
    cue_end: float | None = None
    audio: str = ""  # file name in the project's segments folder
    duration: float = 0.0
    used_seed: int | None = None
    chunk_seeds: list[int] = field(default_factory=list)
    verdict: dict[str, Any] | None = None  # the take check's report
    timings: dict[str, Any] | None = None  # word timings (AlignmentResult.to_dict())
    error: str = ""
    generated: str = ""  # when its audio was made

    @property
    def has_audio(self) -> bool:
        return self.status in WITH_AUDIO and bool(self.audio)

    def public(self) -> dict[str, Any]:
        verdict = self.verdict or {}
        return {"id": self.id, "chapter_id": self.chapter_id, "position": self.position, "line": self.line,
                "speaker": self.speaker, "text": self.text, "status": self.status, "seed": self.seed,
                "used_seed": self.used_seed, "chunk_seeds": self.chunk_seeds, "speed": self.speed,
                "cue": [self.cue_start, self.cue_end] if self.cue_start is not None else None,
                "duration": round(self.duration, 3), "error": self.error, "generated": self.generated,
                "word_accuracy": verdict.get("word_accuracy"), "similarity": verdict.get("similarity"),
                "flagged_words": [w.get("word") for w in verdict.get("flagged", [])],
                "notes": verdict.get("notes", [])}
