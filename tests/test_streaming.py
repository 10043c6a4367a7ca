"""Audio while it generates: the service's stream, /generate_stream, the browser's live player,
the OpenAI endpoint's stream_format, and the streaming encoder."""

from __future__ import annotations

import base64
import io
import json
import threading
import time

import numpy as np
import pytest
import requests
import soundfile as sf

from f5ui.codecs import encode_stream
from f5ui.engine.chunking import MIN_FIRST_CHUNK_BYTES, plan_chunks
from f5ui.schema import GenerationParams
from f5ui.streaming import Done, Piece
from tests.helpers import PATIENCE
from tests.test_browser import wait_for_upload

SENTENCE = "This studio clones a voice from a short recording and speaks any text you type. "
EIGHT_CHUNKS = SENTENCE * 7  # with the human reference clip: 8 chunks (the first sentence split in two)
FAST = GenerationParams(nfe_step=4, seed=5, max_takes=1)


def _joined(pieces: list[Piece]) -> np.ndarray:
    return np.concatenate([p.samples for p in pieces]).astype(np.float32)


def test_the_first_chunk_is_short_and_only_it_is_split(ref_clip):
    ref, ref_text = ref_clip
    samples, rate = sf.read(str(ref))
    chunks = plan_chunks(len(samples), rate, ref_text, EIGHT_CHUNKS, 1.0)
    assert len(chunks) == 8
    assert " ".join(chunks).split() == EIGHT_CHUNKS.split()
    assert len(chunks[0]) <= len(chunks[2]) / 2 and all(c.strip() == SENTENCE.strip() for c in chunks[2:])
    one = plan_chunks(len(samples), rate, ref_text, SENTENCE, 1.0)
    assert one == [SENTENCE.strip()]  # a single chunk is never split
    # Short sentences and clauses are not left as chunks of their own: the first chunk becomes two.
    choppy = ("Right, so here is the plan for the morning. Go. Then we will walk to the harbour, buy some bread, "
              "and sit by the water for a while. ") * 3
    chunks = plan_chunks(len(samples), rate, ref_text, choppy, 1.0)
    assert " ".join(chunks).split() == choppy.split()
    assert min(len(c.encode()) for c in chunks) >= MIN_FIRST_CHUNK_BYTES and len(chunks[0]) < len(chunks[1])


def test_stream_pieces_come_early_and_join_to_the_final_file(studio, ref_clip):
    ref, ref_text = ref_clip
    started = time.perf_counter()
    pieces, arrivals, result = [], [], None
    for item in studio.generate_stream(ref, ref_text, EIGHT_CHUNKS, FAST, word_timings=False):
        if isinstance(item, Piece):
            pieces.append(item)
            arrivals.append(time.perf_counter() - started)
        else:
            assert isinstance(item, Done)
            result = item.result
    total = time.perf_counter() - started
    n = len(result.chunks)
    assert n >= 5 and len(pieces) == n + 1  # one per chunk, and the last cross-fade tail
    assert [p.index for p in pieces] == list(range(n + 1))
    assert arrivals[0] < 0.5 * total, (arrivals, total)  # the benchmark measures the ratio itself
    final, rate = sf.read(str(result.audio_path), dtype="float32")
    joined = _joined(pieces)
    assert rate == pieces[0].sample_rate and len(joined) == len(final)
    assert np.max(np.abs(joined - final)) <= 2 / 32768  # the file is 16-bit
    starts = [p.start for p in pieces]
    assert starts == sorted(starts) and abs(starts[-1] + len(pieces[-1].samples) / rate - result.duration) < 0.01


def test_a_stream_left_early_stops_the_generation(studio, ref_clip):
    ref, ref_text = ref_clip
    chunks_started = []
    stream = studio.generate_stream(ref, ref_text, EIGHT_CHUNKS, FAST, word_timings=False,
                                    progress=lambda f, d: chunks_started.append(d) if d.startswith("Generating") else 0)
    first = next(stream)
    assert isinstance(first, Piece)
    stream.close()  # the consumer goes away
    deadline = time.monotonic() + PATIENCE
    while any(t.name == "f5ui-stream" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "f5ui-stream" for t in threading.enumerate())
    assert len(chunks_started) < int(chunks_started[0].rsplit(" ", 1)[1])  # "Generating chunk 1 of N"


