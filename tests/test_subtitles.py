"""Every subtitle file parses with its own library and gives the word times back."""

from __future__ import annotations

import csv
import json
import re

import pytest

from f5ui.export.subtitles import phrases, write_all
from f5ui.schema import AlignmentResult, Attempt, WordTiming

WORDS = [("Hello,", 0.12, 0.48), ("world.", 0.52, 1.0), ("This", 1.9, 2.1), ("is", 2.1, 2.2),
         ("a", 2.2, 2.25), ("test", 2.25, 2.6), ("of", 2.6, 2.7), ("“karaoke”", 2.7, 3.333),
         ("subtitles", 3.4, 4.011), ("&", 4.05, 4.2), ("more", 4.2, 4.5), ("—", 4.5, 4.5), ("done!", 4.6, 5.2),
         ("after", 61.0, 61.5), ("a", 61.5, 61.6), ("minute", 61.6, 62.25)]


@pytest.fixture()
def result():
    words = [WordTiming(w, s, e, 0.9, interpolated=(w == "&")) for w, s, e in WORDS]
    return AlignmentResult(words, "sphinx", [Attempt("whisperx", "skipped", "x"), Attempt("sphinx", "used", "y")],
                           63.0)


@pytest.fixture()
def files(result, tmp_path):
    paths = write_all(result, tmp_path, "take1")
    assert set(paths) == {"srt_words", "srt_phrases", "vtt", "json", "csv", "ass"}
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths.values())
    return paths


def test_srt_word_cues_round_trip(files):
    import srt

    cues = list(srt.parse(files["srt_words"].read_text(encoding="utf-8")))
    assert [c.content for c in cues] == [w for w, _, _ in WORDS]
    for cue, (_, s, e) in zip(cues, WORDS):
        assert abs(cue.start.total_seconds() - s) <= 0.001 and abs(cue.end.total_seconds() - e) <= 0.001


def test_srt_phrase_cues_cover_all_words(files, result):
    import srt

    cues = list(srt.parse(files["srt_phrases"].read_text(encoding="utf-8")))
    groups = phrases(result.words)
    assert len(cues) == len(groups) >= 3
    assert " ".join(c.content for c in cues) == " ".join(w for w, _, _ in WORDS)
    assert cues[0].content == "Hello, world."  # sentence end closes a phrase
    assert cues[-1].content == "after a minute"  # a long pause opens a new one
    for cue, group in zip(cues, groups):
        assert abs(cue.start.total_seconds() - group.start) <= 0.001
        assert abs(cue.end.total_seconds() - group.end) <= 0.001
    assert all(len(c.content) <= 42 for c in cues)


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")  # webvtt-py's *_in_seconds are whole seconds: parse the text
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_vtt_round_trip_with_word_timestamps(files):
    import webvtt

    captions = webvtt.read(str(files["vtt"]))
    words, starts = [], []
    for cap in captions:
        parts = re.split(r"<(\d\d:\d\d:\d\d\.\d\d\d)>", cap.raw_text if hasattr(cap, "raw_text") else cap.text)
        words += parts[0].split()
        starts.append(_seconds(cap.start))  # first word starts with the cue
        for stamp, word in zip(parts[1::2], parts[2::2]):
            starts.append(_seconds(stamp))
            words += word.split()
    assert words == [w for w, _, _ in WORDS]
    for got, (_, s, _) in zip(starts, WORDS):
        assert abs(got - s) <= 0.001
    assert abs(_seconds(captions[-1].end) - WORDS[-1][2]) <= 0.001


def test_ass_round_trip_in_centiseconds(files):
    import pysubs2

    subs = pysubs2.load(str(files["ass"]))
    assert subs.info["Title"] == "f5ui word timings"
    words, starts = [], []
    for event in subs:
        cursor = event.start / 1000
        for k, word in re.findall(r"\{\\k(\d+)\}([^{]*)", event.text):
            if word.strip():  # an empty syllable is a pause
                words.append(word.strip())
                starts.append(cursor)
            cursor += int(k) / 100
    assert words == [w for w, _, _ in WORDS]
    for got, (_, s, _) in zip(starts, WORDS):
        assert abs(got - s) <= 0.0051  # times in centiseconds
    assert abs(subs[-1].end / 1000 - WORDS[-1][2]) <= 0.005


def test_json_and_csv(files, result):
    data = json.loads(files["json"].read_text(encoding="utf-8"))
    assert data == result.to_dict()
    assert data["backend"] == "sphinx" and data["attempts"][0]["status"] == "skipped"
    rows = list(csv.DictReader(files["csv"].open(encoding="utf-8")))
    assert [r["word"] for r in rows] == [w for w, _, _ in WORDS]
    for row, (_, s, e) in zip(rows, WORDS):
        assert abs(float(row["start"]) - s) <= 0.001 and abs(float(row["end"]) - e) <= 0.001
    assert [r["interpolated"] for r in rows].count("true") == 1


def test_real_alignment_exports(tmp_path):
    """A real sphinx result through every writer."""
    import srt

    from f5ui.config import from_env
    from f5ui.timing.chain import AlignmentChain
    from tests.speech import HUMAN_CLIP_TEXT, human_clip

    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(tmp_path), "F5UI_ALIGNERS": "sphinx"}))
    res = chain.align(human_clip(), HUMAN_CLIP_TEXT)
    paths = write_all(res, tmp_path / "out", "human")
    cues = list(srt.parse(paths["srt_words"].read_text()))
    assert [c.content for c in cues] == HUMAN_CLIP_TEXT.split()
    assert [c.content for c in srt.parse(paths["srt_phrases"].read_text())] == \
        ["Some call me nature,", "others call me mother nature."]
