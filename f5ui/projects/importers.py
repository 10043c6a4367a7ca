"""What a project is made from: pasted text, or a .txt, .md, .epub, .srt or .vtt file, read with the
library made for each format (markdown-it for Markdown, ebooklib for EPUB in epub.py, `srt` and
webvtt-py for subtitles) into a Draft of chapters and paragraphs. A file that is not what its name
says, is empty, or is over the limits (settings) is refused with a message that says which.

Markdown (and pasted text, read as Markdown): headings are chapters. When the top level has a
single heading above deeper ones ("# Book" then "## Chapter 1" …), it is the book's title and the
next level gives the chapters. A .txt file is one chapter, its paragraphs split at blank lines.
Subtitles: one chapter, each cue a paragraph that keeps its times (and a WebVTT <v Name> speaker)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ..config import Settings
from ..errors import InputError
from ..text import clean_text
from .records import Draft, DraftChapter, Paragraph

SUFFIXES = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".epub": "epub", ".srt": "srt",
            ".vtt": "vtt"}
_BLANK_LINES = re.compile(r"\n\s*\n")


def read_source(path: Path | None, text: str, settings: Settings, title: str = "") -> Draft:
    """A Draft from an uploaded file (already admitted) or pasted text, checked against the limits."""
    if path is not None:
        kind = SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise InputError(f"{path.name!r} is not a file a project can be made from.",
                             f"Upload one of: {', '.join(sorted(SUFFIXES))}.")
        if kind == "epub":
            from .epub import read_epub

            draft = read_epub(path, settings)
        else:
            draft = READERS[kind](decode(path.read_bytes(), path.name), path.name)
    else:
        if not text.strip():
            raise InputError("There is no text and no file.", "Paste the script, or upload a .txt, .md, .epub, .srt "
                             "or .vtt file.")
        draft = read_markdown(clean_text(text), "the text", kind="text")
    draft.title = draft.title or title
    return check_limits(draft, settings, path.name if path else "The text")


def decode(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is not a text file."""
    if not data.strip():
        raise InputError(f"{name!r} is empty.", "Upload the file with its text.")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name!r} is not a text file (it holds binary data).",
                         "Upload the text itself (UTF-8), not a document or an archive.")
    for encoding, bom in (("utf-16", b"\xff\xfe"), ("utf-16", b"\xfe\xff"), ("utf-8-sig", b"")):
        if data.startswith(bom):
            try:
                return clean_text(data.decode(encoding)).replace("\r\n", "\n").replace("\r", "\n")
            except UnicodeDecodeError:
                break
    raise InputError(f"{name!r} is not UTF-8 text.", "Save it as UTF-8 (any editor can) and upload it again.")


def check_limits(draft: Draft, settings: Settings, name: str) -> Draft:
    draft.chapters = [c for c in draft.chapters if c.paragraphs]
    chars = sum(len(p.text) for c in draft.chapters for p in c.paragraphs)
    if not chars:
        raise InputError(f"{name} has no text to speak.", "Give it some paragraphs (or cues) of text.")
    if chars > settings.project_max_chars:
        raise InputError(f"{name} has {chars:,} characters of text; a project may have {settings.project_max_chars:,}.",
                         "Split it into several projects, or raise F5UI_PROJECT_MAX_CHARS.")
    if len(draft.chapters) > settings.project_max_chapters:
        raise InputError(f"{name} has {len(draft.chapters)} chapters; a project may have "
                         f"{settings.project_max_chapters}.", "Split it, or raise F5UI_PROJECT_MAX_CHAPTERS.")
    return draft


# --- text and Markdown -------------------------------------------------------------------------

def read_txt(text: str, name: str) -> Draft:
    paragraphs, line = [], 1
    for block in _BLANK_LINES.split(text):
        if block.strip():
            offset = len(block) - len(block.lstrip("\n"))
            paragraphs.append(Paragraph(block.strip(), line + offset))
        line += block.count("\n") + 2
    return Draft("txt", [DraftChapter(Path(name).stem, paragraphs)])