def test_a_speech_client_that_hangs_up_stops_the_generation_at_the_next_chunk(studio, ref_clip):
    """/v1/audio/speech streaming: the encoder's thread waits inside the stream when the client goes,
    so the stream is told to stop rather than closed (it once ran two more chunks for no one)."""
    ref, ref_text = ref_clip
    studio.save_voice(ref, ref_text, "Hang Up", overwrite=True)
    started, hung_up = [], threading.Event()

    def progress(fraction, desc):
        if desc.startswith("Generating chunk"):
            started.append(desc)
            if desc.startswith("Generating chunk 3 "):  # the client hangs up while chunk 2 is out
                hung_up.wait(30)

    chunks, _ = studio.speech_stream(EIGHT_CHUNKS, "Hang Up", "mp3", progress=progress)
    next(chunks)
    chunks.close()  # the client went away
    hung_up.set()
    deadline = time.monotonic() + PATIENCE
    while any(t.name == "f5ui-stream" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "f5ui-stream" for t in threading.enumerate())
    total = int(started[0].rsplit(" ", 1)[1])  # "Generating chunk 1 of N"
    assert len(started) <= 3 < total, (started, total)  # no chunk started after the hang-up
    studio.delete_voice("Hang Up")


def test_generate_stream_endpoint(client, ref_clip):
    from gradio_client import handle_file

    ref, ref_text = ref_clip
    job = client.submit(handle_file(str(ref)), ref_text, SENTENCE * 3, 1.0, 4, 2.0, 0.15, 9, False, False, True,
                        "auto", "", 1, False, api_name="/generate_stream")
    outputs = list(job)
    *pieces, (final_path, final) = outputs
    assert final["done"] is True and final["seed"] == 9 and final["timings"]["words"]
    assert len(pieces) >= 3 and [info["piece"] for _, info in pieces] == list(range(len(pieces)))
    joined = np.concatenate([sf.read(path, dtype="float32")[0] for path, _ in pieces])
    audio, _ = sf.read(final_path, dtype="float32")
    assert len(joined) == len(audio) and np.max(np.abs(joined - audio)) <= 2 / 32768
    assert final["duration"] == pytest.approx(len(audio) / 24000, abs=0.01)


def test_generate_stream_refuses_bad_input_with_a_message(client, ref_clip):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    ref, ref_text = ref_clip
    job = client.submit(handle_file(str(ref)), ref_text, "   ", 1.0, 4, 2.0, 0.15, 9, False, False, True, "auto", "",
                        1, False, api_name="/generate_stream")
    with pytest.raises(AppError, match="text to generate is empty"):
        job.result()


# --- the browser's live player -----------------------------------------------------------------

LIVE_STATE = """() => { const a = document.querySelector('#live-audio audio');
    const done = document.querySelector('#out-audio a[download]');
    return {src: a ? a.src : null, t: a ? a.currentTime : 0, final: done ? done.href : null}; }"""


def _watch(page, until_final_changes_from=None, timeout: float = PATIENCE) -> dict:
    """Poll the live player until the finished take is shown: when playback began, and the states."""
    started, first_sound, states = time.monotonic(), None, []
    while time.monotonic() - started < timeout:
        state = page.evaluate(LIVE_STATE)
        states.append(state)
        if first_sound is None and state["t"] > 0 and state["src"]:
            first_sound = (time.monotonic() - started, state)
        if state["final"] and state["final"] != until_final_changes_from:
            return {"first_sound": first_sound, "final_at": time.monotonic() - started, "last": state}
        page.wait_for_timeout(100)
    raise TimeoutError(states[-3:])


def test_audio_plays_in_the_browser_while_later_chunks_generate(chromium, live_app, ref_clip):
    """Found with this Gradio (6.17) and Chromium: the stream plays about a second after its first
    piece, a one-chunk take plays too, but a second take's stream was never heard while the first
    still played, until the handler clears the player at the start of each take."""
    ref, ref_text = ref_clip
    live_app.wait_ready()
    page = chromium.new_page()
    page.goto(live_app.url, wait_until="networkidle")
    page.locator("#ref-audio input[type=file]").set_input_files(str(ref))
    page.locator("#ref-text textarea").fill(ref_text)
    page.locator("#gen-text textarea").fill(EIGHT_CHUNKS)  # long enough that playing starts well before the end
    wait_for_upload(page, "#ref-audio")
    page.locator("#generate-btn").click()
    first = _watch(page)
    assert first["first_sound"] is not None, "the live player never played"
    played_at, state = first["first_sound"]
    assert state["final"] is None and played_at < first["final_at"]  # heard before the take was finished
    # A second take: its own stream starts from the beginning, not the first take's.
    page.locator("#gen-text textarea").fill("A second take, heard from its start.")
    page.locator("#generate-btn").click()
    second = _watch(page, until_final_changes_from=first["last"]["final"])
    assert second["first_sound"] is not None
    assert second["last"]["src"] != first["last"]["src"]
    assert second["last"]["t"] < 6.0  # its own short take, not the rest of the first one
    page.close()


