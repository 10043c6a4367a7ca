"""Reading and writing projects, chapters, segments and takes in the database. Each method is one
transaction; `finish` marks a segment made and records its take together, after its audio file
is in place, so a segment is never marked done without its file, and a file without its row is
just an orphan (removed at the next start)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .database import Database
from .records import FAILED, LOCKED, PENDING, WITH_AUDIO, Chapter, Project, Segment

SPEED_SAMPLE = 50  # recent takes the time-left estimate averages over


@dataclass
class NewSegment:
    line: int
    speaker: str
    text: str
    seed: int | None = None
    speed: float | None = None
    cue_start: float | None = None
    cue_end: float | None = None


@dataclass
class Take:
    """A completed generation of a segment, as recorded with it."""

    maker: str  # which maker made it ("local"; a remote endpoint later)
    started: float  # epoch s
    seconds: float  # wall time it took
    audio_seconds: float
    seed: int | None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _loads(text: str, empty: Any = None) -> Any:
    return json.loads(text) if text else empty


def _project(row: sqlite3.Row) -> Project:
    return Project(row["id"], row["name"], row["kind"], row["created"], row["updated"], row["default_voice"],
                   _loads(row["speakers"], {}), _loads(row["params"], {}), row["title"], row["author"],
                   row["language"], row["cover"], row["state"], row["message"])


def _chapter(row: sqlite3.Row) -> Chapter:
    return Chapter(row["id"], row["project_id"], row["position"], row["title"], row["audio"], row["audio_key"],
                   row["duration"])


def _segment(row: sqlite3.Row) -> Segment:
    return Segment(row["id"], row["project_id"], row["chapter_id"], row["position"], row["line"], row["speaker"],
                   row["text"], row["status"], row["seed"], row["speed"], row["cue_start"], row["cue_end"],
                   row["audio"], row["duration"], row["used_seed"], _loads(row["chunk_seeds"], []),
                   _loads(row["verdict"]), _loads(row["timings"]), row["error"], row["generated"])


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ProjectStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- projects ------------------------------------------------------------------------------
    def create(self, project: Project, chapters: list[tuple[str, list[NewSegment]]]) -> None:
        """The project with all its chapters and segments, in one transaction."""
        with self.db.writing() as conn:
            conn.execute("INSERT INTO projects (id, name, kind, created, updated, default_voice, speakers, params, "
                         "title, author, language, cover, state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         (project.id, project.name, project.kind, project.created, project.updated,
                          project.default_voice, _json(project.speakers), _json(project.params), project.title,
                          project.author, project.language, project.cover, project.state))
            position = 0
            for number, (title, segments) in enumerate(chapters, start=1):
                chapter_id = conn.execute("INSERT INTO chapters (project_id, position, title) VALUES (?,?,?)",
                                          (project.id, number, title)).lastrowid
                conn.executemany(
                    "INSERT INTO segments (project_id, chapter_id, position, line, speaker, text, seed, speed, "
                    "cue_start, cue_end) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [(project.id, chapter_id, position + i, s.line, s.speaker, s.text, s.seed, s.speed, s.cue_start,
                      s.cue_end) for i, s in enumerate(segments, start=1)])
                position += len(segments)

    def project(self, project_id: str) -> Project:
        with self.db.reading() as conn:
            row = conn.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
        if row is None:
            raise InputError(f"There is no project {project_id!r}.", "Pick one of the projects (the Projects tab and "
                             "the projects endpoint list them), or create one.")
        return _project(row)

    def projects(self) -> list[Project]:
        with self.db.reading() as conn:
            return [_project(r) for r in conn.execute("SELECT * FROM projects ORDER BY created DESC, name")]

    def update_project(self, project_id: str, **fields: Any) -> None:
        encoded = {k: _json(v) if k in ("speakers", "params") else v for k, v in fields.items()}
        encoded["updated"] = now_iso()
        columns = ", ".join(f"{name} = ?" for name in encoded)
        with self.db.writing() as conn:
            conn.execute(f"UPDATE projects SET {columns} WHERE id = ?", (*encoded.values(), project_id))

    def delete(self, project_id: str) -> None:
        with self.db.writing() as conn:
            conn.execute("DELETE FROM projects WHERE id = ?", (project_id,))

    # --- run leases: one runner per project, also across processes --------------------------------
    def claim(self, project_id: str, token: str, stale: Iterable[str]) -> bool:
        """Take the project's run lease unless another live runner holds it (`stale`: leases known dead)."""
        with self.db.writing() as conn:
            lease = conn.execute("SELECT lease FROM projects WHERE id = ?", (project_id,)).fetchone()
            if lease is None or (lease["lease"] and lease["lease"] != token and lease["lease"] not in set(stale)):
                return False
            conn.execute("UPDATE projects SET lease = ?, heartbeat = ? WHERE id = ?", (token, time.time(), project_id))
            return True

    def lease(self, project_id: str) -> tuple[str, float]:
        with self.db.reading() as conn:
            row = conn.execute("SELECT lease, heartbeat FROM projects WHERE id = ?", (project_id,)).fetchone()
        return (row["lease"], row["heartbeat"]) if row else ("", 0.0)

    def beat(self, project_id: str, token: str) -> None:
        """The lease's holder is alive (a process on another machine checks how long ago this was)."""
        with self.db.writing() as conn:
            conn.execute("UPDATE projects SET heartbeat = ? WHERE id = ? AND lease = ?",
                         (time.time(), project_id, token))

    def release(self, project_id: str, token: str) -> None:
        with self.db.writing() as conn:
            conn.execute("UPDATE projects SET lease = '' WHERE id = ? AND lease = ?", (project_id, token))

    # --- chapters and segments -----------------------------------------------------------------
    def chapters(self, project_id: str) -> list[Chapter]:
        with self.db.reading() as conn:
            return [_chapter(r) for r in conn.execute("SELECT * FROM chapters WHERE project_id = ? ORDER BY position",
                                                      (project_id,))]

    def set_chapter_audio(self, chapter_id: int, audio: str, key: str, duration: float) -> None:
        with self.db.writing() as conn:
            conn.execute("UPDATE chapters SET audio = ?, audio_key = ?, duration = ? WHERE id = ?",
                         (audio, key, duration, chapter_id))

    def segments(self, project_id: str, chapter_id: int | None = None) -> list[Segment]:
        query, args = "SELECT * FROM segments WHERE project_id = ?", [project_id]
        if chapter_id is not None:
            query, args = query + " AND chapter_id = ?", [*args, chapter_id]
        with self.db.reading() as conn:
            return [_segment(r) for r in conn.execute(query + " ORDER BY position", args)]

    def segment(self, project_id: str, segment_id: int) -> Segment:
        with self.db.reading() as conn:
            row = conn.execute("SELECT * FROM segments WHERE project_id = ? AND id = ?",
                               (project_id, segment_id)).fetchone()
        if row is None:
            raise InputError(f"The project has no segment {segment_id}.", "Use a segment id from the project's list.")
        return _segment(row)

    def next_pending(self, project_id: str, skip: Iterable[int] = ()) -> Segment | None:
        """The first segment (in the book's order) still to make, leaving out `skip` (being made elsewhere)."""
        skipped = list(skip)
        marks = ",".join("?" * len(skipped))
        query = "SELECT * FROM segments WHERE project_id = ? AND status = ?" + (
            f" AND id NOT IN ({marks})" if skipped else "")
        with self.db.reading() as conn:
            row = conn.execute(query + " ORDER BY position LIMIT 1", (project_id, PENDING, *skipped)).fetchone()
        return _segment(row) if row else None

    def finish(self, segment: Segment, status: str, audio: str, duration: float, used_seed: int | None,
               chunk_seeds: list[int], verdict: dict | None, timings: dict | None, take: Take) -> bool:
        """Mark `segment` made (its file is in place already) and record the take, in one transaction.
        False (nothing written) when the segment was edited, locked or deleted meanwhile."""
        with self.db.writing() as conn:
            updated = conn.execute(
                "UPDATE segments SET status = ?, audio = ?, duration = ?, used_seed = ?, chunk_seeds = ?, "
                "verdict = ?, timings = ?, error = '', generated = ? WHERE id = ? AND text = ? AND speaker = ? "
                "AND status != ?",
                (status, audio, duration, used_seed, _json(chunk_seeds), _json(verdict) if verdict else "",
                 _json(timings) if timings else "", now_iso(), segment.id, segment.text, segment.speaker,
                 LOCKED)).rowcount
            if updated:
                conn.execute("INSERT INTO takes (project_id, segment_id, maker, started, seconds, audio_seconds, "
                             "chars, seed, status, audio) VALUES (?,?,?,?,?,?,?,?,?,?)",
                             (segment.project_id, segment.id, take.maker, take.started, take.seconds,
                              take.audio_seconds, len(segment.text), take.seed, status, audio))
            return bool(updated)

    def fail(self, segment: Segment, error: str) -> None:
        with self.db.writing() as conn:
            conn.execute("UPDATE segments SET status = ?, error = ? WHERE id = ? AND text = ? AND status != ?",
                         (FAILED, error[:1000], segment.id, segment.text, LOCKED))

    def update_segment(self, segment_id: int, **fields: Any) -> None:
        columns = ", ".join(f"{name} = ?" for name in fields)
        with self.db.writing() as conn:
            conn.execute(f"UPDATE segments SET {columns} WHERE id = ?", (*fields.values(), segment_id))

    def reset_failed(self, project_id: str) -> None:
        """A new run tries the failed segments again."""
        with self.db.writing() as conn:
            conn.execute("UPDATE segments SET status = ?, error = '' WHERE project_id = ? AND status = ?",
                         (PENDING, project_id, FAILED))

    # --- figures -------------------------------------------------------------------------------
    def counts(self, project_id: str) -> dict[str, Any]:
        """Segments by status, audio seconds made, characters left to make."""
        with self.db.reading() as conn:
            rows = conn.execute("SELECT status, COUNT(*) AS n, SUM(duration) AS seconds, SUM(LENGTH(text)) AS chars "
                                "FROM segments WHERE project_id = ? GROUP BY status", (project_id,)).fetchall()
        by_status = {r["status"]: r for r in rows}
        audio = sum((r["seconds"] or 0.0) for s, r in by_status.items() if s in WITH_AUDIO)
        pending = by_status.get(PENDING)
        return {"segments": {s: by_status[s]["n"] if s in by_status else 0
                             for s in ("pending", "done", "flagged", "failed", "locked")},
                "audio_seconds": round(audio, 2), "chars_left": pending["chars"] if pending else 0}

    def seconds_per_char(self, project_id: str) -> float | None:
        """Measured wall seconds per character over the project's recent takes (any project's when it has
        none yet); None before anything was made."""
        with self.db.reading() as conn:
            for query, args in (("WHERE project_id = ?", (project_id,)), ("", ())):
                row = conn.execute(f"SELECT SUM(seconds) AS s, SUM(chars) AS c FROM (SELECT seconds, chars FROM "
                                   f"takes {query} ORDER BY id DESC LIMIT {SPEED_SAMPLE})", args).fetchone()
                if row["c"]:
                    return row["s"] / row["c"]
        return None

    def take_counts(self, project_id: str) -> dict[int, int]:
        """How many times each segment was generated (completed generations)."""
        with self.db.reading() as conn:
            rows = conn.execute("SELECT segment_id, COUNT(*) AS n FROM takes WHERE project_id = ? GROUP BY segment_id",
                                (project_id,)).fetchall()
        return {r["segment_id"]: r["n"] for r in rows}

    def files(self, project_id: str) -> set[str]:
        """Every file name the project's rows refer to (what a clean-up must keep)."""
        with self.db.reading() as conn:
            names = {r[0] for r in conn.execute("SELECT audio FROM segments WHERE project_id = ? AND audio != ''",
                                                (project_id,))}
            names |= {r[0] for r in conn.execute("SELECT audio FROM chapters WHERE project_id = ? AND audio != ''",
                                                 (project_id,))}
            cover = conn.execute("SELECT cover FROM projects WHERE id = ?", (project_id,)).fetchone()
        return names | ({cover[0]} if cover and cover[0] else set())
