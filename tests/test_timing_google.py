"""The Google Speech-to-Text path against a real gRPC peer on 127.0.0.1."""

from __future__ import annotations

import time

import grpc
import pytest

from f5ui.config import from_env
from f5ui.timing.chain import AlignmentChain
from f5ui.timing.words import tokenize
from tests.google_speech_server import SpeechServer
from tests.speech import CLIPS, clip, clip_dir


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return clip(clip_dir(tmp_path_factory), *CLIPS[1])


@pytest.fixture()
def server():
    srv = SpeechServer().start()
    yield srv
    srv.stop()


def _chain(tmp_path, server):
    return AlignmentChain(from_env({"F5UI_DATA_DIR": str(tmp_path), "F5UI_ALIGNERS": "google,sphinx,estimate",
                                    "F5UI_GOOGLE_ENDPOINT": f"insecure://{server.address}"}))


def _heard(speech):
    """What a recognizer would answer: the clip's words with their espeak times, lower case."""
    tokens = tokenize(speech.text)
    out = []
    for tok in tokens:
        ev = next(e for e in speech.events if tok.start_char <= e["pos"] < tok.end_char)
        out.append((tok.norm, ev["start"], ev["end"]))
    return out


def test_google_word_offsets_are_used(tmp_path, server, speech):
    server.words = _heard(speech)
    result = _chain(tmp_path, server).align(speech.wav, speech.text)
    assert result.backend == "google" and not result.low_confidence, result.attempts
    assert [w.word for w in result.words] == speech.text.split()
    for w, (_, s, e) in zip(result.words, server.words):
        assert w.start == pytest.approx(s, abs=0.001) and w.end == pytest.approx(e, abs=0.001)
    request = server.requests[-1]
    assert request.config.enable_word_time_offsets and request.config.sample_rate_hertz == 16000
    assert request.config.encoding.name == "LINEAR16" and request.config.language_code == "en-US"
    assert abs(len(request.audio.content) / 2 / 16000 - result.duration) < 0.01


def test_unheard_words_are_interpolated(tmp_path, server, speech):
    heard = _heard(speech)
    server.words = heard[:3] + heard[4:]  # the recognizer missed one word
    result = _chain(tmp_path, server).align(speech.wav, speech.text)
    assert result.backend == "google"
    assert result.words[3].interpolated and not result.words[2].interpolated
    assert heard[2][2] <= result.words[3].start + 0.001 and result.words[3].end <= heard[4][1] + 0.001


@pytest.mark.parametrize("code", [grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAVAILABLE])
def test_errors_fall_through_to_the_next_backend(tmp_path, server, speech, code):
    server.error = code
    started = time.monotonic()
    result = _chain(tmp_path, server).align(speech.wav, speech.text)
    assert time.monotonic() - started < 10  # no retry loop
    assert result.attempts[0].backend == "google" and result.attempts[0].status == "failed"
    assert code.name in result.attempts[0].reason
    assert result.backend == "sphinx" and len(server.requests) == 1


def test_mismatch_is_flagged(tmp_path, server, speech):
    server.words = [("completely", 0.1, 0.5), ("other", 0.6, 0.9), ("words", 1.0, 1.4), ("here", 1.5, 1.8)]
    result = _chain(tmp_path, server).align(speech.wav, speech.text)
    assert result.backend == "google" and result.low_confidence
    assert "may not match" in result.warning


def test_bad_credentials_fail_with_reason(tmp_path, speech):
    creds = tmp_path / "creds.json"
    creds.write_text('{"type": "service_account", "client_email": "x"}')
    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(tmp_path), "F5UI_ALIGNERS": "google,sphinx",
                                     "F5UI_GOOGLE_CREDENTIALS": str(creds)}))
    assert chain.availability("google").ok  # configured: enabled
    result = chain.align(speech.wav, speech.text)
    assert result.attempts[0].status == "failed" and "credentials" in result.attempts[0].reason
    assert result.backend == "sphinx"


def test_off_without_credentials(tmp_path, speech, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(tmp_path)}))
    available = chain.availability("google")
    assert not available.ok and "GOOGLE_APPLICATION_CREDENTIALS" in available.reason and available.fix
