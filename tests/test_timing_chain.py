"""The chain's contract: input checks, skip/fail reasons, forced backends, warnings."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from f5ui.config import from_env
from f5ui.errors import InputError
from f5ui.timing.chain import AlignmentChain
from tests.speech import CLIPS, HUMAN_CLIP_TEXT, clip, clip_dir, human_clip


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    return AlignmentChain(from_env({"F5UI_DATA_DIR": str(tmp_path_factory.mktemp("chain-data")),
                                    "F5UI_MAX_ALIGN_SECONDS": "20"}))


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return clip(clip_dir(tmp_path_factory), *CLIPS[0])


def test_default_order_explains_every_skip(chain):
    result = chain.align(human_clip(), HUMAN_CLIP_TEXT)
    names = [a.backend for a in result.attempts]
    assert names == ["whisperx", "google", "sphinx"] and result.backend == "sphinx"
    assert [a.status for a in result.attempts] == ["skipped", "skipped", "used"]
    assert "punkt_tab" in result.attempts[0].reason  # whisperx never reaches for the network
    assert "credentials" in result.attempts[1].reason
    json.dumps(result.to_dict())


def test_availability_of_every_backend_with_a_fix_for_the_off_ones(chain):
    from f5ui.timing.registry import BACKEND_NAMES

    assert chain.order == list(BACKEND_NAMES) == ["whisperx", "google", "sphinx", "estimate"]
    rows = {name: chain.availability(name) for name in chain.order}
    assert rows["sphinx"].ok and rows["estimate"].ok and not rows["google"].ok
    assert "F5UI_GOOGLE_CREDENTIALS" in rows["google"].fix
    german = chain.availability("sphinx", "de")  # sphinx is English only
    assert not german.ok and "F5UI_LANGUAGE=en" in german.fix


def test_empty_transcript(chain, speech):
    for text in ("", "   \n"):
        with pytest.raises(InputError, match="transcript is empty"):
            chain.align(speech.wav, text)


def test_punctuation_only_transcript(chain, speech):
    with pytest.raises(InputError, match="only punctuation"):
        chain.align(speech.wav, " ... — !? ")


def test_punctuation_tokens_do_not_become_words(chain, speech):
    text = speech.text.replace(",", " ,").replace(" lazy", " — lazy")
    result = chain.align(speech.wav, text)
    assert len(result.words) == len(speech.text.split())
    assert any(w.word.endswith("—") for w in result.words)


def test_silent_and_empty_audio(chain, tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000 * 2, dtype=np.float32), 16000)
    with pytest.raises(InputError, match="silent"):
        chain.align(silent, "hello world")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        chain.align(empty, "hello world")
    no_frames = tmp_path / "no_frames.wav"
    sf.write(no_frames, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(InputError, match="empty"):
        chain.align(no_frames, "hello world")


def test_too_long_audio(chain, speech, tmp_path):
    x, sr = sf.read(str(speech.wav), dtype="float32")
    long_path = tmp_path / "long.wav"
    sf.write(long_path, np.tile(x, int(25 * sr / len(x)) + 1), sr)
    with pytest.raises(InputError, match="at most 20 s"):
        chain.align(long_path, speech.text)


def test_non_english_skips_sphinx_with_reason(chain, speech):
    result = chain.align(speech.wav, "Der schnelle braune Fuchs springt über den faulen Hund.", language="de")
    sphinx = next(a for a in result.attempts if a.backend == "sphinx")
    assert sphinx.status == "skipped" and "English" in sphinx.reason
    assert result.backend == "estimate" and result.low_confidence
    assert len(result.words) == 9


def test_non_english_text_in_english_mode_is_skipped(chain, speech):
    result = chain.align(speech.wav, "Быстрая коричневая лиса прыгает через ленивую собаку.", backend="sphinx")
    assert result.attempts[0].status == "skipped" and "does not look English" in result.attempts[0].reason
    assert result.backend == "estimate"


def test_mismatched_transcript_warns(chain, speech):
    wrong = "I have three apples and twenty dollars in my pocket today, said the baker."
    result = chain.align(speech.wav, wrong)
    assert result.low_confidence and result.warning
    assert "match" in result.warning
    assert len(result.words) == len(wrong.split())
    print("mismatch warning:", result.warning)


def test_forced_backend_falls_back_to_estimate_with_reason(chain, speech):
    result = chain.align(speech.wav, speech.text, backend="google")
    assert [a.backend for a in result.attempts] == ["google", "estimate"]
    assert result.attempts[0].status == "skipped" and result.backend == "estimate"
    with pytest.raises(InputError, match="Unknown aligner"):
        chain.align(speech.wav, speech.text, backend="nope")


def test_numbers_are_interpolated_not_dropped(chain, speech):
    text = speech.text.replace("long", "7")  # '7' is not in the pronunciation dictionary
    result = chain.align(speech.wav, text, backend="sphinx")
    assert result.backend == "sphinx"
    seven = next(w for w in result.words if w.word == "7")
    assert seven.interpolated and seven.end > seven.start
    for prev, cur in zip(result.words, result.words[1:]):
        assert prev.end <= cur.start


def test_aligners_setting_orders_and_ignores_unknown(tmp_path):
    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(tmp_path), "F5UI_ALIGNERS": "sphinx, bogus"}))
    assert chain.order == ["sphinx", "estimate"]


def test_an_availability_check_that_raises_hands_over_to_the_next_aligner(tmp_path, speech, monkeypatch):
    """A broken optional package (here nltk, which whisperx's availability imports) turns that aligner
    off for the request, with the reason; the next one times the words."""
    import builtins

    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(tmp_path), "F5UI_ALIGNERS": "whisperx,sphinx"}))
    real_import = builtins.__import__

    def broken_nltk(name, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if name == "nltk" or name.startswith("nltk."):
            raise ImportError("nltk is broken")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", broken_nltk)
    result = chain.align(speech.wav, speech.text)
    assert result.backend == "sphinx"
    assert result.attempts[0].backend == "whisperx" and "nltk is broken" in result.attempts[0].reason
    assert len(result.words) == len(speech.text.split())
    assert all(w.end <= sf.info(str(speech.wav)).duration + 0.05 for w in result.words)
