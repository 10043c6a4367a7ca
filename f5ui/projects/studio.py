"""Projects: one function per user action (create, run, pause, status, review a segment, export), for
the UI, the Gradio API and the CLI alike, over the database, the runner and the Studio.

Everything a request carries is checked here: project ids are 16 hex characters made by this studio
and segment ids are numbers (neither becomes a path by itself), an uploaded file must have been
uploaded (the Studio's FileGate), texts are cleaned, settings are checked against their ranges.
Every action takes the `caller` (f5ui.accounts) and asks `permit` first; the default is the process
itself (the CLI). A run's segments are then made as the process: the permission was checked when the
run was asked for."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

from ..accounts import EXPORT, OWNER, PROJECTS, Caller, permit
from ..errors import InputError, UserFacingError
from ..export.bundle import ExportResult, export_files
from ..export.subtitles import write_all
from ..service import EXPORT_FORMATS, Studio
from ..text import request_text
from . import book, script
from .assemble import Joined, join
from .database import Database, DatabaseProblem
from .files import CHAPTERS, SEGMENTS, ProjectFiles, check_project_id, new_project_id
from .importers import read_source
from .jobs import build_job, check_params, check_speakers, voice_for
from .makers import LocalMaker, SegmentJob, SegmentMaker
from .records import DONE, FLAGGED, LOCKED, PENDING, Chapter, Project, Segment
from .runner import Runner
from .store import ProjectStore, Take, now_iso

log = logging.getLogger(__name__)

MAX_NAME = 100
ACTIONS = ("regenerate", "lock", "unlock", "edit")
# One Projects per Studio (the app builds the UI from it, the server starts it): keyed weakly by the studio.
_BY_STUDIO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def projects_for(studio: Studio) -> Projects:
    """The studio's projects (made on first use)."""
    if studio not in _BY_STUDIO:
        _BY_STUDIO[studio] = Projects(studio)
    return _BY_STUDIO[studio]


