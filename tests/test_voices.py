"""The voice library: save, list, rename, delete; names that cannot become paths; no silent
overwrite; generating with a saved voice preprocesses nothing, also after a restart; and the
sync with the bucket's voices/ prefix (moto's S3 server)."""

from __future__ import annotations

import pytest
import requests
import soundfile as sf
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from f5ui.config import from_env
from f5ui.engine.voices import LibraryFull
from f5ui.errors import InputError
from f5ui.export import voice_sync
from f5ui.paths import FileGate
from f5ui.schema import GenerationParams
from f5ui.service import Studio
from tests.helpers import LiveApp, generate, s3_studio_for


@pytest.fixture
def library_studio(tiny_env, tmp_path):
    return Studio(from_env({**tiny_env, "F5UI_DATA_DIR": str(tmp_path), "F5UI_PRELOAD": "0"}), files=FileGate(None))


def test_save_list_rename_delete(library_studio, ref_clip):
    voice = library_studio.save_voice(ref_clip[0], ref_clip[1], "  Mother   Nature ", notes="the f5-tts sample")
    assert voice.name == "Mother Nature" and voice.duration > 3 and voice.ref_text.startswith("Some call me")
    assert [v.public() for v in library_studio.voice_list()] == [voice.public()]
    assert "folder" not in voice.public()  # where it lives on the server is never shown
    renamed = library_studio.rename_voice("mother nature", "Gaia")  # names match without regard to case
    assert renamed.id == voice.id and [v.name for v in library_studio.voice_list()] == ["Gaia"]
    library_studio.delete_voice("Gaia")
    assert library_studio.voice_list() == []
    with pytest.raises(InputError, match="no saved voice named 'Gaia'"):
        library_studio.delete_voice("Gaia")


@pytest.mark.parametrize("name, expected", [
    ("../x", "contains './'"), ("a/b", "contains '/'"), ("..", "contains '.'"), ("", "needs a name"),
    ("x" * 65, "maximum is 64"), ("semi;colon", "contains ';'"),
    ("nul\x00", "contains '\\x00'"),
])
def test_names_cannot_become_paths(library_studio, ref_clip, name, expected):
    with pytest.raises(InputError) as info:
        library_studio.save_voice(ref_clip[0], ref_clip[1], name)
    assert expected in str(info.value) and info.value.fix
    assert list(library_studio.voices.root.iterdir()) == []  # nothing written, inside or outside the library


def test_no_silent_overwrite(library_studio, ref_clip, audio_files):
    first = library_studio.save_voice(ref_clip[0], ref_clip[1], "Narrator")
    with pytest.raises(InputError, match="already saved"):
        library_studio.save_voice(audio_files["mp3"], ref_clip[1], "narrator")
    replaced = library_studio.save_voice(audio_files["mp3"], ref_clip[1], "Narrator", overwrite=True)
    assert replaced.id == first.id and len(library_studio.voice_list()) == 1
    with pytest.raises(InputError, match="overwrite must be true or false"):
        library_studio.save_voice(ref_clip[0], ref_clip[1], "Narrator", overwrite="yes")


def test_generating_with_a_saved_voice_preprocesses_nothing(studio, ref_clip):
    voice = studio.save_voice(ref_clip[0], ref_clip[1], "Service Voice", overwrite=True)
    misses = studio.references.misses
    result = studio.generate(None, "", "A saved voice needs no preparation.", GenerationParams(nfe_step=8, seed=2),
                             word_timings=False, voice="Service Voice")
    assert studio.references.misses == misses and result.timings_s["reference"] == 0.0
    assert result.ref_text == voice.ref_text and sf.info(str(result.audio_path)).duration > 0.5
    with pytest.raises(InputError, match="Pick one of the saved voices"):
        studio.generate(None, "", "Hi.", GenerationParams(nfe_step=8), voice="Nobody")


@pytest.mark.live
def test_voices_survive_a_restart_and_generate_without_preprocessing(tiny_env, tmp_path, ref_clip):
    data = tmp_path / "data"
    first = LiveApp(dict(tiny_env, F5UI_DATA_DIR=str(data)), tmp_path / "run1")
    try:
        first.wait_http()
        saved = first.client().predict(handle_file(str(ref_clip[0])), ref_clip[1], "Restart Voice", False, "kept",
                                       api_name="/save_voice")
        assert saved["name"] == "Restart Voice" and saved["notes"] == "kept"
    finally:
        first.stop()
    second = LiveApp(dict(tiny_env, F5UI_DATA_DIR=str(data)), tmp_path / "run2")
    try:
        second.wait_http()
        client = second.client()
        assert [v["name"] for v in client.predict(api_name="/voices")] == ["Restart Voice"]
        audio, _, ref_text_used, *_ = generate(client, None, "", "After a restart, the same voice.",
                                               voice="Restart Voice")
        assert sf.info(audio).duration > 0.5 and ref_text_used == saved["ref_text"].strip()
        log = second.log_path.read_text()
        assert "Generated" in log and "Reference prepared" not in log  # no conversion, clipping or transcription
        with pytest.raises(AppError, match="contains './'"):
            client.predict(handle_file(str(ref_clip[0])), ref_clip[1], "../x", False, "", api_name="/save_voice")
        with pytest.raises(AppError, match="already saved"):
            client.predict(handle_file(str(ref_clip[0])), ref_clip[1], "restart voice", False, "",
                           api_name="/save_voice")
        # The voice folder is not served: nothing of the library is reachable by URL.
        voice_files = [p for p in (data / "voices").rglob("*") if p.is_file()]
        assert voice_files
        assert all(requests.get(f"{second.url}/gradio_api/file={p}", timeout=5).status_code in (403, 404)
                   for p in voice_files)
        assert client.predict("Restart Voice", "Renamed", api_name="/rename_voice")["name"] == "Renamed"
        assert client.predict("Renamed", api_name="/delete_voice") == []
        assert not [p for p in (data / "voices").rglob("*") if p.is_file()]
    finally:
        second.stop()


