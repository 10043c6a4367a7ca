"""Word timings through the live API: /generate returns them with subtitle files, /align times
any recording, and bad input gets a clear message."""

from __future__ import annotations

import json
import re

import numpy as np
import pysubs2
import pytest
import soundfile as sf
import srt
import webvtt
from gradio_client import handle_file

from f5ui.timing.words import tokenize
from tests.helpers import generate
from tests.speech import clip, clip_dir

pytestmark = pytest.mark.live  # every test here talks to an app process

SCRIPT = "Every word of this sentence comes back with a start and an end time, in order."


def _check_timing(timing: dict, script: str, duration: float) -> None:
    words = [w["word"] for w in timing["words"]]
    assert words == [t.text for t in tokenize(script)]  # every script word, in order, none dropped
    starts = [w["start"] for w in timing["words"]]
    assert starts == sorted(starts)
    for w in timing["words"]:
        assert 0.0 <= w["start"] <= w["end"] <= duration + 1e-3
    assert timing["attempts"][-1] == {**timing["attempts"][-1], "backend": timing["backend"], "status": "used"}
    for attempt in timing["attempts"][:-1]:
        assert attempt["status"] in ("skipped", "failed") and attempt["reason"]


def _by_kind(files: list[str]) -> dict[str, str]:
    kinds = {}
    for path in files:
        name = path.rsplit("/", 1)[-1]
        kind = "srt_words" if name.endswith(".words.srt") else name.rsplit(".", 1)[-1]
        kinds[kind] = path
    return kinds


def test_generate_returns_word_timings_and_subtitle_files(client, ref_clip):
    ref, ref_text = ref_clip
    audio, _, _, _, timing, files, _ = generate(client, ref, ref_text, SCRIPT, seed=11)
    duration = sf.info(audio).duration
    _check_timing(timing, SCRIPT, duration)
    kinds = _by_kind(files)
    assert set(kinds) == {"srt_words", "srt", "vtt", "json", "csv", "ass"}
    word_cues = list(srt.parse(open(kinds["srt_words"]).read()))
    assert [c.content for c in word_cues] == [w["word"] for w in timing["words"]]
    for cue, word in zip(word_cues, timing["words"]):
        assert cue.start.total_seconds() == pytest.approx(word["start"], abs=0.001)
    phrases = list(srt.parse(open(kinds["srt"]).read()))
    assert " ".join(c.content.replace("\n", " ") for c in phrases).split() == SCRIPT.split()
    assert len(webvtt.read(kinds["vtt"]).captions) == len(phrases)
    assert len([e for e in pysubs2.load(kinds["ass"]) if e.type == "Dialogue"]) == len(phrases)
    assert json.loads(open(kinds["json"]).read())["words"] == timing["words"]


def test_timings_can_be_turned_off(client, ref_clip):
    ref, ref_text = ref_clip
    audio, _, _, _, timing, files, _ = generate(client, ref, ref_text, "No timings this time.", word_timings=False)
    assert sf.info(audio).duration > 0
    assert timing is None and not files


def test_align_endpoint_times_real_speech(client, tmp_path_factory):
    speech = clip(clip_dir(tmp_path_factory), "We measured the river at dawn, at noon, and before sunset.",
                  "en-us+f3", 160)
    timing, files = client.predict(handle_file(str(speech.wav)), speech.text, "en", "auto", api_name="/align")
    _check_timing(timing, speech.text, sf.info(str(speech.wav)).duration)
    assert timing["backend"] == "sphinx" and not timing["low_confidence"]
    truth = speech.truth_for(tokenize(speech.text))
    errors = [abs(w["start"] - t) for w, t in zip(timing["words"], truth) if t is not None]
    assert np.mean(errors) <= 0.040
    assert len(files) == 6


def test_align_explains_skipped_backends(client, tmp_path_factory):
    speech = clip(clip_dir(tmp_path_factory), "Guten Morgen, wie geht es dir heute?", "en", 150)
    timing, _ = client.predict(handle_file(str(speech.wav)), speech.text, "de", "auto", api_name="/align")
    reasons = {a["backend"]: a for a in timing["attempts"]}
    assert reasons["sphinx"]["status"] == "skipped" and "English" in reasons["sphinx"]["reason"]
    assert reasons["google"]["status"] == "skipped" and "credentials" in reasons["google"]["reason"]
    assert timing["backend"] == "estimate" and timing["low_confidence"]
    forced, _ = client.predict(handle_file(str(speech.wav)), speech.text, "en", "estimate", api_name="/align")
    assert forced["backend"] == "estimate" and [a["backend"] for a in forced["attempts"]] == ["estimate"]


@pytest.mark.parametrize("case", ["empty transcript", "punctuation only", "silent audio", "no audio"])
def test_align_bad_input(case, client, ref_clip, audio_files):
    from gradio_client.exceptions import AppError

    ref, ref_text = ref_clip
    audio, transcript, expected = {
        "empty transcript": (ref, "  ", "transcript is empty"),
        "punctuation only": (ref, "... ?! --", "only punctuation"),
        "silent audio": (audio_files["silent"], ref_text, "silent"),
        "no audio": (None, ref_text, "No audio was given"),
    }[case]
    with pytest.raises(AppError) as info:
        client.predict(handle_file(str(audio)) if audio else None, transcript, "en", "auto", api_name="/align")
    assert expected in str(info.value) and "Traceback" not in str(info.value)


def test_mismatched_transcript_still_returns_words_with_a_warning(client, ref_clip):
    ref, _ = ref_clip
    wrong = "Completely different words about trains, rivers and the price of bread."
    timing, _ = client.predict(handle_file(str(ref)), wrong, "en", "auto", api_name="/align")
    assert [w["word"] for w in timing["words"]] == wrong.split()
    assert timing["low_confidence"] and re.search(r"[Ll]ow confidence", timing["warning"])
