"""Alignment speed per backend: seconds of alignment per second of audio (warm),
and the one-time load cost. Speech: the espeak-ng clips of the tests, plus the
f5-tts human clip.

    HF_HUB_OFFLINE=1 python -m bench.bench_alignment [--whisperx-model DIR] [--repeat 3]

WhisperX runs with --whisperx-model (a local wav2vec2 CTC folder); without one a tiny
random model is built so the code path is timed (its speed, not a real model's).
Google runs against the local test gRPC server: that times the client and the
mapping, not Google's service.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from f5ui.audio import read_audio
from f5ui.config import from_env
from f5ui.timing.chain import AlignmentChain
from tests.speech import CLIPS, HUMAN_CLIP_TEXT, clip, human_clip


def measure(backends: list[str], repeat: int = 3, whisperx_model: str = "") -> tuple[list[tuple], int, float]:
    """(rows of (backend, load seconds, seconds per audio second, note), clips, audio seconds)."""
    work = Path(tempfile.mkdtemp(prefix="bench-align-"))
    items = [(c.wav, c.text) for c in (clip(work / "clips", *spec) for spec in CLIPS)]
    items.append((human_clip(), HUMAN_CLIP_TEXT))
    audio_seconds = sum(read_audio(p).duration for p, _ in items)

    rows = []
    for name in backends:
        env = {"F5UI_DATA_DIR": str(work / "data"), "F5UI_ALIGNERS": name, "F5UI_DEVICE": "cpu"}
        server = None
        note = ""
        if name == "whisperx":
            model = whisperx_model
            if not model:
                from tests.helpers import build_tiny_wav2vec2

                model = str(build_tiny_wav2vec2(work / "tiny-wav2vec2"))
                note = "tiny random model"
            from tests.helpers import install_punkt_tab

            install_punkt_tab(work / "data" / "nltk_data")
            env["F5UI_WHISPERX_MODEL"] = model
        if name == "google":
            from tests.google_speech_server import SpeechServer

            server = SpeechServer(words=[("some", 0.1, 0.4)]).start()
            env["F5UI_GOOGLE_ENDPOINT"] = f"insecure://{server.address}"
            note = "local gRPC test server"
        chain = AlignmentChain(from_env(env))
        started = time.perf_counter()
        chain.preload()
        load = time.perf_counter() - started
        chain.align(*items[0], backend=name)  # warm-up: first-call allocations
        used = set()
        started = time.perf_counter()
        for _ in range(repeat):
            for path, text in items:
                used.add(chain.align(path, text, backend=name).backend)
        per_second = (time.perf_counter() - started) / (repeat * audio_seconds)
        if server:
            server.stop()
        if used != {name}:
            note = (note + "; " if note else "") + f"fell back to {sorted(used)}"
        rows.append((name, load, per_second, note))
    return rows, len(items), audio_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--whisperx-model", default="")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sphinx,estimate,whisperx,google")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    rows, clips, audio_seconds = measure(backends, args.repeat, args.whisperx_model)
    print(f"\nAlignment speed on {clips} clips, {audio_seconds:.1f} s of audio, x{args.repeat}, CPU "
          f"({os.cpu_count()} cores)\n")
    print("| backend | load (s, once) | s per audio s (warm) | note |\n|---|---|---|---|")
    for name, load, per_second, note in rows:
        print(f"| {name} | {load:.2f} | {per_second:.4f} | {note} |")


if __name__ == "__main__":
    main()
