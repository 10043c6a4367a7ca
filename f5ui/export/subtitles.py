"""Subtitle and data files from an AlignmentResult, composed with the real libraries:
`srt` for SubRip, `webvtt-py` for WebVTT, `pysubs2` for ASS; plus JSON and CSV.

With `speakers` (one name per word, for scripts with several voices) phrases never span two
speakers, WebVTT cues carry `<v Name>` voice spans, ASS events one style per speaker, and SubRip
phrases a "Name: " prefix when asked."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ..schema import AlignmentResult, WordTiming

log = logging.getLogger(__name__)

# Phrase grouping: subtitle conventions (about 42 characters a line, a few seconds on screen).
MAX_PHRASE_CHARS = 42
MAX_PHRASE_SECONDS = 5.0
PAUSE_BREAK = 0.5  # seconds of silence that end a phrase
SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
CLAUSE_END = (",", ";", ":", "—", "–", "，", "；")
MIN_CLAUSE_CHARS = 16  # a comma ends a phrase only when the phrase is already this long


@dataclass
class Phrase:
    words: list[WordTiming]
    speaker: str = ""

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)


def phrases(words: Sequence[WordTiming], speakers: Sequence[str] | None = None) -> list[Phrase]:
    """Group words into subtitle phrases: break at sentence ends, at commas once the
    phrase is long enough, at pauses, where the speaker changes, and before a phrase gets too long."""
    groups: list[Phrase] = []
    current: list[WordTiming] = []
    names = list(speakers) if speakers is not None else [""] * len(words)
    speaker = ""
    for i, word in enumerate(words):
        if current:
            text_len = len(" ".join(w.word for w in current + [word]))
            if text_len > MAX_PHRASE_CHARS or word.end - current[0].start > MAX_PHRASE_SECONDS \
                    or word.start - current[-1].end >= PAUSE_BREAK or names[i] != speaker:
                groups.append(Phrase(current, speaker))
                current = []
        current.append(word)
        speaker = names[i]
        stripped = word.word.rstrip("\"'”’)]")
        if stripped.endswith(SENTENCE_END) or (stripped.endswith(CLAUSE_END)
                                               and len(" ".join(w.word for w in current)) >= MIN_CLAUSE_CHARS):
            groups.append(Phrase(current, speaker))
            current = []
    if current:
        groups.append(Phrase(current, speaker))
    return groups


# ASS colours (r, g, b) given to speakers in order of appearance: distinct on a dark video.
SPEAKER_COLOURS = ((255, 255, 255), (255, 214, 102), (128, 222, 234), (239, 154, 154), (165, 214, 167),
                   (206, 147, 216))


def _ass_style(name: str) -> str:
    return name.replace(",", " ")  # a comma would end the style's field in the file


def _vtt_escape(text: str) -> str:
    """For a voice span's annotation, which ends at the first '>'."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _td(seconds: float) -> timedelta:
    return timedelta(milliseconds=round(seconds * 1000))


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def srt_words(result: AlignmentResult) -> str:
    """One SubRip cue per word."""
    import srt

    cues = [srt.Subtitle(index=i + 1, start=_td(w.start), end=_td(w.end), content=w.word)
            for i, w in enumerate(result.words)]
    return srt.compose(cues, reindex=False)


def srt_phrases(result: AlignmentResult, speakers: Sequence[str] | None = None, names: bool = False) -> str:
    """One SubRip cue per phrase; with `names`, each starts with its speaker's name ("Alice: …")."""
    import srt

    cues = [srt.Subtitle(index=i + 1, start=_td(p.start), end=_td(p.end),
                         content=f"{p.speaker}: {p.text}" if names and p.speaker else p.text)
            for i, p in enumerate(phrases(result.words, speakers))]
    return srt.compose(cues, reindex=False)