def _json_arg(value: Any, what: str) -> Any:
    """A JSON object given as text (a form field) or already parsed (an API client)."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"The {what} are not valid JSON ({exc.msg} at character {exc.pos}).",
                             'Write a JSON object, e.g. {"Alice": {"voice": "Emma"}}.') from exc
    return value


def _segment_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or not str(value).strip().isdigit():
        raise InputError(f"{str(value)[:40]!r} is not a segment id.", "Use a segment's id from the project.")
    return int(str(value).strip())


class Projects:
    def __init__(self, studio: Studio, maker: SegmentMaker | None = None) -> None:
        self.studio = studio
        self.settings = studio.settings
        self.problem = ""  # why projects are off, when they are
        root = self.settings.writable_dir("projects")
        self.files = ProjectFiles(root)
        try:
            store = ProjectStore(Database(root))
        except DatabaseProblem as exc:
            store, self.problem = None, str(exc)
            log.error("Projects are off: %s", exc)
        self.maker = maker or LocalMaker(studio)
        workers = self.settings.concurrency * self.maker.inflight  # one project per model slot
        # Both None when projects are off: every action checks `problem` first (_ready).
        self.store: ProjectStore = store  # type: ignore[assignment]
        self.runner: Runner = Runner(store, self.files, self.maker, self._job, workers) if store else None  # type: ignore[assignment]

    def _ready(self, caller: Caller) -> ProjectStore:
        permit(caller, PROJECTS)
        if self.problem:
            raise UserFacingError(f"Projects are off: {self.problem}")
        return self.store

    def start(self) -> None:
        """At start: sweep what a killed process left half-made, and go on with interrupted runs."""
        if self.problem:
            return
        for project in self.store.projects():
            if self.runner.lease_is_stale(*self.store.lease(project.id)):  # not while another process runs it
                self.files.sweep(project.id, self.store.files(project.id))
            if project.state in ("running", "queued"):
                if self.settings.project_autoresume:
                    log.info("Project %s (%s) was running when the server stopped: resuming", project.id,
                             project.name)
                    self.runner.start(project.id)
                else:
                    self.store.update_project(project.id, state="paused",
                                              message="Stopped when the server stopped; run it to continue.")

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()

    # --- creating ------------------------------------------------------------------------------
    def create(self, file: str | Path | None, text: str, name: str, default_voice: str = "",
               speakers: Any = None, params: Any = None, caller: Caller = OWNER) -> dict[str, Any]:
        """A project from an uploaded file or pasted text; every speaker must have a voice (the unknown ones
        are listed with their line numbers before anything is made)."""
        store = self._ready(caller)
        path = self.studio.files.admit(file) if file else None
        name = " ".join(request_text(name, "The project name").split())[:MAX_NAME] or (
            path.stem[:MAX_NAME] if path else "Untitled")
        default_voice = " ".join(request_text(default_voice, "The default voice").split())
        if default_voice:
            default_voice = self.studio.voices.get(default_voice).name
        speakers = check_speakers(_json_arg(speakers, "speakers"))
        params = check_params(_json_arg(params, "project settings"))
        draft = read_source(path, request_text(text, "The text"), self.settings, title=name)
        segment_chars = max(20, min(self.settings.project_segment_chars, self.settings.max_chars))
        chapters = script.segment(draft, segment_chars)
        project = Project(new_project_id(), name, draft.kind, now_iso(), now_iso(), default_voice, speakers, params,
                          draft.title, draft.author, draft.language or self.settings.language)
        script.check_speakers(chapters, lambda s: self.studio.voices.find(voice_for(project, s)) is not None,
                              draft.unit, default_voice)
        if draft.cover is not None:
            project.cover = self._cover_from(project.id, *draft.cover)
        store.create(project, chapters)
        log.info("Project %s (%s): %d chapter(s), %d segment(s)", project.id, name, len(chapters),
                 sum(len(s) for _, s in chapters))
        return self.overview(project.id)

    def _cover_from(self, project_id: str, data: bytes, suffix: str) -> str:
        path = self.files.write_bytes(project_id, f"cover{suffix}", data)
        try:
            book.check_cover(path)
        except UserFacingError as exc:  # a broken cover in a good book: the book is still read
            log.warning("Project %s: the EPUB's cover is not used (%s)", project_id, exc)
            path.unlink(missing_ok=True)
            return ""
        return path.name

    # --- reading -------------------------------------------------------------------------------
    def project(self, project_id: Any, caller: Caller = OWNER) -> Project:
        return self._ready(caller).project(check_project_id(project_id))

    def list(self, caller: Caller = OWNER) -> list[dict[str, Any]]:
        return [{**p.public(), "segments": self.store.counts(p.id)["segments"]} for p in self._ready(caller).projects()]

    def overview(self, project_id: Any, caller: Caller = OWNER) -> dict[str, Any]:
        """The project with its chapters, its segments and the voice of each speaker."""
        project = self.project(project_id, caller)
        segments = self.store.segments(project.id)
        speakers = sorted({s.speaker for s in segments})
        return {**project.public(), "chapters": [{**c.public(), "segments": sum(s.chapter_id == c.id for s in segments)}
                                                 for c in self.store.chapters(project.id)],
                "segments": [s.public() for s in segments],
                "speakers": {speaker or "(untagged)": voice_for(project, speaker) for speaker in speakers}}

    def segments(self, project_id: Any, chapter_id: Any = None, caller: Caller = OWNER) -> list[dict[str, Any]]:
        project = self.project(project_id, caller)
        chapter = None if chapter_id in (None, "") else _segment_id(chapter_id)
        return [s.public() for s in self.store.segments(project.id, chapter)]

    def segment_info(self, project_id: Any, segment_id: Any, caller: Caller = OWNER) -> dict[str, Any]:
        project = self.project(project_id, caller)
        return self.store.segment(project.id, _segment_id(segment_id)).public()

    def chapters(self, project_id: Any, caller: Caller = OWNER) -> list[dict[str, Any]]:
        return [c.public() for c in self.store.chapters(self.project(project_id, caller).id)]

    def status(self, project_id: Any, caller: Caller = OWNER) -> dict[str, Any]:
        """Segments by status, audio made, the time left at the measured speed, the segment under way."""
        project = self.project(project_id, caller)
        counts = self.store.counts(project.id)
        per_char = self.store.seconds_per_char(project.id)
        left = counts["chars_left"]
        handle = self.runner.handle(project.id)
        return {"id": project.id, "name": project.name, "state": project.state, "message": project.message,
                "segments": counts["segments"], "total": sum(counts["segments"].values()),
                "audio_seconds": counts["audio_seconds"],
                "eta_seconds": round(left * per_char, 1) if left and per_char else (0.0 if not left else None),
                "current_segment": handle.current if handle else None, "made_this_run": handle.made if handle else 0}

    # --- running -------------------------------------------------------------------------------
    def run(self, project_id: Any, caller: Caller = OWNER) -> dict[str, Any]:
        project = self.project(project_id, caller)
        missing = sorted({voice_for(project, s.speaker) for s in self.store.segments(project.id)
                          if s.status == PENDING} - {v.name for v in self.studio.voice_list()})
        if missing:
            raise InputError(f"The project's voices {', '.join(map(repr, missing))} are not saved (any more).",
                             "Save voices of these names, or map the speakers to other voices.")
        self.runner.start(project.id)
        return self.status(project.id)

    def pause(self, project_id: Any, cancel: bool = False, caller: Caller = OWNER) -> dict[str, Any]:
        self.runner.stop(self.project(project_id, caller).id, cancel=bool(cancel))
        return self.status(project_id, caller)

    def _job(self, project: Project, segment: Segment, seed: int | None = None) -> SegmentJob:
        return build_job(project, segment, self.studio.voices, self.settings, seed)

    # --- reviewing -----------------------------------------------------------------------------
    def segment(self, project_id: Any, segment_id: Any, action: str, text: str | None = None,
                speaker: str | None = None, seed: Any = None, caller: Caller = OWNER) -> dict[str, Any]:
        """regenerate (a new seed, or `seed`), lock, unlock, or edit (`text`, `speaker`) one segment.
        A regenerated segment's chapter is joined again (that chapter only)."""
        project = self.project(project_id, caller)
        segment = self.store.segment(project.id, _segment_id(segment_id))
        if action not in ACTIONS:
            raise InputError(f"Unknown segment action {str(action)[:40]!r}.", f"Use one of: {', '.join(ACTIONS)}.")
        if action in ("regenerate", "edit") and segment.status == LOCKED:
            raise InputError(f"Segment {segment.id} is locked.", "Unlock it first.")
        if action == "lock":
            if not segment.has_audio:
                raise InputError(f"Segment {segment.id} has no audio to keep.", "Generate it first, then lock it.")
            self.store.update_segment(segment.id, status=LOCKED)
        elif action == "unlock" and segment.status == LOCKED:
            flagged = bool((segment.verdict or {}).get("flagged"))
            self.store.update_segment(segment.id, status=FLAGGED if flagged else DONE)
        elif action == "edit":
            self._edit(project, segment, text, speaker)
        elif action == "regenerate":
            self._regenerate(project, segment, seed)
        return self.store.segment(project.id, segment.id).public()

    def _edit(self, project: Project, segment: Segment, text: str | None, speaker: str | None) -> None:
        new_text = " ".join(request_text(text, "The text").split()) if text is not None else segment.text
        new_speaker = " ".join(request_text(speaker, "The speaker").split()) if speaker is not None else segment.speaker
        if not new_text:
            raise InputError("The segment's text is empty.", "Type what it should say.")
        if len(new_text) > self.settings.max_chars:
            raise InputError(f"The text is {len(new_text)} characters long; the maximum is {self.settings.max_chars}.",
                             "Split it, or shorten it.")
        if (new_speaker or project.default_voice) and self.studio.voices.find(voice_for(project, new_speaker)) is None:
            raise InputError(f"No saved voice speaks for {new_speaker!r}.", "Save a voice of that name, or pick one.")
        if new_text == segment.text and new_speaker == segment.speaker:
            return
        self.store.update_segment(segment.id, text=new_text, speaker=new_speaker, status=PENDING, audio="",
                                  duration=0.0, verdict="", timings="", error="")
        if segment.audio:
            self.files.path(project.id, SEGMENTS, segment.audio).unlink(missing_ok=True)

    def _regenerate(self, project: Project, segment: Segment, seed: Any) -> None:
        chosen = None if seed in (None, "", -1) else seed
        if chosen is not None and (isinstance(chosen, bool) or not isinstance(chosen, int)):
            raise InputError(f"seed = {seed!r} is not a whole number.", "Use 0 to 2147483647, or -1 for a new one.")
        with self.runner.claims.hold(segment.id) as free:
            if not free:
                raise InputError(f"Segment {segment.id} is being generated right now.", "Try again in a moment.")
            job = self._job(project, segment, chosen)
            started, clock = time.time(), time.perf_counter()
            output = self.maker.make(job, None)  # a person waits: the model's interactive priority
            take = Take(self.maker.name, started, time.perf_counter() - clock, output.duration, output.seed)
            if not self.runner.store_output(segment, output, take):
                raise InputError(f"Segment {segment.id} was changed while it was being made.", "Regenerate it again.")
        self.chapter(project.id, segment.chapter_id)

    def segment_audio(self, project_id: Any, segment_id: Any, caller: Caller = OWNER) -> Path | None:
        """A copy of the segment's audio among the outputs (served by an unguessable name), or None."""
        project = self.project(project_id, caller)
        segment = self.store.segment(project.id, _segment_id(segment_id))
        if not segment.has_audio:
            return None
        return self._served(self.files.path(project.id, SEGMENTS, segment.audio), f"segment-{segment.id}")

    def _served(self, path: Path, stem: str) -> Path:
        copy = self.studio.output_dir / f"{stem}-{uuid.uuid4().hex}.wav"
        shutil.copyfile(path, copy)
        return copy

    # --- chapters and export -------------------------------------------------------------------
    def chapter(self, project_id: Any, chapter_id: Any, served: bool = False, caller: Caller = OWNER) -> Joined:
        """The chapter joined from its segments that have audio; joined again only when one changed."""
        project = self.project(project_id, caller)
        chapter = next((c for c in self.store.chapters(project.id) if c.id == _segment_id(chapter_id)), None)
        if chapter is None:
            raise InputError(f"The project has no chapter {chapter_id}.", "Use a chapter id from the project.")
        joined = self._joined(project, chapter)
        if served:
            joined.path = self._served(joined.path, f"chapter-{chapter.position}")
        return joined

    def chapter_subtitles(self, project_id: Any, chapter_id: Any, srt_names: bool = False,
                          caller: Caller = OWNER) -> dict[str, Path]:
        """The chapter's word timings and subtitles with speaker names, among the outputs (unguessable names)."""
        joined = self.chapter(project_id, chapter_id, caller=caller)
        stem = f"chapter-{uuid.uuid4().hex}"
        return write_all(joined.alignment, self.studio.output_dir / "timings", stem, speakers=joined.speakers,
                         srt_names=srt_names)

    def _joined(self, project: Project, chapter: Chapter) -> Joined:
        segments = [s for s in self.store.segments(project.id, chapter.id) if s.has_audio]
        key = hashlib.sha256(json.dumps([project.timed, [(s.id, s.audio) for s in segments]]).encode()).hexdigest()
        name = f"{chapter.id}-{key[:16]}.wav"
        path = self.files.path(project.id, CHAPTERS, name)
        current = chapter.audio == name and path.is_file()
        if not current:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{name}.{uuid.uuid4().hex[:8]}.partial")  # two joins at once do not clash
        joined = join(segments, lambda s: self.files.path(project.id, SEGMENTS, s.audio),
                      lambda s: s.speaker or project.default_voice, path if current else partial, project.timed,
                      write=not current)
        if not current:
            partial.replace(path)
            joined.path = path
            self.store.set_chapter_audio(chapter.id, name, key, joined.duration)
            if chapter.audio and chapter.audio != name:
                self.files.path(project.id, CHAPTERS, chapter.audio).unlink(missing_ok=True)
            log.info("Project %s: chapter %d joined (%d segments, %.1f s)", project.id, chapter.position,
                     len(segments), joined.duration)
        return joined

    def export(self, project_id: Any, audio_format: str = "mp3", cover: str | Path | None = None,
               srt_names: bool = False, caller: Caller = OWNER) -> ExportResult:
        """Every chapter (WAV, `audio_format`, timing files with speaker names) and the book as an M4B with
        chapter markers, through the export store (S3 with links, or the local folder), manifest last."""
        from .export import export_project

        permit(caller, EXPORT)
        project = self.project(project_id, caller)
        if audio_format not in EXPORT_FORMATS:
            raise InputError(f"Unknown export format {audio_format!r}.", f"Use one of: {', '.join(EXPORT_FORMATS)}.")
        if not isinstance(srt_names, bool):
            raise InputError("srt_names must be true or false.", "Send a boolean.")
        segments = self.store.segments(project.id)
        missing = [s for s in segments if not s.has_audio]
        if missing:
            failed = sum(s.status == "failed" for s in missing)
            raise InputError(f"{len(missing)} of {len(segments)} segments have no audio yet ({failed} failed).",
                             "Run the project to the end (and regenerate failed segments), then export.")
        cover_path = self.studio.files.admit(cover) if cover else (
            self.files.path(project.id, "", project.cover) if project.cover else None)
        chapters = [book.BookChapter(c.position, c.title, self._joined(project, c))
                    for c in self.store.chapters(project.id)]
        with tempfile.TemporaryDirectory(prefix="f5ui-project-export-") as folder:
            files, manifest = export_project(project, chapters, segments, Path(folder), audio_format, cover_path,
                                             srt_names)
            return export_files(self.studio.exports, self.settings.s3_prefix, files, manifest)

    def delete(self, project_id: Any, caller: Caller = OWNER) -> None:
        project = self.project(project_id, caller)
        self.runner.stop(project.id, cancel=True)
        if not self.runner.wait(project.id, timeout=60):
            raise UserFacingError("The project's run did not stop in time.", "Try again in a minute.")
        self.store.delete(project.id)
        self.files.remove(project.id)
