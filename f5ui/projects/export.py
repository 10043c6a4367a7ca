"""What a project's export holds, and its manifest: the chapters' files, the M4B (when ffmpeg is
there; without it the chapters are exported and the manifest says why there is no M4B), the cover,
and warnings a listener would want first: segments still flagged, cues whose speech did not fit."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from . import book
from .records import FLAGGED, Project, Segment

M4B_NAME = "book.m4b"


def export_project(project: Project, chapters: list[book.BookChapter], segments: list[Segment], work: Path,
                   audio_format: str, cover: Path | None, srt_names: bool) -> tuple[list[tuple[str, Path]], dict]:
    """(name, path) of every file to export, written in `work`, and the manifest describing them."""
    files: list[tuple[str, Path]] = []
    for chapter in chapters:
        files += book.chapter_files(chapter, work, audio_format, srt_names)
    cover_copy = None
    if cover is not None:
        cover_copy = work / f"cover{book.check_cover(cover)}"
        shutil.copyfile(cover, cover_copy)
    notes: list[str] = []
    m4b: dict[str, Any] = {}
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        out = work / M4B_NAME
        found = book.write_m4b(chapters, out, project.title or project.name, project.author, cover_copy)
        files.append((M4B_NAME, out))
        m4b = {"file": M4B_NAME, "chapters": found, "cover": cover_copy is not None}
    else:
        notes.append("No M4B: ffmpeg (with ffprobe) is not installed on the server; apt-get install ffmpeg.")
    if cover_copy is not None:
        files.append((cover_copy.name, cover_copy))
    flagged = [s.id for s in segments if s.status == FLAGGED or (s.verdict or {}).get("flagged")]
    overruns = [i for c in chapters for i in c.joined.overruns]
    by_id = {s.id: s for s in segments}
    warnings = []
    if flagged:
        warnings.append(f"{len(flagged)} segment(s) were still flagged by the take check: {flagged[:50]}")
    if overruns:
        listed = ", ".join(f"#{i} ({by_id[i].cue_start:.2f}–{by_id[i].cue_end:.2f} s, speech "
                           f"{by_id[i].duration:.2f} s)" for i in overruns[:50])
        warnings.append(f"{len(overruns)} cue(s) could not fit even at the fastest speed allowed: {listed}")
    manifest = {
        "kind": "project",
        "project": {"id": project.id, "name": project.name, "source": project.kind, "title": project.title,
                    "author": project.author, "language": project.language, "default_voice": project.default_voice,
                    "speakers": project.speakers, "settings": project.params},
        "chapters": [{"number": c.number, "title": c.title, "file": f"{book.stem(c.number)}.wav",
                      "duration": round(c.joined.duration, 3), "words": len(c.joined.alignment.words),
                      "speakers": sorted(set(c.joined.speakers))} for c in chapters],
        "segments": [{"id": s.id, "chapter": s.chapter_id, "speaker": s.speaker, "status": s.status,
                      "seed": s.used_seed, "chunk_seeds": s.chunk_seeds, "duration": round(s.duration, 3),
                      **({"cue": [s.cue_start, s.cue_end]} if s.cue_start is not None else {})} for s in segments],
        "audio": {"format": audio_format, "duration": round(sum(c.joined.duration for c in chapters), 3)},
        "m4b": m4b, "warnings": warnings, "notes": notes,
    }
    return files, manifest
