"""Accuracy on real speech with ground truth: espeak-ng clips whose word starts come
from libespeak-ng's WORD events, and the f5-tts wheel's human recording."""

from __future__ import annotations

import numpy as np
import pytest

from f5ui.config import from_env
from f5ui.timing.chain import AlignmentChain
from f5ui.timing.words import tokenize
from tests.speech import CHECK_SENTENCES, CLIPS, HUMAN_CLIP_TEXT, check_speaker, clip, clip_dir, human_clip

SPHINX_LIMIT = 0.040
ESTIMATE_LIMIT = 0.120


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = clip_dir(tmp_path_factory)
    return [clip(folder, text, voice, rate) for text, voice, rate in CLIPS]


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    return AlignmentChain(from_env({"F5UI_DATA_DIR": str(tmp_path_factory.mktemp("align-data")),
                                    "F5UI_ALIGNERS": "sphinx,estimate"}))


def _start_errors(chain, clips, backend):
    per_clip, all_errors = [], []
    for c in clips:
        result = chain.align(c.wav, c.text, backend=backend)
        assert result.backend == backend, result.attempts
        truth = c.truth_for(tokenize(c.text))
        assert len(result.words) == len(truth)
        errors = [abs(w.start - t) for w, t in zip(result.words, truth) if t is not None]
        assert len(errors) >= 0.8 * len(truth)  # ground truth for (nearly) every word
        per_clip.append((c.voice, c.rate, float(np.mean(errors)), float(np.max(errors))))
        all_errors += errors
    return float(np.mean(all_errors)), per_clip


@pytest.mark.parametrize("backend,limit", [("sphinx", SPHINX_LIMIT), ("estimate", ESTIMATE_LIMIT)])
def test_mean_word_start_error_on_espeak_speech(chain, clips, backend, limit):
    assert len(clips) >= 6 and len({c.voice for c in clips}) >= 4 and len({c.rate for c in clips}) >= 4
    mean, per_clip = _start_errors(chain, clips, backend)
    for voice, rate, m, mx in per_clip:
        print(f"  {backend:8s} {voice:9s} rate {rate:3d}: mean {m * 1000:5.1f} ms, max {mx * 1000:5.1f} ms")
    print(f"{backend}: mean absolute word-start error {mean * 1000:.1f} ms over {len(clips)} clips "
          f"(limit {limit * 1000:.0f} ms)")
    assert mean <= limit


def test_sphinx_aligns_every_sentence_of_the_larger_set(chain, tmp_path_factory):
    """24 more sentences, every voice at every rate: none may fall back to the estimate (with the
    beams of 1e-80 this set lost 4 alignments; the wider beams and the second pass lose none)."""
    folder = clip_dir(tmp_path_factory)
    clips = [clip(folder, text, *check_speaker(i)) for i, text in enumerate(CHECK_SENTENCES)]
    mean, per_clip = _start_errors(chain, clips, "sphinx")
    print(f"sphinx on {len(clips)} more sentences: mean word-start error {mean * 1000:.1f} ms, worst clip "
          f"{max(m for *_, m, _ in per_clip) * 1000:.1f} ms")
    assert mean <= SPHINX_LIMIT


@pytest.mark.parametrize("hints", [False, True], ids=["found by a first decode", "from chunk hints"])
def test_sphinx_aligns_a_long_recording_in_pieces_as_closely_as_single_clips(chain, tmp_path_factory, hints):
    """75 s of sentences with pauses: aligned piece by piece, each piece's words found by a first
    decode against its window of the script, or known from the generation's chunks (here: each
    sentence a chunk); the word starts as close as on the clips alone."""
    from f5ui.audio import read_audio
    from f5ui.timing.pieces import cut
    from tests.speech import recording

    long = recording(clip_dir(tmp_path_factory), 75)
    audio = read_audio(long.wav)
    assert len(cut(audio.samples)) >= 5
    chunks = [(CHECK_SENTENCES[i], start, end) for i, (start, end) in zip(long.sentences, long.spans)]
    result = chain.align_samples(audio.samples, audio.sample_rate, long.text, chunk_hints=chunks if hints else None,
                                 backend="sphinx")
    assert result.backend == "sphinx" and not any(w.interpolated for w in result.words), result.attempts
    errors = [abs(w.start - t) for w, t in zip(result.words, long.starts) if t is not None]
    assert len(errors) >= 0.8 * len(result.words) > 150
    print(f"sphinx on a 75 s recording ({len(result.words)} words, in pieces{' from chunk hints' if hints else ''}): "
          f"mean word-start error "
          f"{np.mean(errors) * 1000:.1f} ms, {sum(e > 0.1 for e in errors)} words off by more than 100 ms")
    assert np.mean(errors) <= SPHINX_LIMIT


def test_estimate_uses_chunk_hints(chain, clips):
    """Two clips back to back, with the generation's chunk boundaries as hints."""
    import soundfile as sf

    a, b = clips[0], clips[1]
    xa, sr = sf.read(str(a.wav), dtype="float32")
    xb, _ = sf.read(str(b.wav), dtype="float32")
    joined = np.concatenate([xa, xb])
    hints = [(a.text, 0.0, len(xa) / sr), (b.text, len(xa) / sr, len(joined) / sr)]
    result = chain.align_samples(joined, sr, f"{a.text} {b.text}", chunk_hints=hints, backend="estimate")
    truth = a.truth_for(tokenize(a.text)) + [None if t is None else t + len(xa) / sr
                                            for t in b.truth_for(tokenize(b.text))]
    errors = [abs(w.start - t) for w, t in zip(result.words, truth) if t is not None]
    first_b = len(tokenize(a.text))
    assert result.words[first_b].start >= len(xa) / sr - 0.01  # chunk boundary respected
    print(f"estimate with chunk hints: mean start error {np.mean(errors) * 1000:.1f} ms")
    assert np.mean(errors) <= ESTIMATE_LIMIT


def test_human_recording_aligns_in_order_inside_the_clip(chain):
    import soundfile as sf

    path = human_clip()
    duration = sf.info(str(path)).duration
    result = chain.align(path, HUMAN_CLIP_TEXT)
    assert result.backend == "sphinx", result.attempts
    assert [w.word for w in result.words] == HUMAN_CLIP_TEXT.split()
    assert not any(w.interpolated for w in result.words)
    for prev, cur in zip(result.words, result.words[1:]):
        assert prev.start < cur.start and prev.end <= cur.start
    assert 0.0 <= result.words[0].start and result.words[-1].end <= duration
    # The clip has a pause after "nature,": the next word starts after it.
    assert result.words[4].start - result.words[3].end > 0.3
    assert not result.low_confidence and result.warning == ""
    print("human clip:", " ".join(f"{w.word}@{w.start:.2f}" for w in result.words))