def read_markdown(text: str, name: str, kind: str = "md") -> Draft:
    """Headings are chapters; every other block's text (paragraphs, list items, quotes) is spoken.
    Code blocks and HTML are not speech and are left out."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    blocks: list[tuple[int, str, int]] = []  # (heading level or 0, text, first line)
    for i, token in enumerate(tokens):
        if token.type != "inline":
            continue
        opener = tokens[i - 1] if i else None
        level = int(opener.tag[1]) if opener is not None and opener.type == "heading_open" else 0
        content = _inline_text(token)
        if content.strip():
            blocks.append((level, content, (token.map[0] + 1) if token.map else 0))
    levels = sorted({level for level, _, _ in blocks if level})
    title, chapter_level = "", levels[0] if levels else 0
    top = [b for b in blocks if b[0] == chapter_level] if levels else []
    if len(top) == 1 and len(levels) > 1:  # "# Book" over "## Chapter …": the title, and chapters one level down
        title, chapter_level = " ".join(top[0][1].split()), levels[1]
    chapters: list[DraftChapter] = []
    for level, content, line in blocks:
        if level and level <= chapter_level:
            if level < chapter_level or " ".join(content.split()) == title:
                continue
            chapters.append(DraftChapter(" ".join(content.split())))
            continue
        if not chapters:
            chapters.append(DraftChapter(title or Path(name).stem if kind == "md" else title or "Text"))
        chapters[-1].paragraphs.append(Paragraph(content.strip(), line))
    return Draft(kind, chapters, title=title)


def _inline_text(token) -> str:  # noqa: ANN001 - a markdown_it Token
    """The words of an inline token: emphasis and links unwrapped, line breaks kept (tags are per line)."""
    out = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out)


# --- subtitles ---------------------------------------------------------------------------------

def read_srt(text: str, name: str) -> Draft:
    import srt

    try:
        cues = list(srt.parse(text))
    except (srt.SRTParseError, ValueError) as exc:
        raise InputError(f"{name!r} is not a valid SubRip (.srt) file ({str(exc)[:200]}).",
                         "Upload a .srt file as subtitle editors write it.") from exc
    paragraphs = [Paragraph(_strip_tags(c.content), _srt_line(text, c.index), (c.start.total_seconds(),
                                                                               c.end.total_seconds()))
                  for c in cues]
    return _cue_draft("srt", paragraphs, name)


def read_vtt(text: str, name: str) -> Draft:
    import webvtt
    from webvtt.errors import MalformedFileError

    try:
        captions = webvtt.from_buffer(io.StringIO(text)).captions
    except (MalformedFileError, ValueError) as exc:
        raise InputError(f"{name!r} is not a valid WebVTT (.vtt) file ({str(exc)[:200]}).",
                         "Upload a .vtt file that starts with WEBVTT.") from exc
    paragraphs = [Paragraph(" ".join(c.text.split()), i, (c.start_time.in_milliseconds() / 1000,
                                                           c.end_time.in_milliseconds() / 1000),
                            speaker=(c.voice or "").strip())
                  for i, c in enumerate(captions, start=1)]
    return _cue_draft("vtt", paragraphs, name, unit="cue")


def _cue_draft(kind: str, paragraphs: list[Paragraph], name: str, unit: str = "line") -> Draft:
    kept = [p for p in paragraphs if p.text.strip()]
    for p in kept:
        start, end = p.cue
        if not 0 <= start < end:
            raise InputError(f"The cue at {unit} {p.line} of {name!r} ends before it starts "
                             f"({start:.3f} → {end:.3f} s).",
                             "Fix its times in a subtitle editor.")
    return Draft(kind, [DraftChapter(Path(name).stem, sorted(kept, key=lambda p: p.cue[0]))], unit=unit)


def _strip_tags(content: str) -> str:
    """Cue text without its markup (<i>, <b>, <font>): parsed as HTML, not matched by patterns."""
    import lxml.html

    if "<" not in content:
        return " ".join(content.split())
    fragment = lxml.html.fragment_fromstring(content, create_parent="div")
    return " ".join(fragment.text_content().split())


def _srt_line(text: str, index: int) -> int:
    """The line of cue `index` in the file, for messages (the cue number when it cannot be found)."""
    match = re.search(rf"(?m)^\s*{index}\s*$", text)
    return text.count("\n", 0, match.start()) + 1 if match else index


READERS = {"txt": read_txt, "md": read_markdown, "srt": read_srt, "vtt": read_vtt}
