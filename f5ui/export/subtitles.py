"""Subtitle and data files from an AlignmentResult, composed with the real libraries:
`srt` for SubRip, `webvtt-py` for WebVTT, `pysubs2` for ASS; plus JSON and CSV."""

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

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)


def phrases(words: Sequence[WordTiming]) -> list[Phrase]:
    """Group words into subtitle phrases: break at sentence ends, at commas once the
    phrase is long enough, at pauses, and before a phrase gets too long."""
    groups: list[Phrase] = []
    current: list[WordTiming] = []
    for _i, word in enumerate(words):
        if current:
            text_len = len(" ".join(w.word for w in current + [word]))
            if text_len > MAX_PHRASE_CHARS or word.end - current[0].start > MAX_PHRASE_SECONDS \
                    or word.start - current[-1].end >= PAUSE_BREAK:
                groups.append(Phrase(current))
                current = []
        current.append(word)
        stripped = word.word.rstrip("\"'”’)]")
        if stripped.endswith(SENTENCE_END) or (stripped.endswith(CLAUSE_END)
                                               and len(" ".join(w.word for w in current)) >= MIN_CLAUSE_CHARS):
            groups.append(Phrase(current))
            current = []
    if current:
        groups.append(Phrase(current))
    return groups


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


def srt_phrases(result: AlignmentResult) -> str:
    """One SubRip cue per phrase."""
    import srt

    cues = [srt.Subtitle(index=i + 1, start=_td(p.start), end=_td(p.end), content=p.text)
            for i, p in enumerate(phrases(result.words))]
    return srt.compose(cues, reindex=False)


def write_vtt(result: AlignmentResult, path: Path) -> Path:
    """WebVTT phrase cues with karaoke timestamps (`<00:00:01.200>word`) before every word
    after the first, which browsers use for the ::cue(:past) / ::cue(:future) styling."""
    import webvtt

    vtt = webvtt.WebVTT()
    for p in phrases(result.words):
        parts = [p.words[0].word] + [f"<{_vtt_time(w.start)}>{w.word}" for w in p.words[1:]]
        vtt.captions.append(webvtt.Caption(_vtt_time(p.start), _vtt_time(p.end), " ".join(parts)))
    vtt.save(str(path))
    return path


def write_ass(result: AlignmentResult, path: Path) -> Path:
    """ASS phrase events with `{\\kNN}` karaoke tags (centiseconds per word)."""
    import pysubs2

    subs = pysubs2.SSAFile()
    subs.info["Title"] = "f5ui word timings"
    subs.styles["Default"].fontsize = 28
    for p in phrases(result.words):
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
                                     text=" ".join(pieces)))
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


def write_all(result: AlignmentResult, out_dir: Path, stem: str) -> dict[str, Path]:
    """Every format into out_dir; keys: srt_words, srt_phrases, vtt, json, csv, ass."""
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
    paths["srt_phrases"].write_text(srt_phrases(result), encoding="utf-8")
    write_vtt(result, paths["vtt"])
    paths["json"].write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    write_csv(result, paths["csv"])
    write_ass(result, paths["ass"])
    log.info("wrote word timings for %d words to %s/%s.*", len(result.words), out_dir, stem)
    return paths
