"""Project checks: what each optional part of projects needs. EPUB import needs ebooklib and lxml;
the M4B needs ffmpeg and ffprobe. Either missing turns only that part off (Markdown, text and
subtitle projects, and each chapter's own files, keep working)."""

from __future__ import annotations

import shutil

from ..schema import OFF, OK, Check
from .context import Context, find, version


def epub_import(ctx: Context) -> list[Check]:
    missing = [dist for dist, module in (("ebooklib", "ebooklib"), ("lxml", "lxml")) if not find(module)]
    if missing:
        return [Check("epub import", "projects", OFF, f"{' and '.join(missing)} not installed: EPUB books cannot be "
                      "made into projects (Markdown, text and subtitle files can).",
                      "Install the pinned requirements: .venv/bin/pip install -r requirements.txt")]
    return [Check("epub import", "projects", OK, f"ebooklib {version('ebooklib')} with lxml {version('lxml')}: EPUB "
                  "chapters from the table of contents")]


def m4b_export(ctx: Context) -> list[Check]:
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        return [Check("m4b export", "projects", OFF, f"{' and '.join(missing)} not on PATH: a project's export has "
                      "each chapter's WAV and timing files, but no M4B.",
                      "Install ffmpeg (apt-get install ffmpeg) and restart.")]
    return [Check("m4b export", "projects", OK, "ffmpeg and ffprobe: books export as M4B with chapter markers")]
