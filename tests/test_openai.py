"""The OpenAI-compatible speech API driven by the official `openai` client: every response format
decoded and its duration checked, the errors in OpenAI's shape and status codes, the API key,
and one model slot shared with the Gradio API (generations never overlap)."""

from __future__ import annotations

import io
import re
import threading

import openai
import pytest
import requests
import soundfile as sf
from gradio_client import handle_file

from tests.helpers import LiveApp, generate

pytestmark = pytest.mark.live
KEY = "sk-f5ui-test-key"
BEARER = {"Authorization": f"Bearer {KEY}"}  # the key protects the Gradio API too
VOICE = "Narrator"


@pytest.fixture(scope="module")
def app(tiny_env, tmp_path_factory, ref_clip):
    app = LiveApp(dict(tiny_env, F5UI_API_KEY=KEY), tmp_path_factory.mktemp("openai-app"))
    try:
        app.wait_http()
        app.client(headers=BEARER).predict(handle_file(str(ref_clip[0])), ref_clip[1], VOICE, False, "",
                                           api_name="/save_voice")
        app.wait_ready()
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def oai(app):
    return openai.OpenAI(base_url=f"{app.url}/v1", api_key=KEY, max_retries=0, timeout=120)


def decoded_seconds(data: bytes, fmt: str) -> float:
    if fmt == "pcm":
        return len(data) / 2 / 24000  # 16-bit mono at 24 kHz, as OpenAI's pcm
    if fmt in ("wav", "flac"):
        return sf.info(io.BytesIO(data)).duration
    from pydub import AudioSegment

    return AudioSegment.from_file(io.BytesIO(data), format={"opus": "ogg", "aac": "aac"}.get(fmt, fmt)).duration_seconds


@pytest.mark.parametrize("fmt, content_type", [("mp3", "audio/mpeg"), ("opus", "audio/ogg"), ("aac", "audio/aac"),
                                               ("flac", "audio/flac"), ("wav", "audio/wav"), ("pcm", "audio/pcm")])
def test_every_response_format_decodes(oai, fmt, content_type):
    answer = oai.audio.speech.create(model="tts-1", voice=VOICE, input="Any OpenAI client can use this voice.",
                                     response_format=fmt)
    data = answer.read()
    assert answer.response.headers["content-type"] == content_type
    assert decoded_seconds(data, fmt) > 0.5


def test_models_and_voices_are_listed(oai, app):
    assert {m.id for m in oai.models.list().data} >= {"f5-tts", "tts-1", "tts-1-hd"}
    voices = requests.get(f"{app.url}/v1/audio/voices", headers={"authorization": f"Bearer {KEY}"}, timeout=10).json()
    assert voices["voices"] == [VOICE] and voices["data"][0]["name"] == VOICE


@pytest.mark.parametrize("request_args, status, code, param", [
    ({"voice": "alloy"}, 400, "voice_not_found", "voice"),
    ({"input": ""}, 400, "empty_input", "input"),
    ({"input": "x" * 5001}, 413, "input_too_long", "input"),
    ({"speed": 3.5}, 400, "invalid_speed", "speed"),
    ({"response_format": "ogg"}, 400, "invalid_response_format", "response_format"),
    ({"model": "whisper-1"}, 400, "model_not_found", "model"),
])
def test_errors_come_in_openai_shape(oai, request_args, status, code, param):
    args = {"model": "tts-1", "voice": VOICE, "input": "Hello.", **request_args}
    with pytest.raises(openai.APIStatusError) as info:
        oai.audio.speech.create(**args)
    assert info.value.status_code == status
    error = info.value.body
    assert error["code"] == code and error["param"] == param and error["message"] and error["type"]


def test_the_api_key_is_required(app):
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": KEY}):
        answer = requests.post(f"{app.url}/v1/audio/speech", json={"model": "tts-1", "voice": VOICE, "input": "Hi"},
                               headers=headers, timeout=30)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_api_key"
    assert requests.get(f"{app.url}/v1/models", timeout=10).status_code == 401
    bad = openai.OpenAI(base_url=f"{app.url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.audio.speech.create(model="tts-1", voice=VOICE, input="Hi")


def test_one_model_slot_for_the_ui_and_the_openai_api(app, oai, ref_clip):
    """A Gradio generation and an OpenAI request at once: both finish, their inference never overlaps."""
    long_text = "This generation runs through the Gradio queue while an OpenAI request arrives. " * 3
    results: dict[str, object] = {}

    def gradio_side() -> None:
        results["gradio"] = generate(app.client(headers=BEARER), ref_clip[0], ref_clip[1], long_text,
                                     word_timings=False)[0]

    def openai_side() -> None:
        results["openai"] = oai.audio.speech.create(model="tts-1", voice=VOICE, input=long_text,
                                                    response_format="wav").read()

    threads = [threading.Thread(target=gradio_side), threading.Thread(target=openai_side)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert sf.info(results["gradio"]).duration > 1 and sf.info(io.BytesIO(results["openai"])).duration > 1
    spans = sorted((float(a), float(b)) for a, b in
                   re.findall(r"s inference \((\d+\.\d+)–(\d+\.\d+)\)", app.log_path.read_text()))
    assert len(spans) >= 2
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:]))  # one after the other


def test_a_model_that_is_not_ready_answers_503(tiny_env, tmp_path, ref_clip):
    app = LiveApp(dict(tiny_env, F5UI_PRELOAD="0"), tmp_path / "idle")
    try:
        app.wait_http()
        app.client().predict(handle_file(str(ref_clip[0])), ref_clip[1], VOICE, False, "", api_name="/save_voice")
        client = openai.OpenAI(base_url=f"{app.url}/v1", api_key="unused", max_retries=0)
        with pytest.raises(openai.InternalServerError) as info:
            client.audio.speech.create(model="tts-1", voice=VOICE, input="Not yet.")
        assert info.value.status_code == 503 and info.value.body["code"] == "model_loading"
        assert info.value.response.headers["retry-after"] == "10"
        app.wait_ready()  # the refused request started the load
        assert decoded_seconds(client.audio.speech.create(model="tts-1", voice=VOICE, input="Now it is ready.",
                                                          response_format="wav").read(), "wav") > 0.5
    finally:
        app.stop()
