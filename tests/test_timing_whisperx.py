"""The WhisperX path end to end (whisperx.load_align_model + whisperx.align) with a
tiny random-weight Wav2Vec2ForCTC built here, and nltk punkt_tab data made with
nltk's own trainer: no hub, no network. A random model's times are arbitrary, so
this checks the contract (every word, in order, inside the audio), not accuracy."""

from __future__ import annotations

import json

import pytest

from f5ui.config import from_env
from f5ui.timing.chain import AlignmentChain
from tests.helpers import build_tiny_wav2vec2, install_punkt_tab
from tests.speech import CLIPS, clip, clip_dir


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("wx-data")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_wav2vec2(tmp_path_factory.mktemp("tiny-wav2vec2"))


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return clip(clip_dir(tmp_path_factory), *CLIPS[2])


def test_whisperx_skipped_without_punkt_then_used(data_dir, tiny_model, speech, isolated_nltk):
    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(data_dir), "F5UI_WHISPERX_MODEL": str(tiny_model),
                                     "F5UI_ALIGNERS": "whisperx,sphinx", "F5UI_DEVICE": "cpu"}))
    result = chain.align(speech.wav, speech.text)
    assert result.attempts[0].status == "skipped" and "punkt_tab" in result.attempts[0].reason
    assert result.backend == "sphinx"

    install_punkt_tab(data_dir / "nltk_data")  # where the reason says to put it
    # A digit is outside the model's alphabet: whisperx 3.8 times it through a wildcard column
    # (older versions left it untimed and the chain interpolated it). Either way it is kept.
    text = speech.text.replace("mother", "mother 2")
    result = chain.align(speech.wav, text)
    assert result.backend == "whisperx", result.attempts
    assert [w.word for w in result.words] == text.split()
    two = result.words[text.split().index("2")]
    assert two.end >= two.start
    for prev, cur in zip(result.words, result.words[1:]):
        assert prev.end <= cur.start <= cur.end
    assert 0.0 <= result.words[0].start and result.words[-1].end <= result.duration
    assert all(type(w.start) is float for w in result.words)
    json.dumps(result.to_dict())
    # Random weights score every character low: the result says so.
    assert result.low_confidence and "whisperx" in result.warning


def test_whisperx_uses_chunk_hints_as_segments(data_dir, tiny_model, speech):
    import soundfile as sf

    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(data_dir), "F5UI_WHISPERX_MODEL": str(tiny_model),
                                     "F5UI_ALIGNERS": "whisperx", "F5UI_DEVICE": "cpu"}))
    install_punkt_tab(data_dir / "nltk_data")
    duration = sf.info(str(speech.wav)).duration
    first, second = speech.text.split(",", 1)
    hints = [(first + ",", 0.0, duration / 2), (second.strip(), duration / 2, duration)]
    result = chain.align(speech.wav, speech.text, chunk_hints=hints)
    assert result.backend == "whisperx"
    n_first = len((first + ",").split())
    assert all(w.end <= duration / 2 + 0.001 for w in result.words[:n_first])
    assert all(w.start >= duration / 2 - 0.001 for w in result.words[n_first:])


def test_unloadable_model_fails_with_reason(tmp_path, speech):
    install_punkt_tab(tmp_path / "nltk_data")
    (tmp_path / "not-a-model").mkdir()
    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(tmp_path), "F5UI_ALIGNERS": "whisperx,sphinx",
                                     "F5UI_WHISPERX_MODEL": str(tmp_path / "not-a-model"), "F5UI_DEVICE": "cpu"}))
    for _ in range(2):  # the second request gets the remembered failure, without another load
        result = chain.align(speech.wav, speech.text)
        assert result.attempts[0].status == "failed" and "could not be loaded" in result.attempts[0].reason
        assert result.backend == "sphinx"