# --- the OpenAI-compatible endpoint ---------------------------------------------------------------

@pytest.fixture(scope="module")
def narrator(client, ref_clip):
    from gradio_client import handle_file

    ref, ref_text = ref_clip
    client.predict(handle_file(str(ref)), ref_text, "Stream Narrator", True, "", api_name="/save_voice")
    return "Stream Narrator"


def test_openai_stream_format_audio_streams_a_playable_file(live_app, narrator):
    from openai import OpenAI
    from pydub import AudioSegment

    api = OpenAI(base_url=live_app.url + "/v1", api_key="unused")
    arrivals, chunks = [], []
    started = time.perf_counter()
    with api.audio.speech.with_streaming_response.create(model="tts-1", voice=narrator, input=SENTENCE * 3,
                                                         response_format="mp3", extra_body={"stream_format": "audio"}
                                                         ) as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            arrivals.append(time.perf_counter() - started)
    audio = AudioSegment.from_file(io.BytesIO(b"".join(chunks)), format="mp3")
    whole = api.audio.speech.create(model="tts-1", voice=narrator, input=SENTENCE * 3, response_format="wav")
    assert abs(audio.duration_seconds - sf.info(io.BytesIO(whole.content)).duration) < 0.15
    assert arrivals[0] < 0.7 * arrivals[-1]  # bytes before the end


def test_openai_stream_format_sse_and_errors(live_app, narrator):
    url = live_app.url + "/v1/audio/speech"
    body = {"model": "tts-1", "voice": narrator, "input": SENTENCE, "response_format": "pcm", "stream_format": "sse"}
    with requests.post(url, json=body, stream=True, timeout=120) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        lines = list(response.iter_lines(decode_unicode=True))
    events = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    assert events[-1]["type"] == "speech.audio.done"
    pcm = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert len(pcm) == events[-1]["audio_bytes"] and len(pcm) / 2 / 24000 > 1.0
    # Errors before any audio come as OpenAI's JSON, not as a broken stream.
    bad = requests.post(url, json={**body, "voice": "nobody"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "voice_not_found"
    bad = requests.post(url, json={**body, "stream_format": "video"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "stream_format"


# --- the encoder ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,container", [("mp3", "mp3"), ("opus", "ogg"), ("aac", "aac"), ("flac", "flac"),
                                            ("wav", "wav")])
def test_stream_encoding_is_heard_before_the_input_ends(name, container):
    """Three of five pieces (1.8 s) are fed, then the feeder waits: what the listener has by then must
    already play most of them (ffmpeg's input probing once held everything back until about 2 s of audio had
    arrived). The bytes joined at the end are one file of the whole length."""
    from pydub import AudioSegment

    def duration(data: bytes) -> float:
        try:
            return AudioSegment.from_file(io.BytesIO(data), format=container).duration_seconds
        except Exception:  # headers only, nothing decodable yet
            return 0.0

    rate = 24000
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(rate * 3) / rate)).astype(np.float32)
    chunks: list[bytes] = []
    heard_early: list[float] = []

    def pieces():
        for index, piece in enumerate(np.array_split(tone, 5)):
            if index == 3:
                deadline = time.monotonic() + 120
                while duration(b"".join(chunks)) < 1.0 and time.monotonic() < deadline:
                    time.sleep(0.05)
                heard_early.append(duration(b"".join(chunks)))
            yield piece

    for chunk in encode_stream(pieces(), rate, name):
        chunks.append(chunk)
    assert heard_early[0] >= 1.0, f"only {heard_early[0]:.2f} s of the 1.8 s fed could be played"
    assert abs(duration(b"".join(chunks)) - 3.0) < 0.1


def test_stream_encoding_of_pcm_is_exact_and_errors_pass_through():
    tone = np.linspace(-0.5, 0.5, 4800, dtype=np.float32)
    pcm = b"".join(encode_stream(iter([tone[:1000], tone[1000:]]), 24000, "pcm"))
    assert np.array_equal(np.frombuffer(pcm, "<i2"), (tone * 32767).astype("<i2"))

    def broken():
        yield tone
        raise RuntimeError("the model failed")

    with pytest.raises(RuntimeError, match="the model failed"):
        list(encode_stream(broken(), 24000, "mp3"))