def test_voices_sync_through_the_bucket(tiny_env, tmp_path, ref_clip, s3_open, monkeypatch, studio):
    here = s3_studio_for(tiny_env, tmp_path / "here", s3_open.env(F5UI_S3_PREFIX="sync"), monkeypatch)
    there = s3_studio_for(tiny_env, tmp_path / "there", s3_open.env(F5UI_S3_PREFIX="sync"), monkeypatch)
    here.save_voice(ref_clip[0], ref_clip[1], "Travelling Voice")
    assert here.sync_voices() == {"pushed": ["Travelling Voice"], "imported": [], "updated": [], "skipped": []}
    assert len(s3_open.keys_under("sync/voices/")) == 2  # voice.json and reference.wav
    report = there.sync_voices()
    assert report["imported"] == ["Travelling Voice"] and report["pushed"] == []
    (imported,) = there.voice_list()
    assert imported.ref_text == here.voice_list()[0].ref_text
    assert sf.read(str(imported.audio_path))[0].tolist() == sf.read(str(here.voice_list()[0].audio_path))[0].tolist()
    there.save_voice(ref_clip[0], ref_clip[1], "Only There")
    assert there.sync_voices()["pushed"] == ["Only There"] and here.sync_voices()["imported"] == ["Only There"]
    # Keys the bucket holds are not trusted either: an id like ".." is never fetched to a path.
    bucket = s3_open.env()["F5UI_S3_BUCKET"]
    for name in ("voice.json", "reference.wav"):
        s3_open.s3().put_object(Bucket=bucket, Key=f"sync/voices/../{name}", Body=b"{}")
    assert "sync/voices/../voice.json" in s3_open.keys_under("sync/voices/")
    assert ".." not in voice_sync.remote_voice_ids(there.exports, "sync")
    assert there.sync_voices() == {"pushed": [], "imported": [], "updated": [], "skipped": []}
    # Saved over here, renamed there: each change reaches the other side, the newer copy winning.
    samples, rate = sf.read(str(ref_clip[0]))
    shorter = tmp_path / "shorter.wav"
    sf.write(str(shorter), samples[: len(samples) // 2], rate)
    here.save_voice(shorter, "A shorter take.", "Travelling Voice", overwrite=True)
    assert here.sync_voices()["pushed"] == ["Travelling Voice"]
    report = there.sync_voices()
    assert report["updated"] == ["Travelling Voice"] and report["pushed"] == []
    moved = there.voices.get("Travelling Voice")
    assert moved.ref_text.strip() == "A shorter take." and moved.id == here.voices.get("Travelling Voice").id
    assert abs(moved.duration - here.voices.get("Travelling Voice").duration) < 0.01
    assert moved.created < moved.updated  # the first save's time is kept
    there.rename_voice("Travelling Voice", "Well Travelled")
    assert there.sync_voices()["pushed"] == ["Well Travelled"]
    assert here.sync_voices()["updated"] == ["Well Travelled"]
    assert sorted(v.name for v in here.voice_list()) == ["Only There", "Well Travelled"]
    assert here.sync_voices() == there.sync_voices() == {"pushed": [], "imported": [], "updated": [], "skipped": []}
    local = Studio(from_env({**tiny_env, "F5UI_DATA_DIR": str(tmp_path / "local")}), files=FileGate(None))
    with pytest.raises(InputError, match="needs an S3 bucket"):
        local.sync_voices()


def test_the_library_has_a_ceiling_in_voices(tiny_env, tmp_path, ref_clip):
    studio = Studio(from_env({**tiny_env, "F5UI_DATA_DIR": str(tmp_path), "F5UI_PRELOAD": "0",
                              "F5UI_MAX_VOICES": "2"}), files=FileGate(None))
    studio.save_voice(ref_clip[0], ref_clip[1], "One")
    studio.save_voice(ref_clip[0], ref_clip[1], "Two")
    with pytest.raises(LibraryFull, match="The voice library is full: it holds 2 voices, the most F5UI_MAX_VOICES"):
        studio.save_voice(ref_clip[0], ref_clip[1], "Three")
    assert studio.save_voice(ref_clip[0], ref_clip[1], "Two", overwrite=True).name == "Two"  # replacing adds none
    studio.delete_voice("One")
    assert studio.save_voice(ref_clip[0], ref_clip[1], "Three").name == "Three"
    assert [v.name for v in studio.voice_list()] == ["Three", "Two"]


def test_the_library_has_a_ceiling_in_bytes(tiny_env, tmp_path, ref_clip):
    env = {**tiny_env, "F5UI_DATA_DIR": str(tmp_path), "F5UI_PRELOAD": "0"}
    first = Studio(from_env(env), files=FileGate(None))
    first.save_voice(ref_clip[0], ref_clip[1], "One")
    one_voice = first.voices.size()
    assert one_voice > 50_000
    # Room for one and a half voices: the second save is refused, replacing the first is not.
    capped = Studio(from_env({**env, "F5UI_MAX_VOICES_MB": str(1.5 * one_voice / 2**20)}), files=FileGate(None))
    with pytest.raises(LibraryFull, match=r"would bring the voice library to .* MB; the most F5UI_MAX_VOICES_MB"):
        capped.save_voice(ref_clip[0], ref_clip[1], "Two")
    assert [v.name for v in capped.voice_list()] == ["One"] and capped.voices.size() == one_voice
    assert capped.save_voice(ref_clip[0], ref_clip[1], "One", overwrite=True, notes="again").notes == "again"