def write_vtt(result: AlignmentResult, path: Path, speakers: Sequence[str] | None = None) -> Path:
    """WebVTT phrase cues with karaoke timestamps (`<00:00:01.200>word`) before every word
    after the first, which browsers use for the ::cue(:past) / ::cue(:future) styling; each cue of
    a named speaker in a `<v Name>` voice span."""
    import webvtt

    vtt = webvtt.WebVTT()
    for p in phrases(result.words, speakers):
        parts = [p.words[0].word] + [f"<{_vtt_time(w.start)}>{w.word}" for w in p.words[1:]]
        voice = f"<v {_vtt_escape(p.speaker)}>" if p.speaker else ""
        vtt.captions.append(webvtt.Caption(_vtt_time(p.start), _vtt_time(p.end), voice + " ".join(parts)))
    vtt.save(str(path))
    return path


def write_ass(result: AlignmentResult, path: Path, speakers: Sequence[str] | None = None) -> Path:
    """ASS phrase events with `{\\kNN}` karaoke tags (centiseconds per word); a style (colour) per speaker."""
    import pysubs2

    subs = pysubs2.SSAFile()
    subs.info["Title"] = "f5ui word timings"
    subs.styles["Default"].fontsize = 28
    for i, name in enumerate(dict.fromkeys(n for n in (speakers or []) if n)):
        style = subs.styles["Default"].copy()
        style.primarycolor = pysubs2.Color(*SPEAKER_COLOURS[i % len(SPEAKER_COLOURS)])
        subs.styles[_ass_style(name)] = style
    for p in phrases(result.words, speakers):
        start_cs = round(p.start * 100)
        pieces, cursor = [], start_cs
        for w in p.words:
            gap = round(w.start * 100) - cursor
            if gap > 0:  # a pause inside the phrase: an empty syllable keeps later words on time
                pieces.append(f"{{\\k{gap}}}")
                cursor += gap
            end_cs = max(cursor, round(w.end * 100))
            pieces.append(f"{{\\k{end_cs - cursor}}}{w.word.replace('{', '(').replace('}', ')')}")
            cursor = end_cs
        subs.append(pysubs2.SSAEvent(start=start_cs * 10, end=max(start_cs, round(p.end * 100)) * 10,
                                     text=" ".join(pieces), style=_ass_style(p.speaker) if p.speaker else "Default",
                                     name=p.speaker))
    subs.save(str(path), format_="ass")
    return path


def write_csv(result: AlignmentResult, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "word", "start", "end", "confidence", "interpolated"])
        for i, w in enumerate(result.words):
            d = w.to_dict()
            writer.writerow([i, d["word"], f"{d['start']:.3f}", f"{d['end']:.3f}", f"{d['confidence']:.3f}",
                             "true" if d["interpolated"] else "false"])
    return path


def write_all(result: AlignmentResult, out_dir: Path, stem: str, speakers: Sequence[str] | None = None,
              srt_names: bool = False) -> dict[str, Path]:
    """Every format into out_dir; keys: srt_words, srt_phrases, vtt, json, csv, ass. `speakers`: one
    name per word (see the module's doc); `srt_names` prefixes SubRip phrases with them."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "srt_words": out_dir / f"{stem}.words.srt",
        "srt_phrases": out_dir / f"{stem}.srt",
        "vtt": out_dir / f"{stem}.vtt",
        "json": out_dir / f"{stem}.json",
        "csv": out_dir / f"{stem}.csv",
        "ass": out_dir / f"{stem}.ass",
    }
    paths["srt_words"].write_text(srt_words(result), encoding="utf-8")
    paths["srt_phrases"].write_text(srt_phrases(result, speakers, srt_names), encoding="utf-8")
    write_vtt(result, paths["vtt"], speakers)
    data = result.to_dict()
    if speakers is not None:
        for word, name in zip(data["words"], speakers):
            word["speaker"] = name
    paths["json"].write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    write_csv(result, paths["csv"])
    write_ass(result, paths["ass"], speakers)
    log.info("wrote word timings for %d words to %s/%s.*", len(result.words), out_dir, stem)
    return paths
