"""Attacks through the raw HTTP API (no gradio_client, which uploads files itself and refuses some
inputs locally), the limits on what one request may cost, and the service's own file boundary.

One live app serves most tests. Its environment holds secrets where an attacker would look for
them: a Google key file, AWS_SECRET_ACCESS_KEY in the process environment, the app's own log."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile as sf

from tests.helpers import LiveApp
from tests.raw_api import call, file_ref, generate_args, upload

SECRET = "sk-live-5ecret-never-shown-7f3a"
NOT_UPLOADED = "The file was not uploaded to this server."
OLD = time.time() - 2 * 86400  # two days ago: past the default 24 h retention
UPLOAD_LIMIT_MB = 4


def server_paths(app: LiveApp) -> list[str]:
    """Absolute paths of this server that no answer may contain."""
    return [str(app.data_dir), os.getcwd(), str(Path(__file__).resolve().parent.parent), "/etc/", "/proc/"]


def assert_clean(app: LiveApp, text: str) -> None:
    assert SECRET not in text
    for path in server_paths(app):
        assert path not in text, (path, text[:500])


@pytest.fixture(scope="module")
def secure_app(tiny_env, tmp_path_factory):
    root = tmp_path_factory.mktemp("secure")
    data = root / "data"
    # What earlier runs left: old outputs and uploads, and a reference-cache WAV orphaned by a kill.
    for rel in ("outputs/old.wav", "outputs/timings/old.srt", "uploads/0123abcd/old.wav"):
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(b"RIFF old")
        os.utime(data / rel, (OLD, OLD))
    (data / "outputs" / "recent.wav").write_bytes(b"RIFF recent")  # younger than the retention: kept
    (data / "cache" / "references").mkdir(parents=True)
    (data / "cache" / "references" / "deadbeef.wav").write_bytes(b"\0" * 4096)
    key = root / "google-key.json"
    key.write_text(json.dumps({"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com",
                               "private_key": f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n"}))
    env = dict(tiny_env, F5UI_DATA_DIR=str(data), F5UI_GOOGLE_CREDENTIALS=str(key), AWS_SECRET_ACCESS_KEY=SECRET,
               F5UI_MAX_UPLOAD_MB=str(UPLOAD_LIMIT_MB), F5UI_ALIGNERS="sphinx,estimate")
    env.pop("GRADIO_TEMP_DIR", None)
    app = LiveApp(env, root / "run")
    app.key_file = key
    try:
        app.wait_http()
        app.wait_ready()
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def uploaded_ref(secure_app, ref_clip) -> str:
    return upload(secure_app.url, ref_clip[0])


def every_stored_byte(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


# --- file paths a request names ------------------------------------------------------------

def crafted_paths(app: LiveApp, ref_clip) -> dict[str, str]:
    return {
        "passwd": "/etc/passwd",
        "environment": "/proc/self/environ",
        "google key": str(app.key_file),
        "app log": str(app.data_dir / "logs" / "f5ui.log"),
        "server wav never uploaded": str(ref_clip[0]),
        "missing file": "/nonexistent/voice.wav",
        "relative": "voice.wav",
        "traversal out of uploads": str(app.data_dir / "uploads" / ".." / "logs" / "f5ui.log"),
        "url": "http://127.0.0.1:9/secret.wav",
    }


@pytest.mark.parametrize("endpoint", ["generate", "generate_stream", "align", "check", "check reference"])
def test_server_paths_are_refused_without_reading_or_copying(secure_app, ref_clip, uploaded_ref, endpoint):
    before = set((secure_app.data_dir / "uploads").rglob("*"))
    answers = {}
    for name, path in crafted_paths(secure_app, ref_clip).items():
        data = {"generate": generate_args(file_ref(path)), "generate_stream": generate_args(file_ref(path)),
                "align": [file_ref(path), "Some call me nature.", "en", "auto"],
                "check": [file_ref(path), "Some call me nature.", None, "en"],
                "check reference": [file_ref(uploaded_ref), "Some call me nature.", file_ref(path), "en"]}[endpoint]
        answer = call(secure_app.url, endpoint.split()[0], data)
        assert answer.status == 400 and NOT_UPLOADED in answer.text, (name, answer)
        assert_clean(secure_app, answer.text)
        answers[name] = answer.text
    # The same answer whether the path exists or not: no oracle for what is on the server.
    assert len(set(answers.values())) == 1
    # Nothing was copied into the upload folder (from where /gradio_api/file= would serve it).
    assert set((secure_app.data_dir / "uploads").rglob("*")) == before
    stored = every_stored_byte(secure_app.data_dir / "uploads") + every_stored_byte(secure_app.data_dir / "outputs")
    assert SECRET.encode() not in stored
    assert b"root:x:0:0" not in stored


def test_files_outside_the_upload_folder_cannot_be_fetched(secure_app):
    for path in ("/etc/passwd", str(secure_app.key_file), str(secure_app.data_dir / "logs" / "f5ui.log")):
        answer = requests.get(f"{secure_app.url}/gradio_api/file={path}", timeout=10)
        assert answer.status_code in (403, 404) and SECRET not in answer.text and "root:x" not in answer.text


def test_dev_zero_does_not_block_the_server(secure_app):
    """Gradio would hash /dev/zero on its event loop forever; /health must keep answering."""
    latencies: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            started = time.monotonic()
            assert requests.get(secure_app.url + "/health", timeout=5).status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        started = time.monotonic()
        for endpoint, data in (("generate", generate_args(file_ref("/dev/zero"))),
                               ("align", [file_ref("/dev/zero"), "Some call me nature.", "en", "auto"]),
                               ("generate", generate_args(file_ref("/dev/urandom")))):
            answer = call(secure_app.url, endpoint, data, timeout=10)
            assert answer.status == 400 and NOT_UPLOADED in answer.text
        elapsed = time.monotonic() - started
        time.sleep(0.5)
    finally:
        stop.set()
        poller.join()
    assert elapsed < 5 and latencies and max(latencies) < 1.0, (elapsed, max(latencies or [0]))


def test_gradio_own_upload_check_is_active_for_the_mounted_app(tiny_env, tmp_path):
    """The second depth: even past the request guard, Gradio refuses input files that were not uploaded."""
    from gradio.context import LocalContext
    from gradio.exceptions import InvalidPathError
    from gradio.processing_utils import _check_allowed

    from f5ui.config import from_env
    from f5ui.diagnostics import diagnostics_for
    from f5ui.server import create_app
    from f5ui.service import Studio

    settings = from_env(dict(tiny_env, F5UI_DATA_DIR=str(tmp_path), F5UI_PRELOAD="0"))
    studio = Studio(settings)
    app = create_app(studio, diagnostics_for(studio))
    token = LocalContext.blocks.set(app.state.blocks)
    try:
        with pytest.raises(InvalidPathError):
            _check_allowed("/etc/passwd", check_in_upload_folder=True)
    finally:
        LocalContext.blocks.reset(token)


def test_the_service_admits_uploads_only(tiny_env, tmp_path, ref_clip):
    """The third depth: Studio itself refuses any path outside the upload folder, before opening it."""
    from f5ui.config import from_env
    from f5ui.errors import InputError
    from f5ui.schema import GenerationParams
    from f5ui.service import Studio

    settings = from_env(dict(tiny_env, F5UI_DATA_DIR=str(tmp_path), F5UI_PRELOAD="0"))
    studio = Studio(settings)
    messages = set()
    for path in ("/etc/passwd", "/dev/zero", str(ref_clip[0]), "/nonexistent.wav", "rel.wav",
                 str(settings.upload_dir / ".." / "logs")):
        for action in (lambda p: studio.generate(p, ref_clip[1], "Hi.", GenerationParams(nfe_step=8)),
                       lambda p: studio.align(p, "Some call me nature.")):
            with pytest.raises(InputError) as info:
                action(path)
            messages.add(str(info.value))
    assert len(messages) == 1 and NOT_UPLOADED in messages.pop()
    assert studio.model.load_count == 0  # refused before anything was loaded or read
    inside = settings.upload_dir / "abc" / "voice.wav"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(Path(ref_clip[0]).read_bytes())
    timed = studio.align(str(inside), ref_clip[1])
    assert [w.word for w in timed.alignment.words][0] == "Some"


# --- what a request may cost ---------------------------------------------------------------

def vm_peak_kib(pid: int) -> int:
    line = next(row for row in Path(f"/proc/{pid}/status").read_text().splitlines() if row.startswith("VmHWM"))
    return int(line.split()[1])


@pytest.fixture(scope="module")
def bombs(tmp_path_factory, ref_clip) -> dict[str, Path]:
    """About 1 MB of FLAC that decodes to 2 hours: speech, then silence. Once with its length in the
    header, once streamed (length unknown), so decoding itself must stop at the limit."""
    folder = tmp_path_factory.mktemp("bombs")
    graph = "[0:a]aresample=24000,aformat=channel_layouts=mono[a];[a][1:a]concat=n=2:v=0:a=1"
    base = ["ffmpeg", "-v", "error", "-y", "-i", str(ref_clip[0]), "-f", "lavfi", "-t", "7200", "-i",
            "anullsrc=r=24000:cl=mono", "-filter_complex", graph, "-c:a", "flac"]
    subprocess.run(base + [str(folder / "bomb.flac")], check=True)
    with open(folder / "streamed.flac", "wb") as out:
        subprocess.run(base + ["-f", "flac", "pipe:"], check=True, stdout=out)
    return {"header": folder / "bomb.flac", "streamed": folder / "streamed.flac"}


def test_a_decompression_bomb_costs_what_its_first_seconds_cost(secure_app, uploaded_ref, bombs):
    warm = call(secure_app.url, "generate", generate_args(file_ref(uploaded_ref)))
    assert warm.event == "complete"
    peak_before = vm_peak_kib(secure_app.proc.pid)
    for name, bomb in bombs.items():
        assert bomb.stat().st_size < 2 * 2**20 and sf.info(str(bomb)).samplerate == 24000
        ref = upload(secure_app.url, bomb)
        started = time.monotonic()
        answer = call(secure_app.url, "generate", generate_args(file_ref(ref)))
        assert answer.event == "complete", (name, answer.text[-500:])
        assert sf.info(answer.data[0]["path"]).duration > 0
        generate_seconds = time.monotonic() - started
        started = time.monotonic()
        aligned = call(secure_app.url, "align", [file_ref(ref), "Some call me nature.", "en", "auto"])
        align_seconds = time.monotonic() - started
        assert aligned.event == "error" and "word alignment accepts at most 600 s" in aligned.data["error"], name
        # Unbounded, the 2 h decode held the model for 95 s and took 3.4 GB.
        assert generate_seconds < 30 and align_seconds < 15, (name, generate_seconds, align_seconds)
    growth_mib = (vm_peak_kib(secure_app.proc.pid) - peak_before) / 1024
    assert growth_mib < 300, f"peak memory grew by {growth_mib:.0f} MiB"
    # Nothing near the decoded size (691 MB as WAV) was written anywhere.
    biggest = max(p.stat().st_size for p in secure_app.data_dir.rglob("*") if p.is_file())
    assert biggest < 20 * 2**20


def test_uploads_over_the_limit_are_refused(secure_app, tmp_path):
    big = tmp_path / "big.wav"
    big.write_bytes(os.urandom((UPLOAD_LIMIT_MB + 1) * 2**20))
    before = set((secure_app.data_dir / "uploads").rglob("*"))
    with open(big, "rb") as handle:
        announced = requests.post(f"{secure_app.url}/gradio_api/upload", files={"files": ("big.wav", handle)},
                                  timeout=60)
    assert announced.status_code == 413 and f"{UPLOAD_LIMIT_MB} MB" in announced.text

    def chunks():  # no Content-Length: Gradio's own max_file_size check while it streams
        with open(big, "rb") as handle:
            yield (b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.wav\"\r\n"
                   b"Content-Type: audio/wav\r\n\r\n")
            while block := handle.read(1 << 20):
                yield block
            yield b"\r\n--b--\r\n"

    streamed = requests.post(f"{secure_app.url}/gradio_api/upload", data=chunks(), timeout=60,
                             headers={"content-type": "multipart/form-data; boundary=b"})
    assert streamed.status_code == 413, streamed.text
    assert not any(p.is_file() and p.stat().st_size > 2**20 for p in
                   set((secure_app.data_dir / "uploads").rglob("*")) - before)
    page = requests.get(secure_app.url + "/config", timeout=10).text
    assert f"files up to {UPLOAD_LIMIT_MB} MB" in page  # the limit is said in the UI


def test_request_bodies_are_bounded(secure_app):
    answer = call(secure_app.url, "generate", [], raw_body=json.dumps({"data": ["x" * (2 << 20)]}))
    assert answer.status == 413


# --- texts the model cannot take in one piece -----------------------------------------------

LONG_CASES = {
    "one long sentence": "This sentence keeps going " + "and going and going " * 45 + "until it stops.",
    "unpunctuated run": " ".join(["word"] * 400),
    "cjk without punctuation": "我们今天在这里讨论语音合成的未来发展方向" * 15,
    "commas only": ", ".join(["a clause with several words in it"] * 30) + ".",
}


@pytest.mark.parametrize("case", LONG_CASES, ids=list(LONG_CASES))
def test_long_text_is_split_into_chunks_the_model_can_take(case, studio, ref_clip):
    from f5ui.schema import GenerationParams

    text = LONG_CASES[case]
    result = studio.generate(ref_clip[0], ref_clip[1], text, GenerationParams(nfe_step=4, seed=1),
                             word_timings=False)
    assert result.duration > 1.0 and len(result.chunks) > 1
    limit = max(len(c.encode()) for c in result.chunks)
    assert limit < 1000  # what ~22 s of the reference's speaking rate holds
    assert "".join(result.chunks).replace(" ", "") == text.replace(" ", "")  # nothing lost or reordered


def test_reference_text_far_longer_than_its_audio_is_refused(studio, ref_clip):
    from f5ui.errors import InputError
    from f5ui.schema import GenerationParams

    for ref_text, expected in (("nature " * 60, "more than anyone says"), ("x" * 1200, "maximum is 1000")):
        with pytest.raises(InputError) as info:
            studio.generate(ref_clip[0], ref_text, "Hello.", GenerationParams(nfe_step=4, seed=1))
        assert expected in str(info.value)


def test_reference_text_far_shorter_than_its_audio_is_refused(studio, ref_clip):
    """"Hi." for 5 s of speech would make the model stretch every word over seconds."""
    from f5ui.errors import InputError
    from f5ui.schema import GenerationParams

    with pytest.raises(InputError) as info:
        studio.generate(ref_clip[0], "Hi.", "A sentence of ordinary length for the voice to say, " * 10,
                        GenerationParams(nfe_step=4, seed=1))
    assert "too short for its" in str(info.value) and "Type every word" in str(info.value)


# --- disk use ---------------------------------------------------------------------------------

def test_start_up_sweeps_what_earlier_runs_left(secure_app):
    data = secure_app.data_dir
    for rel in ("outputs/old.wav", "outputs/timings/old.srt", "uploads/0123abcd/old.wav",
                "cache/references/deadbeef.wav"):
        assert not (data / rel).exists(), rel
    assert (data / "outputs" / "recent.wav").exists()


def test_retention_sweeps_periodically(tmp_path):
    from f5ui.retention import Retention

    folder = tmp_path / "outputs"
    (folder / "timings").mkdir(parents=True)
    retention = Retention([folder], hours=1.5 / 3600)  # 1.5 s
    retention.start()
    try:
        (folder / "timings" / "take.srt").write_text("1")
        (folder / "take.wav").write_bytes(b"x")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(folder.iterdir()):  # files, then the emptied folder
            time.sleep(0.2)
        assert not any(folder.rglob("*.*")) and not (folder / "timings").exists()
    finally:
        retention.stop()


def test_wav_files_are_written_atomically(tmp_path):
    from f5ui.audio import write_wav

    target = tmp_path / "out.wav"
    with pytest.raises(Exception):  # noqa: B017 - whatever libsndfile raises for a sample rate of 0
        write_wav(target, np.zeros(100, dtype=np.float32), 0)
    assert list(tmp_path.iterdir()) == []
    write_wav(target, np.zeros(100, dtype=np.float32), 24000)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"] and sf.info(str(target)).frames == 100


# --- what the answers say ----------------------------------------------------------------------

def test_a_wrong_transcript_is_flagged(secure_app, uploaded_ref, ref_clip):
    right = call(secure_app.url, "align", [file_ref(uploaded_ref), ref_clip[1], "en", "sphinx"])
    assert right.event == "complete" and right.data[0]["backend"] == "sphinx"
    assert right.data[0]["low_confidence"] is False, right.data[0]["warning"]
    wrong = call(secure_app.url, "align", [file_ref(uploaded_ref), "The quick brown fox jumps over the lazy dog.",
                                           "en", "sphinx"])
    timing = wrong.data[0]
    assert timing["low_confidence"] is True and "does not match the audio" in timing["warning"]


@pytest.mark.parametrize("field, value", [("randomize_seed", "no"), ("remove_silence", "false"),
                                          ("word_timings", "yes"), ("randomize_seed", 1)])
def test_checkboxes_take_true_or_false_only(secure_app, uploaded_ref, field, value):
    answer = call(secure_app.url, "generate", generate_args(file_ref(uploaded_ref), **{field: value}))
    assert answer.event == "error" and f"{field} must be true or false" in answer.data["error"]


@pytest.mark.parametrize("field, expected", [("nfe_step", "Use a value from 4 to 64"),
                                             ("speed", "Use a value from 0.3 to 2.0"),
                                             ("seed", "Use a whole number from 0 to 2147483647")])
def test_nan_numbers_get_the_range_hint(secure_app, uploaded_ref, field, expected):
    body = json.dumps({"data": generate_args(file_ref(uploaded_ref), **{field: float("nan")})})
    answer = call(secure_app.url, "generate", [], raw_body=body)
    assert answer.event == "error" and expected in answer.data["error"] and "NaN to integer" not in answer.text


def test_invalid_samples_are_named_as_such(secure_app, tmp_path, ref_clip):
    samples, rate = sf.read(str(ref_clip[0]), dtype="float32")
    samples[1000:1005] = np.nan
    samples[2000] = np.inf
    broken = tmp_path / "broken.wav"
    sf.write(str(broken), samples, rate, subtype="FLOAT")
    answer = call(secure_app.url, "generate", generate_args(file_ref(upload(secure_app.url, broken))))
    assert answer.event == "error" and "6 invalid samples (NaN or infinity)" in answer.data["error"]


def test_control_characters_never_reach_subtitle_files(secure_app, uploaded_ref):
    import pysubs2
    import srt

    script = "Some\x00 call me\x1b[31m nature,\x07 others call me mother\x7f nature.\x9b"
    answer = call(secure_app.url, "align", [file_ref(uploaded_ref), script, "en", "auto"])
    assert answer.event == "complete"
    words = [w["word"] for w in answer.data[0]["words"]]
    assert words == ["Some", "call", "me", "nature,", "others", "call", "me", "mother", "nature."]
    for item in answer.data[1]:
        content = Path(item["path"]).read_text(encoding="utf-8")
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", content), item["path"]
        assert "[31m" not in content
        if item["path"].endswith(".srt"):
            assert list(srt.parse(content))
        if item["path"].endswith(".ass"):
            assert pysubs2.SSAFile.from_string(content).events


def test_a_google_key_that_cannot_load_is_reported_once_and_briefly(secure_app, uploaded_ref):
    report = secure_app.wait_checks()
    row = next(c for c in report["checks"] if c["name"] == "google credentials")
    assert row["status"] == "error" and "cannot be loaded" in row["detail"] and SECRET not in json.dumps(report)
    answers = [call(secure_app.url, "align", [file_ref(uploaded_ref), "Some call me nature.", "en", "google"])
               for _ in range(2)]
    for answer in answers:
        attempt = answer.data[0]["attempts"][0]
        assert attempt["backend"] == "google" and attempt["status"] in ("failed", "skipped")
        assert "could not be loaded" in attempt["reason"]
        assert_clean(secure_app, json.dumps(answer.data[0]))  # the timings; file references name upload paths
    log = secure_app.log_path.read_text()
    assert log.count("could not be loaded:") == 1  # one load attempt, not one per request


@pytest.mark.live
def test_unexpected_errors_show_no_server_paths(tiny_env, tmp_path, ref_clip):
    """A model that cannot load names its checkpoint by file name only in API answers."""
    missing = tmp_path / "weights" / "model.safetensors"
    app = LiveApp(dict(tiny_env, F5UI_CKPT=str(missing)), tmp_path / "run")
    try:
        app.wait_http()
        app.wait_ready()
        ref = upload(app.url, ref_clip[0])
        answer = call(app.url, "generate", generate_args(file_ref(ref)))
        assert answer.event == "error" and "model.safetensors" in answer.data["error"]
        assert str(tmp_path) not in answer.text
    finally:
        app.stop()


def test_language_must_be_a_language_code(secure_app, uploaded_ref):
    answer = call(secure_app.url, "align", [file_ref(uploaded_ref), "Some call me nature.", "../../etc/x", "auto"])
    assert answer.event == "error" and "is not a language code" in answer.data["error"]
