"""Real synthetic speech with ground-truth word times, from libespeak-ng via ctypes.

libespeak-ng reports a WORD event (audio position in ms) for every word it speaks,
and PHONEME events that show where pauses (`_`) fall. Word start = WORD event; word
end = the first pause phoneme after it, else the next word's start, else the end of
the audio. The library keeps state between utterances, so each clip is made in its
own process (`python -m tests.speech ...`) for output that repeats exactly; `clip()`
runs that subprocess and caches the result in a folder.

    python -m tests.speech OUT.wav --voice en-us+f3 --rate 160 --text "Hello there."
writes OUT.wav (22.05 kHz int16 mono) and OUT.json {"text", "voice", "rate",
"sample_rate", "events": [{"pos", "len", "start", "end"}]} where pos/len index the
text in characters (0-based).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# espeak_EVENT_TYPE values (speak_lib.h)
EV_WORD, EV_END, EV_MSG_TERMINATED, EV_PHONEME = 1, 5, 6, 7
AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_INITIALIZE_PHONEME_EVENTS = 0x0001
ESPEAK_CHARS_UTF8 = 1
POS_CHARACTER = 1
ESPEAK_RATE = 1


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


def synthesize(text: str, voice: str, rate: int) -> tuple[np.ndarray, int, list[dict]]:
    """Speak `text` once in this process; return int16 samples, sample rate, word events."""
    lib = ctypes.CDLL(ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1")
    lib.espeak_Initialize.restype = ctypes.c_int
    sample_rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None, ESPEAK_INITIALIZE_PHONEME_EVENTS)
    if sample_rate <= 0:
        raise RuntimeError("espeak_Initialize failed")
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise RuntimeError(f"espeak voice {voice!r} not found")
    lib.espeak_SetParameter(ESPEAK_RATE, int(rate), 0)

    chunks: list[np.ndarray] = []
    raw_events: list[tuple[int, int, int, int, str]] = []  # type, pos, len, ms, phoneme

    def on_audio(wav, numsamples, events):  # noqa: ANN001 - ctypes signature
        if numsamples > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        i = 0
        while events[i].type != 0:  # espeakEVENT_LIST_TERMINATED
            ev = events[i]
            phoneme = ev.id.string.decode("utf-8", "replace") if ev.type == EV_PHONEME else ""
            raw_events.append((ev.type, ev.text_position, ev.length, ev.audio_position, phoneme))
            i += 1
        return 0

    callback = _CALLBACK(on_audio)
    lib.espeak_SetSynthCallback(callback)
    data = text.encode("utf-8")
    buf = ctypes.create_string_buffer(data)
    rc = lib.espeak_Synth(buf, len(data) + 1, 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None)
    if rc != 0:
        raise RuntimeError(f"espeak_Synth failed with {rc}")
    lib.espeak_Synchronize()
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    audio_end_ms = 1000.0 * len(samples) / sample_rate

    # text_position is 1-based in bytes of the UTF-8 input; convert to 0-based characters.
    byte_to_char = {}
    offset = 0
    for ci, ch in enumerate(text):
        byte_to_char[offset] = ci
        offset += len(ch.encode("utf-8"))
    byte_to_char[offset] = len(text)

    words: list[dict] = []
    for k, (etype, pos, length, ms, _) in enumerate(raw_events):
        if etype != EV_WORD:
            continue
        end_ms = None
        for etype2, _p, _l, ms2, phoneme in raw_events[k + 1:]:
            if etype2 == EV_WORD:
                end_ms = ms2
                break
            if etype2 == EV_PHONEME and phoneme.startswith("_") and ms2 > ms:
                end_ms = ms2
                break
        char_pos = byte_to_char.get(pos - 1, pos - 1)
        words.append({"pos": char_pos, "len": length, "start": ms / 1000.0,
                      "end": (end_ms if end_ms is not None else audio_end_ms) / 1000.0})
    return samples.astype(np.int16), sample_rate, words


@dataclass
class Clip:
    wav: Path
    text: str
    voice: str
    rate: int
    sample_rate: int
    events: list[dict]  # {"pos", "len", "start", "end"} per spoken word

    def truth_for(self, tokens) -> list[float | None]:  # noqa: ANN001 - f5ui.timing.words.Token list
        """Ground-truth start per script token, matched by text position (espeak
        sometimes gives no WORD event for a short word: that token gets None)."""
        starts: list[float | None] = []
        for tok in tokens:
            hit = [e for e in self.events if tok.start_char <= e["pos"] < tok.end_char]
            starts.append(hit[0]["start"] if hit else None)
        return starts


def clip(cache_dir: Path, text: str, voice: str = "en-us", rate: int = 175) -> Clip:
    """Generate (or reuse) one clip in a fresh subprocess; return it with its word events."""
    key = hashlib.sha256(f"{voice}|{rate}|{text}".encode()).hexdigest()[:16]
    wav = Path(cache_dir) / f"espeak-{key}.wav"
    meta = wav.with_suffix(".json")
    if not (wav.is_file() and meta.is_file()):
        wav.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "tests.speech", str(wav), "--voice", voice, "--rate", str(rate),
                        "--text", text], check=True, cwd=Path(__file__).resolve().parent.parent, timeout=60)
    info = json.loads(meta.read_text())
    return Clip(wav, info["text"], info["voice"], info["rate"], info["sample_rate"], info["events"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--voice", default="en-us")
    parser.add_argument("--rate", type=int, default=175)
    parser.add_argument("--text", required=True)
    args = parser.parse_args(argv)
    import soundfile as sf

    samples, sr, words = synthesize(args.text, args.voice, args.rate)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(args.out), samples, sr, subtype="PCM_16")
    args.out.with_suffix(".json").write_text(json.dumps(
        {"text": args.text, "voice": args.voice, "rate": args.rate, "sample_rate": sr, "events": words}, indent=1))


if __name__ == "__main__":
    main()


# The evaluation set: several voices and rates, punctuation and pauses. (text, voice, rate)
CLIPS: list[tuple[str, str, int]] = [
    ("The quick brown fox jumps over the lazy dog, and then it takes a long nap.", "en-us", 175),
    ("She sells sea shells by the sea shore every single morning.", "en-us+f3", 150),
    ("Some call me nature, others call me mother nature.", "en", 140),
    ("Please remember to water the plants before you leave for the weekend.", "en-us+m3", 200),
    ("In the beginning there was only darkness; then, slowly, the stars appeared.", "en", 165),
    ("Every word of this sentence should come back with a start and an end time.", "en-us+f3", 220),
    ("We measured the river at dawn, at noon, and again just before sunset.", "en-us+m3", 130),
]


# A second, larger evaluation set: 24 sentences spoken in turn by CHECK_VOICES at CHECK_RATES
# (tests/test_check.py, tests/test_timing_accuracy.py). Not held out: the word check's grammar
# weights were chosen on it, and it is where the aligner's narrower beams lost 4 alignments.
CHECK_SENTENCES: list[str] = [
    "The quick brown fox jumps over the lazy dog near the river.",
    "Please remember to water the plants before you leave for the weekend.",
    "We measured the river at dawn and again just before sunset.",
    "She sells sea shells by the sea shore every single morning.",
    "My brother bought a new bicycle for his long ride to work.",
    "The children played football in the park until it got dark.",
    "A cold wind blew across the empty field all night long.",
    "Our teacher told us a story about a brave little mouse.",
    "The train to the city leaves from the second platform at noon.",
    "Fresh bread and warm soup were waiting on the kitchen table.",
    "He opened the window to let the morning light into the room.",
    "Many birds fly south when the days grow short and cold.",
    "The old captain sailed his ship through the stormy sea.",
    "They painted the fence bright yellow during the summer holiday.",
    "A small dog barked at the mailman every day of the week.",
    "The museum will show paintings from five different countries.",
    "Her grandmother planted roses along the garden path last spring.",
    "We need more chairs for the guests arriving this evening.",
    "The pilot announced that the flight would land early tonight.",
    "Students read three chapters of the book before the exam.",
    "The baker wakes up before sunrise to prepare the dough.",
    "Heavy rain flooded the streets of the little mountain town.",
    "The doctor asked him to drink more water and sleep longer.",
    "Two young foxes were playing quietly behind the wooden barn.",
]
CHECK_VOICES = ["en-us", "en-us+f3", "en", "en-us+m3"]
CHECK_RATES = [140, 150, 160, 175]
# A second reading of the set, by other (voice, rate) pairs in turn.
SECOND_READING = [("en-us", 150), ("en-us+f3", 165), ("en", 175), ("en-us+m3", 140), ("en-us+f3", 155), ("en", 160)]


def check_speaker(index: int, reading: int = 0) -> tuple[str, int]:
    """(voice, rate) of CHECK_SENTENCES[index]: in the first reading every voice at every rate
    across the set; in the second, SECOND_READING in turn."""
    if reading:
        return SECOND_READING[index % len(SECOND_READING)]
    return CHECK_VOICES[index % 4], CHECK_RATES[(index // 4) % 4]


def clip_dir(tmp_path_factory) -> Path:  # noqa: ANN001 - pytest's TempPathFactory
    """One cache folder per test session, shared by all test modules."""
    path = Path(tmp_path_factory.getbasetemp()) / "espeak-clips"
    path.mkdir(parents=True, exist_ok=True)
    return path


HUMAN_CLIP_TEXT = "Some call me nature, others call me mother nature."


def human_clip() -> Path:
    """The f5-tts wheel's human reference recording (its text is HUMAN_CLIP_TEXT)."""
    from importlib.resources import files

    return Path(str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")))


@dataclass
class Recording:
    wav: Path
    text: str  # the script: CHECK_SENTENCES in the order spoken
    starts: list[float | None]  # ground-truth start of each script word (None where not known)
    sentences: list[int]  # the CHECK_SENTENCES index of each clip, in order
    spans: list[tuple[float, float]]  # where each clip is, in seconds


def recording(cache_dir: Path, seconds: float, max_chars: int | None = None,
              say: Callable[[int, int], str] | None = None) -> Recording:
    """A long recording made of CHECK_SENTENCES clips (both readings in turn) with pauses between
    them, exactly `seconds` long (16 kHz mono int16): as many clips as fit in `seconds` (and whose
    text fits in `max_chars`), the pauses sized to fill the rest. `say(n, i)` gives what the n-th clip
    (sentence i) says instead of the sentence, e.g. with a word left out (its words have no truth)."""
    import soundfile as sf

    from f5ui.audio import read_audio, resample
    from f5ui.timing.words import tokenize

    rate = 16000
    order = [(i, reading) for reading in (0, 1) for i in range(len(CHECK_SENTENCES))]
    chosen: list = []
    speech = chars = 0.0
    while True:
        i, reading = order[len(chosen) % len(order)]
        said = say(len(chosen), i) if say else CHECK_SENTENCES[i]
        c = clip(cache_dir, said, *check_speaker(i, reading))
        audio = read_audio(c.wav)
        length = audio.duration + 0.4  # and at least 0.4 s of pause after it
        if speech + length > seconds or (max_chars and chars + len(CHECK_SENTENCES[i]) + 1 > max_chars):
            break
        chosen.append((i, c, resample(audio.samples, audio.sample_rate, rate), said == CHECK_SENTENCES[i]))
        speech, chars = speech + length, chars + len(CHECK_SENTENCES[i]) + 1
    gap = int((seconds * rate - sum(len(x) for _, _, x, _ in chosen)) / len(chosen))
    out, starts, spans, at = [], [], [], 0
    for i, c, x, whole in chosen:
        spans.append((at / rate, (at + len(x)) / rate))
        tokens = tokenize(CHECK_SENTENCES[i])
        starts += [None if t is None else round(t + at / rate, 3)
                   for t in (c.truth_for(tokens) if whole else [None] * len(tokens))]
        out += [x, np.zeros(gap, dtype=np.float32)]
        at += len(x) + gap
    samples = np.concatenate(out)
    samples = np.concatenate([samples, np.zeros(int(seconds * rate) - len(samples), dtype=np.float32)])
    key = hashlib.sha256(repr([c.wav.name for _, c, _, _ in chosen]).encode()).hexdigest()[:12]
    path = Path(cache_dir) / f"recording-{int(seconds)}s-{key}.wav"
    sf.write(str(path), samples, rate, subtype="PCM_16")
    return Recording(path, " ".join(CHECK_SENTENCES[i] for i, *_ in chosen), starts, [i for i, *_ in chosen], spans)
