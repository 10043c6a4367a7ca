"""Every bad input gets a message that names the problem and the fix — through the
service and through the live API — and the app keeps serving afterwards."""

from __future__ import annotations

import pytest

from f5ui.errors import InputError
from f5ui.schema import GenerationParams
from tests.helpers import generate

GOOD_TEXT = "The app keeps serving after a bad request."

# name: (reference file key or None for the good clip, text, params, words the message must contain)
CASES = {
    "empty text": (None, "   ", {}, ["text to generate is empty", "Type what"]),
    "text too long": (None, "a" * 5001, {}, ["5001 characters", "maximum is 5000"]),
    "missing reference": ("missing", GOOD_TEXT, {}, ["No reference audio", "Upload or record"]),
    "corrupt wav": ("corrupt", GOOD_TEXT, {}, ["not an audio file", "Upload a WAV"]),
    "text file named mp3": ("text", GOOD_TEXT, {}, ["not an audio file", "Upload a WAV"]),
    "empty file": ("empty", GOOD_TEXT, {}, ["empty (0 bytes)"]),
    "silent reference": ("silent", GOOD_TEXT, {}, ["silent", "microphone level"]),
    "too short reference": ("tiny", GOOD_TEXT, {}, ["at least 0.3 s"]),
    "nfe too high": (None, GOOD_TEXT, {"nfe_step": 200}, ["200", "out of range", "4 to 64"]),
    "nfe too low": (None, GOOD_TEXT, {"nfe_step": 1}, ["out of range", "4 to 64"]),
    "speed too high": (None, GOOD_TEXT, {"speed": 5.0}, ["out of range", "0.3 to 2.0"]),
    "speed zero": (None, GOOD_TEXT, {"speed": 0.0}, ["out of range", "0.3"]),
    "cfg negative": (None, GOOD_TEXT, {"cfg_strength": -1.0}, ["out of range", "10"]),
    "cross-fade too long": (None, GOOD_TEXT, {"cross_fade": 3.0}, ["out of range", "1.0"]),
    "seed too large": (None, GOOD_TEXT, {"seed": 2**40}, ["out of range", "2147483647"]),
}


def _reference(key, ref_clip, audio_files):
    if key is None:
        return ref_clip[0]
    if key == "missing":
        return None
    return audio_files[key]


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_service_rejects_bad_input_with_a_fix(case, studio, ref_clip, audio_files):
    key, text, overrides, words = CASES[case]
    params = GenerationParams(**{"nfe_step": 8, "seed": 1, **overrides})
    with pytest.raises(InputError) as info:
        studio.generate(_reference(key, ref_clip, audio_files), ref_clip[1], text, params)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert info.value.fix, "every input error carries a fix"


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_api_answers_bad_input_with_a_message_and_keeps_serving(case, client, ref_clip, audio_files):
    from gradio_client.exceptions import AppError

    key, text, overrides, words = CASES[case]
    with pytest.raises(AppError) as info:
        generate(client, _reference(key, ref_clip, audio_files), ref_clip[1], text, **overrides)
    message = str(info.value)
    assert "Traceback" not in message
    for word in words:
        assert word in message, (word, message)
    # The next good request still works.
    audio, seed, ref_text_used, *_ = generate(client, ref_clip[0], ref_clip[1], GOOD_TEXT)
    assert seed == 1 and ref_text_used == ref_clip[1]
