"""Export of takes to S3 (moto's server on 127.0.0.1, a real HTTP endpoint) and to the local
folder: every file, presigned links fetched over HTTP byte for byte, content types, the
manifest written last, multipart uploads, each error a user can hit, and nothing half-done."""

from __future__ import annotations

import hashlib
import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile as sf

from f5ui.config import from_env
from f5ui.errors import UserFacingError
from f5ui.paths import FileGate
from f5ui.schema import GenerationParams
from f5ui.service import Studio
from tests.helpers import PATIENCE, by_name, diagnostics_for, generate, s3_studio_for
from tests.s3_server import BUCKET

TEXT = "Every file of this take goes to the bucket, then its manifest."
EXPECTED = {"speech.wav", "speech.mp3", "timings.words.srt", "timings.srt", "timings.vtt", "timings.json",
            "timings.csv", "timings.ass", "manifest.json"}


@pytest.fixture(scope="module")
def s3_studio(tiny_env, tmp_path_factory, s3_open):
    """A studio exporting to moto's open S3 server, its model loaded."""
    with pytest.MonkeyPatch.context() as patch:
        studio = s3_studio_for(tiny_env, tmp_path_factory.mktemp("s3-studio"), s3_open.env(), patch)
        studio.model.ensure_loading()
        assert studio.model.wait(PATIENCE).state == "ready"
        yield studio


@pytest.fixture(scope="module")
def take(s3_studio, ref_clip):
    """A generated take with word timings."""
    return s3_studio.generate(ref_clip[0], ref_clip[1], TEXT, GenerationParams(nfe_step=8, seed=5))


