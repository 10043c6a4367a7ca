"""The live app on 127.0.0.1, driven the way programs use it: gradio_client and HTTP."""

from __future__ import annotations

import time

import pytest
import requests
import soundfile as sf

from tests.helpers import LiveApp, generate

pytestmark = pytest.mark.live  # every test here talks to an app process


def test_ui_answers_while_the_model_loads_and_health_reports_readiness(tiny_env, tmp_path):
    app = LiveApp(tiny_env, tmp_path / "app")
    try:
        app.wait_http()
        # The page is served before the model is ready (importing f5-tts alone takes seconds).
        assert requests.get(app.url + "/", timeout=10).status_code == 200
        first = app.health()
        assert first["status"] == "ok" and first["model"]["state"] in ("loading", "ready")
        health = app.wait_ready()
        assert health["ready"] is True and health["model"]["state"] == "ready"
        assert health["model"]["load_seconds"] > 0
    finally:
        app.stop()


def test_generate_endpoint_returns_audio_seed_text_and_picture(client, ref_clip, live_app):
    ref, ref_text = ref_clip
    audio, seed, ref_text_used, picture, timing, files, quality = generate(
        client, ref, ref_text, "Programs call the same generate function as the browser.", seed=77)
    info = sf.info(audio)
    assert info.samplerate == 24000 and info.duration > 1.0
    assert seed == 77 and ref_text_used == ref_text
    assert picture.endswith(".png")
    assert [w["word"] for w in timing["words"]][0] == "Programs" and len(files) == 6
    assert live_app.health()["ready"] is True


def test_randomize_seed_reports_the_seed_used(client, ref_clip):
    ref, ref_text = ref_clip
    _, seed, *_ = generate(client, ref, ref_text, "A random seed.", seed=5, randomize_seed=True)
    assert isinstance(seed, (int, float)) and 0 <= seed < 2**31


def test_api_page_lists_only_documented_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/generate", "/generate_stream", "/align", "/check", "/diagnostics", "/export",
                              "/save_voice", "/voices", "/rename_voice", "/delete_voice", "/sync_voices",
                              "/project_create", "/project_run", "/project_pause", "/project_status",
                              "/project_segment", "/project_export", "/projects", "/project"}
    params = [p["parameter_name"] for p in endpoints["/generate"]["parameters"]]
    assert params == ["ref_audio", "ref_text", "gen_text", "speed", "nfe_step", "cfg_strength", "cross_fade",
                      "seed", "randomize_seed", "remove_silence", "word_timings", "aligner", "voice", "max_takes",
                      "normalize_loudness"]
    assert [p["parameter_name"] for p in endpoints["/generate_stream"]["parameters"]] == params
    assert [p["parameter_name"] for p in endpoints["/align"]["parameters"]] == [
        "audio", "transcript", "language", "aligner"]
    assert [p["parameter_name"] for p in endpoints["/export"]["parameters"]] == ["audio", "timings", "audio_format"]
    assert [p["parameter_name"] for p in endpoints["/save_voice"]["parameters"]] == [
        "audio", "ref_text", "name", "overwrite", "notes"]
    assert [p["parameter_name"] for p in endpoints["/project_create"]["parameters"]] == [
        "file", "text", "name", "default_voice", "speakers", "settings"]
    assert [p["parameter_name"] for p in endpoints["/project_segment"]["parameters"]] == [
        "project_id", "segment_id", "action", "text", "speaker", "seed"]
    assert [p["parameter_name"] for p in endpoints["/project_export"]["parameters"]] == [
        "project_id", "audio_format", "cover", "srt_names"]
    assert [p["parameter_name"] for p in endpoints["/project_pause"]["parameters"]] == ["project_id", "cancel"]


def test_requests_wait_for_a_loading_model_instead_of_failing(tiny_env, tmp_path, ref_clip):
    """A request sent the moment the page answers waits for the background load and succeeds."""
    app = LiveApp(tiny_env, tmp_path / "early")
    try:
        app.wait_http()
        started_state = app.health()["model"]["state"]
        ref, ref_text = ref_clip
        client = app.client()
        started = time.monotonic()
        audio, *_ = generate(client, ref, ref_text, "Sent while the model loads.", seed=3)
        assert sf.info(audio).duration > 0
        assert started_state in ("loading", "ready")
        assert time.monotonic() - started < 120
    finally:
        app.stop()


def test_inputs_left_off_are_null_and_take_their_defaults_on_every_endpoint(live_app, ref_clip):
    """What a JS or raw-HTTP caller sends for the trailing inputs it leaves off: null. Null is each optional
    input's default; a required one left null is named in a plain message (never 'None')."""
    from tests.raw_api import call, file_ref, upload

    ref, ref_text = ref_clip
    uploaded = file_ref(upload(live_app.url, ref))

    def called(endpoint: str, given: list, count: int):  # noqa: ANN202
        return call(live_app.url, endpoint, given + [None] * (count - len(given)), timeout=900)

    for endpoint in ("generate", "generate_stream"):
        answer = called(endpoint, [uploaded, ref_text, "Left off, the rest is default."], 15)
        assert answer.event == "complete", answer.body[-600:]
    audio, seed, _, _, timings, files, quality = answer_of(called("generate", [uploaded, ref_text, "Defaults."], 15))
    assert seed >= 0 and [w["word"] for w in timings["words"]] == ["Defaults."] and len(files) == 6  # timed: default
    assert quality is not None
    timed = called("align", [uploaded, ref_text], 4)
    assert timed.event == "complete" and timed.data[0]["words"][0]["word"] == "Some"
    assert called("check", [uploaded, ref_text], 4).data[0]["word_accuracy"] is not None
    exported = called("export", [uploaded], 3)
    assert exported.event == "complete" and {"speech.wav", "speech.mp3"} <= {f["name"] for f in
                                                                              exported.data[0]["files"]}
    saved = called("save_voice", [uploaded, ref_text, "Left Off"], 5)
    assert saved.event == "complete" and saved.data[0]["name"] == "Left Off"
    for endpoint, given, count in (("rename_voice", ["Left Off"], 2), ("delete_voice", [], 1)):
        refused = called(endpoint, given, count)
        assert refused.event == "error" and "needs a name" in refused.data["error"], refused.body
        assert "None" not in refused.data["error"]
    assert called("delete_voice", ["Left Off"], 1).event == "complete"


def answer_of(answer) -> list:  # noqa: ANN001 - tests.raw_api.Answer
    assert answer.event == "complete", answer.body[-600:]
    return answer.data
