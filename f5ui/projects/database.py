"""The projects' embedded database: one SQLite file per data dir (`<data dir>/projects/projects.db`,
the audio beside it), through the standard library, in WAL mode so the UI reads while a run writes.

The schema is versioned (`PRAGMA user_version`) and changed only by appending a migration to
MIGRATIONS: a database is brought up to date when opened, each step in one transaction; one made
by a newer f5ui is refused with a message rather than written to. Every write is one transaction
(BEGIN IMMEDIATE … COMMIT), so a process killed at any instant leaves the last committed state."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import UserFacingError

log = logging.getLogger(__name__)

FILE_NAME = "projects.db"
BUSY_TIMEOUT_S = 30.0  # a writer waits this long for another writer's transaction

# Each migration is the list of statements that takes the schema from version i to i + 1. Never edit one
# that has shipped: append another (the remote runner of issue 19 adds its job ids this way).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE projects (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            default_voice TEXT NOT NULL DEFAULT '',
            speakers TEXT NOT NULL DEFAULT '{}',
            params TEXT NOT NULL DEFAULT '{}',
            title TEXT NOT NULL DEFAULT '',
            author TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL DEFAULT '',
            cover TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL DEFAULT 'idle',
            message TEXT NOT NULL DEFAULT '',
            lease TEXT NOT NULL DEFAULT '',
            heartbeat REAL NOT NULL DEFAULT 0)""",
        """CREATE TABLE chapters (
            id INTEGER PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            title TEXT NOT NULL,
            audio TEXT NOT NULL DEFAULT '',
            audio_key TEXT NOT NULL DEFAULT '',
            duration REAL NOT NULL DEFAULT 0)""",
        """CREATE TABLE segments (
            id INTEGER PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            chapter_id INTEGER NOT NULL REFERENCES chapters(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            line INTEGER NOT NULL DEFAULT 0,
            speaker TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            seed INTEGER,
            speed REAL,
            cue_start REAL,
            cue_end REAL,
            audio TEXT NOT NULL DEFAULT '',
            duration REAL NOT NULL DEFAULT 0,
            used_seed INTEGER,
            chunk_seeds TEXT NOT NULL DEFAULT '[]',
            verdict TEXT NOT NULL DEFAULT '',
            timings TEXT NOT NULL DEFAULT '',
            error TEXT NOT NULL DEFAULT '',
            generated TEXT NOT NULL DEFAULT '')""",
        # One row per generation of a segment that completed, written in the transaction that marks the
        # segment: what was paid for, and the measured speed the time-left estimate comes from.
        """CREATE TABLE takes (
            id INTEGER PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
            maker TEXT NOT NULL,
            started REAL NOT NULL,
            seconds REAL NOT NULL,
            audio_seconds REAL NOT NULL,
            chars INTEGER NOT NULL,
            seed INTEGER,
            status TEXT NOT NULL,
            audio TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX segments_by_project ON segments(project_id, position)",
        "CREATE INDEX segments_by_chapter ON segments(chapter_id, position)",
        "CREATE INDEX chapters_by_project ON chapters(project_id, position)",
        "CREATE INDEX takes_by_project ON takes(project_id, id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class DatabaseProblem(UserFacingError):
    """The projects database cannot be used (too new, corrupt, not writable)."""


class Database:
    """Connections are opened per operation (cheap with SQLite) so any thread may use the database."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / FILE_NAME
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._migrate()
        except sqlite3.Error as exc:
            raise DatabaseProblem(f"The projects database cannot be opened ({type(exc).__name__}: {exc}).",
                                  "Check the data dir is writable; restore projects.db from a backup if it is "
                                  "damaged.") from exc

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        # NORMAL is durable against a killed process in WAL mode (only a power cut may lose the last commits).
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _migrate(self) -> None:
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise DatabaseProblem(f"The projects database has schema version {version}, newer than this f5ui "
                                      f"knows ({SCHEMA_VERSION}).", "Run the newer f5ui that made it, or point "
                                      "F5UI_DATA_DIR at another folder.")
            for number in range(version, SCHEMA_VERSION):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in MIGRATIONS[number]:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number + 1}")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                log.info("Projects database %s: schema version %d", self.path.name, number + 1)
        finally:
            conn.close()

    @property
    def version(self) -> int:
        with self.reading() as conn:
            return conn.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none (also when the process dies inside)."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()