@pytest.fixture
def long_wav(tmp_path) -> Path:
    """About 6.5 MB of 24 kHz 16-bit audio: above a 5 MB multipart threshold."""
    rate = 24000
    t = np.arange(rate * 140) / rate
    path = tmp_path / "long.wav"
    sf.write(str(path), (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate, subtype="PCM_16")
    return path


def exported_keys(server, result) -> list[str]:
    prefix = result.location.removeprefix(f"s3://{BUCKET}/")
    return server.keys_under(prefix + "/")


def test_export_to_s3_every_file_presigned_and_the_manifest_last(take, s3_studio, s3_open):
    result = s3_studio.export(take.audio_path, take.timing.alignment.to_dict(), "mp3")
    assert result.kind == "s3" and result.location.startswith(f"s3://{BUCKET}/takes/{time.strftime('%Y/%m/%d')}/")
    names = [f.name for f in result.files]
    assert set(names) == EXPECTED and names[-1] == "manifest.json"
    assert [k.rsplit("/", 1)[1] for k in exported_keys(s3_open, result)] == sorted(EXPECTED)
    s3 = s3_open.s3()
    fetched = {}
    for item in result.files:
        answer = requests.get(item.url, timeout=10)  # the presigned link, over HTTP
        assert answer.status_code == 200, item.name
        key = f"{result.location.removeprefix(f's3://{BUCKET}/')}/{item.name}"
        stored = s3.get_object(Bucket=BUCKET, Key=key)
        assert answer.content == stored["Body"].read() and len(answer.content) == item.bytes  # byte for byte
        assert stored["ContentType"] == item.content_type
        fetched[item.name] = answer.content
    assert fetched["speech.wav"] == Path(take.audio_path).read_bytes()
    assert {f.name: f.content_type for f in result.files}["speech.mp3"] == "audio/mpeg"
    from pydub import AudioSegment

    mp3 = AudioSegment.from_file(io.BytesIO(fetched["speech.mp3"]), format="mp3")
    assert abs(mp3.duration_seconds - take.duration) < 0.2
    manifest = json.loads(fetched["manifest.json"])
    assert manifest["text"] == take.text and manifest["seed"] == 5 and manifest["settings"]["nfe_step"] == 8
    assert manifest["model"]["config"] == "F5TTS_v1_Base"
    assert manifest["timing_backend"] == take.timing.alignment.backend
    assert manifest["reference_sha256"] and manifest["f5ui_version"] and manifest["created"].endswith("Z")
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == EXPECTED - {"manifest.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(fetched[name]).hexdigest()
    import srt

    assert [c.content for c in srt.parse(fetched["timings.words.srt"].decode())] == [
        w.word for w in take.timing.alignment.words]


def test_large_files_are_uploaded_in_parts(tiny_env, tmp_path, s3_open, monkeypatch, long_wav):
    studio = s3_studio_for(tiny_env, tmp_path, s3_open.env(F5UI_S3_MULTIPART_MB="5"), monkeypatch)
    result = studio.export(long_wav, None, "wav")
    key = next(k for k in exported_keys(s3_open, result) if k.endswith("speech.wav"))
    head = s3_open.s3().head_object(Bucket=BUCKET, Key=key)
    assert head["ETag"].strip('"').endswith("-2")  # a two-part upload
    assert head["ContentLength"] == next(f.bytes for f in result.files if f.name == "speech.wav") > 5 * 2**20
    assert json.loads(requests.get(result.files[-1].url, timeout=10).content)["kind"] == "recording"


@pytest.mark.parametrize("case, expected", [
    ("wrong bucket", "does not exist"),
    ("bad secret", "access to the bucket 'f5ui-test' was denied"),
    ("no credentials", "no S3 credentials were found"),
    ("endpoint down", "could not be reached"),
])
def test_each_s3_error_is_said_plainly(case, expected, tiny_env, tmp_path, s3_auth, monkeypatch, ref_clip):
    from tests.helpers import free_port

    env = s3_auth.env()
    if case == "wrong bucket":
        env["F5UI_S3_BUCKET"] = "no-such-bucket"
    elif case == "bad secret":
        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
    elif case == "no credentials":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
        env = {k: v for k, v in env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    elif case == "endpoint down":
        env["F5UI_S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    studio = s3_studio_for(tiny_env, tmp_path, env, monkeypatch, F5UI_S3_TIMEOUT="2")
    started = time.monotonic()
    with pytest.raises(UserFacingError) as info:
        studio.export(ref_clip[0], None, "wav")
    message = str(info.value)
    assert expected in message and "failed at speech.wav" in message, message
    assert s3_auth.keys["f5ui"][1] not in message and "not-the-secret" not in message
    assert time.monotonic() - started < 30  # bounded: no minutes of retries
    row = {c.name: c for c in diagnostics_for(studio).run_slow()}["s3"]
    assert row.status == "error" and expected in row.detail
    assert s3_auth.keys["f5ui"][1] not in row.detail and "not-the-secret" not in row.detail


def test_a_failed_file_leaves_nothing_half_exported(tiny_env, tmp_path, s3_auth, monkeypatch, take):
    """The no-vtt user may not write .vtt files: the export stops there and takes back what it wrote."""
    studio = s3_studio_for(tiny_env, tmp_path, s3_auth.env("no-vtt"), monkeypatch)
    before = s3_auth.keys_under("takes/")
    with pytest.raises(UserFacingError) as info:
        studio.export(take.audio_path, take.timing.alignment.to_dict(), "mp3")
    assert "failed at timings.vtt" in str(info.value) and "denied" in str(info.value)
    after = s3_auth.keys_under("takes/")
    assert after == before  # no file, and above all no manifest, of the failed export
    assert not any(k.endswith("manifest.json") for k in after)


def test_without_s3_the_same_layout_goes_to_the_local_folder(take, tiny_env, tmp_path):
    studio = Studio(from_env({**tiny_env, "F5UI_DATA_DIR": str(tmp_path), "F5UI_PRELOAD": "0"}), files=FileGate(None))
    result = studio.export(take.audio_path, take.timing.alignment.to_dict(), "opus")
    assert result.kind == "local" and result.location.startswith("<data dir>/exports/f5ui/")
    folder = tmp_path / "exports" / result.location.removeprefix("<data dir>/exports/")
    assert sorted(p.name for p in folder.iterdir()) == sorted(EXPECTED - {"speech.mp3"} | {"speech.opus"})
    assert all(Path(f.local_path).is_file() and f.url == "" for f in result.files)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "recording"  # this studio did not make the take: it says so, no invented facts
    assert str(tmp_path) not in json.dumps(result.to_dict())  # the answer names no server path
    row = by_name(diagnostics_for(studio).report())["s3"]
    assert row["status"] == "off" and "exports" in row["detail"] and "F5UI_S3_BUCKET" in row["fix"]


def test_the_status_panel_checks_the_bucket(tiny_env, tmp_path, s3_auth, monkeypatch):
    studio = s3_studio_for(tiny_env, tmp_path, s3_auth.env(), monkeypatch)
    fast = {c.name: c for c in diagnostics_for(studio).run_fast()}["s3"]
    assert fast.status == "ok" and BUCKET in fast.detail and s3_auth.url in fast.detail
    row = {c.name: c for c in diagnostics_for(studio).run_slow()}["s3"]
    assert row.status == "ok" and "HeadBucket passed" in row.detail
    report = json.dumps(diagnostics_for(studio).report())
    for secret in s3_auth.keys["f5ui"]:
        assert secret not in report


@pytest.mark.live
def test_export_through_the_api_and_local_downloads(client, ref_clip):
    audio, _, _, _, timing, _, _ = generate(client, ref_clip[0], ref_clip[1], TEXT)
    from gradio_client import handle_file

    result, downloads = client.predict(handle_file(audio), timing, "flac", api_name="/export")
    assert result["kind"] == "local" and [f["name"] for f in result["files"]][-1] == "manifest.json"
    assert sorted(Path(d).name for d in downloads) == sorted(EXPECTED - {"speech.mp3"} | {"speech.flac"})
    flac = next(d for d in downloads if d.endswith(".flac"))
    assert abs(sf.info(flac).duration - sf.info(audio).duration) < 0.05
    assert json.loads(Path(next(d for d in downloads if d.endswith("manifest.json"))).read_text())["text"] == TEXT


def test_clock_skew_and_unknown_errors_are_explained():
    """What S3 answers when the server's clock is off (moto cannot fake a clock): the botocore error, as raised."""
    from botocore.exceptions import ClientError

    from f5ui.export.stores import explain_s3_error

    skew = ClientError({"Error": {"Code": "RequestTimeTooSkewed", "Message": "The difference between the request "
                                  "time and the current time is too large."},
                        "ResponseMetadata": {"HTTPStatusCode": 403}}, "PutObject")
    assert "clock" in explain_s3_error(skew, BUCKET, "") and "NTP" in explain_s3_error(skew, BUCKET, "")
    other = ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your request rate."}}, "PutObject")
    assert explain_s3_error(other, BUCKET, "") == "S3 answered SlowDown: Reduce your request rate."
