"""Projects: books and multi-voice scripts made segment by segment in the background, kept in an
embedded database (resumable after a crash), reviewed segment by segment, exported per chapter and
as an M4B. Importers per input format, the speaker script, the database, the runner and its segment
makers, the chapter and book writers; `Projects` (projects/studio.py) is the one object the UI, the
API and the CLI call."""
