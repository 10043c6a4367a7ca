"""Tokenizing, mapping heard words onto the script, filling untimed words."""

import json

import numpy as np
import pytest

from f5ui.schema import AlignmentResult, Attempt, WordTiming
from f5ui.timing.errors import BackendFailed
from f5ui.timing.words import finalize, map_recognized, tokenize


def test_punctuation_only_tokens_attach_to_neighbours():
    tokens = tokenize("— Hello , world ... it's 3 o'clock & 50% — done!")
    assert [t.norm for t in tokens] == ["hello", "world", "it's", "3", "o'clock", "&", "50%", "done"]
    assert tokens[0].text == "— Hello ,"
    assert tokens[1].text == "world ..."
    assert tokens[6].text == "50% —"
    assert tokenize(" ... — !! ") == []


def test_cjk_characters_are_words():
    assert [t.norm for t in tokenize("中文 abc")] == ["中", "文", "abc"]


def test_map_recognized_interpolates_unheard_and_keeps_every_word():
    tokens = tokenize("I have 3 red apples today, friend.")
    heard = [("i", 0.1, 0.2, 0.9), ("have", 0.25, 0.5, 0.9), ("three", 0.55, 0.8, 0.9),
             ("apples", 1.2, 1.6, 0.9), ("today", 1.7, 2.1, 0.9), ("fiend", 2.2, 2.5, 0.8)]
    times, flags, ratio = map_recognized(tokens, heard)
    # "3 red" heard as "three": the heard span is split over both words, flagged.
    assert flags[2] and flags[3] and times[2][0] == 0.55 and times[3][1] == 0.8
    assert times[6] == (2.2, 2.5, 0.4)  # one word heard differently: its time, half the confidence
    assert ratio == pytest.approx(4 / 7)
    words = finalize(tokens, times, 2.5, flags)
    assert [w.word for w in words] == ["I", "have", "3", "red", "apples", "today,", "friend."]
    assert words[3].interpolated and not words[0].interpolated


def test_unheard_words_are_filled_between_neighbours():
    tokens = tokenize("one two three four")
    times, flags, ratio = map_recognized(tokens, [("one", 0.0, 0.3, 1.0), ("four", 1.0, 1.3, 1.0)])
    assert times[1] is None and times[2] is None and ratio == 0.5
    words = finalize(tokens, times, 2.0, flags)
    assert [w.interpolated for w in words] == [False, True, True, False]
    assert 0.3 <= words[1].start < words[1].end <= words[2].start < words[2].end <= 1.0


def test_finalize_is_monotonic_and_inside_audio():
    tokens = tokenize("a b c d e")
    times = [(0.5, 0.9, 1.0), (0.4, 0.6, 1.0), None, (3.0, 4.5, 1.0), None]
    words = finalize(tokens, times, 4.0)
    for prev, cur in zip(words, words[1:]):
        assert prev.end <= cur.start <= cur.end
    assert all(0.0 <= w.start <= w.end <= 4.0 for w in words)
    assert words[2].interpolated and words[4].interpolated
    assert words[4].end == 4.0


def test_finalize_without_any_time_fails():
    with pytest.raises(BackendFailed):
        finalize(tokenize("a b"), [None, None], 1.0)


def test_to_dict_converts_numpy_floats():
    np = pytest.importorskip("numpy")
    result = AlignmentResult([WordTiming("a", np.float64(0.1234), np.float32(0.5), np.float64(0.9))], "sphinx",
                             [Attempt("whisperx", "skipped", "why")], np.float64(1.0))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["words"][0] == {"word": "a", "start": 0.123, "end": 0.5, "confidence": 0.9, "interpolated": False}
    assert AlignmentResult.from_dict(data).words[0].start == 0.123


def test_squeezed_frames_map_back_to_the_samples_they_hold():
    """Pauses cut out for pocketsphinx: every 10 ms frame of the squeezed audio maps to the very
    sample it starts with in the original, across pieces of any length (not whole frames)."""
    from f5ui.timing.pauses import FRAME, squeeze

    rng = np.random.default_rng(0)
    parts = []
    for _ in range(20):
        parts.append(np.zeros(int(16000 * rng.uniform(0.3, 0.6)), np.float32))
        parts.append((0.3 * rng.standard_normal(int(16000 * rng.uniform(0.3, 0.9)) + int(rng.integers(0, 159))))
                     .astype(np.float32))
    samples = np.concatenate(parts + [np.zeros(8000, np.float32)])
    squeezed, timeline = squeeze(samples)
    assert 0 < len(squeezed) < len(samples) and len(timeline) == -(-len(squeezed) // FRAME)
    original = np.round(timeline * 16000).astype(int)
    assert np.array_equal(squeezed[np.arange(len(timeline)) * FRAME], samples[original])
    assert np.all(np.diff(timeline) > 0)
