"""The script: who says what. A Draft's paragraphs become segments with a speaker, a line number
and their text, split into groups of sentences the chunker handles well.

Speaker tags, over the voice library:
- `[Name] text` at the start of a line (a name starts with a letter, so "[1]" stays text);
- `{Name} text` anywhere, and the official F5 Multi-Speech forms `{Name}` and
  `{"name": "Name", "seed": 7, "speed": 1.1}` (seed and speed then apply to that text).
A tag holds until the next one; each chapter starts with the default voice (no tag). A WebVTT cue's
`<v Name>` names its speaker too. Subtitle cues are never split: each is one segment."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InputError
from .records import Draft, Paragraph
from .store import NewSegment

_NAME = r"[^\W\d_][\w .'-]{0,63}"  # starts with a letter; as voice names go, plus . and '
_LINE_TAG = re.compile(rf"^\s*\[({_NAME})\]\s*")
_BRACES = re.compile(r"\{[^{}\n]{1,200}\}")
_PLAIN_NAME = re.compile(rf"{_NAME}")
MAX_SEED = 2**31 - 1


@dataclass
class Tag:
    speaker: str
    seed: int | None = None
    speed: float | None = None


def parse_tag(body: str) -> Tag | None:
    """`{…}`'s content as a tag, or None when it is not one (then it is just text)."""
    body = body.strip()
    if body.startswith('{"') or body.startswith("{ \""):
        try:
            data = json.loads(body)
        except json.JSONDecodeError:
            return None
        name = data.get("name") if isinstance(data, dict) else None
        if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name.strip()):
            return None
        seed, speed = data.get("seed"), data.get("speed")
        seed = seed if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED else None
        speed = float(speed) if isinstance(speed, (int, float)) and not isinstance(speed, bool) else None
        return Tag(" ".join(name.split()), seed, speed)
    inner = body[1:-1].strip()
    return Tag(" ".join(inner.split())) if _PLAIN_NAME.fullmatch(inner) else None


@dataclass
class Piece:
    """Text one speaker says without a break, with where it starts."""

    text: str
    line: int
    tag: Tag


def pieces(paragraph: Paragraph, current: Tag) -> tuple[list[Piece], Tag]:
    """The paragraph's text cut at its tags, and the tag that holds after it."""
    out: list[Piece] = []
    if paragraph.speaker:
        current = Tag(paragraph.speaker)
    for offset, line in enumerate(paragraph.text.split("\n")):
        number = paragraph.line + offset
        match = _LINE_TAG.match(line)
        if match:
            current, line = Tag(" ".join(match.group(1).split())), line[match.end():]
        cursor = 0
        for brace in _BRACES.finditer(line):
            tag = parse_tag(brace.group(0))
            if tag is None:
                continue
            _add(out, line[cursor:brace.start()], number, current)
            current, cursor = tag, brace.end()
        _add(out, line[cursor:], number, current)
    return out, current


def _add(out: list[Piece], text: str, line: int, tag: Tag) -> None:
    text = " ".join(text.split())
    if not text:
        return
    if out and out[-1].tag == tag:  # the same speaker goes on over a line break
        out[-1].text = f"{out[-1].text} {text}"
    else:
        out.append(Piece(text, line, tag))


def split_sentences(text: str, limit: int) -> list[str]:
    """Groups of whole sentences of at most `limit` bytes (f5-tts's own chunk_text), a sentence longer
    than that cut at clauses, then words (the engine's split_to_fit)."""
    from f5_tts.infer.utils_infer import chunk_text

    from ..engine.chunking import split_to_fit

    return [part for group in chunk_text(text, max_chars=limit) for part in split_to_fit(group, limit)]


def segment(draft: Draft, segment_chars: int) -> list[tuple[str, list[NewSegment]]]:
    """Every chapter's segments, in order."""
    chapters = []
    for chapter in draft.chapters:
        current, segments = Tag(""), []
        for paragraph in chapter.paragraphs:
            found, current = pieces(paragraph, current)
            if paragraph.cue is not None:  # a cue is one segment, whoever speaks in it
                if found:
                    text = " ".join(p.text for p in found)
                    segments.append(NewSegment(paragraph.line, found[0].tag.speaker, text, found[0].tag.seed,
                                               found[0].tag.speed, *paragraph.cue))
                continue
            for piece in found:
                for text in split_sentences(piece.text, segment_chars):
                    segments.append(NewSegment(piece.line, piece.tag.speaker, text, piece.tag.seed, piece.tag.speed))
        chapters.append((chapter.title, segments))
    return chapters


def check_speakers(chapters: list[tuple[str, list[NewSegment]]], known: Callable[[str], bool], unit: str = "line",
                   default_voice: str = "") -> None:
    """Every speaker must name a voice (`known`); untagged text needs the default voice. One message
    lists every problem with its line numbers, before anything is generated."""
    unknown: dict[str, list[int]] = {}
    untagged: list[int] = []
    for _title, segments in chapters:
        for s in segments:
            if not s.speaker:
                if not default_voice:
                    untagged.append(s.line)
            elif not known(s.speaker):
                unknown.setdefault(s.speaker, []).append(s.line)
    problems = [f"{name!r} ({unit} {_lines(lines)})" for name, lines in unknown.items()]
    if problems:
        raise InputError(f"Unknown speaker{'s' if len(problems) > 1 else ''}: {'; '.join(problems)}.",
                         "Save a voice of that name (Voices tab), map the speaker to a saved voice in the speakers "
                         "settings, or fix the tag.")
    if untagged:
        raise InputError(f"Text without a speaker tag ({unit} {_lines(untagged)}) needs a default voice.",
                         "Pick the project's default voice, or tag every line with a speaker.")


def _lines(numbers: list[int]) -> str:
    shown = sorted(set(numbers))
    return ", ".join(str(n) for n in shown[:10]) + (f" and {len(shown) - 10} more" if len(shown) > 10 else "")
