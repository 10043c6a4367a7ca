"""No request freezes the server (issue 15 §1), measured:

1. The word check's decoding cost per audio second on recordings of 30 to 600 s (espeak-ng
   sentences with pauses): flat, since long audio is decoded in pieces. CPU seconds of the decoder
   processes (what the deadline counts) and wall-clock seconds.
2. A take with the check on ÷ off (the same multi-chunk text and seed, alternating runs): the check
   of chunk k runs in a decoder process while chunk k+1 generates.
3. The longest /health answer of a live app (raw HTTP, polled continuously) during a long take and
   during a 598 s /check, with the decoders in their processes (F5UI_DECODER_PROCESSES=2) and in
   the server's own process (0), side by side.

    HF_HUB_OFFLINE=1 python -m bench.bench_freeze [--quick]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

TAKE = "This studio clones a voice from a short recording and speaks any text you type. " * 5
LENGTHS = (30, 60, 120, 320, 600)


def check_cost(lengths: tuple[int, ...] = LENGTHS) -> dict[int, tuple[float, float]]:
    """Per recording length: (decoder CPU s, wall s) per audio second of a word check."""
    from f5ui.audio import read_audio
    from f5ui.config import from_env
    from f5ui.timing.check import WordChecker
    from f5ui.timing.pieces import Budget
    from f5ui.timing.words import tokenize
    from tests.speech import recording

    folder = Path(tempfile.mkdtemp(prefix="bench-freeze-"))
    checker = WordChecker(from_env({}))
    checker.load()
    out = {}
    for seconds in lengths:
        long = recording(folder, seconds)
        audio = read_audio(long.wav)
        budget = Budget(float("inf"))
        started = time.perf_counter()
        checker.check_within(audio.samples, tokenize(long.text), budget)
        out[seconds] = (budget.spent / audio.duration, (time.perf_counter() - started) / audio.duration)
    return out


def take_ratio(env: dict[str, str], runs: int) -> tuple[float, float, float]:
    """A multi-chunk take (NFE 32, word timings off), check on ÷ off: (ratio, on s, off s), medians."""
    from f5ui.config import from_env
    from f5ui.paths import FileGate
    from f5ui.schema import GenerationParams
    from f5ui.service import Studio
    from tests.tiny_model import reference_clip

    ref, ref_text = reference_clip()
    studios = {}
    for check in ("1", "0"):
        studio = Studio(from_env(dict(env, F5UI_DATA_DIR=tempfile.mkdtemp(prefix="bench-take-"), F5UI_CHECK=check,
                                      F5UI_MAX_TAKES="1")), files=FileGate(None))
        studio.model.get()
        studio.checkup.load()
        studio.generate(ref, ref_text, "Warm-up.", GenerationParams(nfe_step=32, seed=1), word_timings=False)
        studios[check] = studio
    times: dict[str, list[float]] = {"1": [], "0": []}
    for _ in range(runs):
        for check, studio in studios.items():
            started = time.perf_counter()
            studio.generate(ref, ref_text, TAKE, GenerationParams(nfe_step=32, seed=1), word_timings=False)
            times[check].append(time.perf_counter() - started)
    on, off = statistics.median(times["1"]), statistics.median(times["0"])
    return on / off, on, off


def health_gaps(env: dict[str, str], processes: int, check_seconds: float) -> tuple[float, float]:
    """Longest /health answer (s) during a take, then during a /check of `check_seconds` of speech."""
    from tests.helpers import LiveApp
    from tests.raw_api import call, file_ref, generate_args, upload
    from tests.speech import recording
    from tests.tiny_model import reference_clip

    folder = Path(tempfile.mkdtemp(prefix="bench-health-"))
    long = recording(folder / "clips", check_seconds, max_chars=4990)
    app = LiveApp({**env, "F5UI_DECODER_PROCESSES": str(processes)}, folder / "app")
    try:
        app.wait_http()
        app.wait_ready()
        ref, ref_text = reference_clip()
        reference, audio = upload(app.url, ref), upload(app.url, long.wav)
        call(app.url, "generate", generate_args(file_ref(reference), "Warm-up.", ref_text), timeout=600)
        take = _longest_health(app.url, lambda: call(app.url, "generate", generate_args(file_ref(reference), TAKE,
                                                                                         ref_text), timeout=1800))
        check = _longest_health(app.url, lambda: call(app.url, "check", [file_ref(audio), long.text, None, "en"],
                                                      timeout=3600))
    finally:
        app.stop()
    return take, check


def _longest_health(url: str, request) -> float:  # noqa: ANN001
    worker = threading.Thread(target=request)
    worker.start()
    longest = 0.0
    while worker.is_alive():
        started = time.perf_counter()
        requests.get(url + "/health", timeout=3600)
        longest = max(longest, time.perf_counter() - started)
        time.sleep(0.05)
    worker.join()
    return longest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="lengths up to 120 s, a 120 s /check, 2 runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from tests.tiny_model import build_tiny_model

    env = build_tiny_model(Path(tempfile.mkdtemp(prefix="f5ui-tiny-")))
    for row in rows(env, args.quick):
        print(" | ".join(row))


def rows(env: dict[str, str], quick: bool = False) -> list[tuple[str, str, str]]:
    """The rows this benchmark adds to `python -m bench`'s table."""
    lengths = LENGTHS[:3] if quick else LENGTHS
    cost = check_cost(lengths)
    ratio, on, off = take_ratio(env, 2 if quick else 4)
    seconds = 120.0 if quick else 598.0
    after, before = health_gaps(env, 2, seconds), health_gaps(env, 0, seconds)
    flat = " / ".join(f"{cost[n][0]:.3f}" for n in lengths)
    wall = " / ".join(f"{cost[n][1]:.3f}" for n in lengths)
    return [(f"word check, decoder CPU s per audio s at {' / '.join(f'{n} s' for n in lengths)}",
             f"**{flat}** (wall {wall})", "flat: decoded in pieces (one search over 320 s took 26 min)"),
            ("a take (5 sentences, NFE 32), check on ÷ off: the check runs while the next chunk generates",
             f"**{ratio:.2f}×** ({on:.2f} s / {off:.2f} s)", ""),
            (f"longest /health answer during a take / during a {seconds:.0f} s /check, decoders in 2 processes",
             f"**{after[0]:.3f} s / {after[1]:.3f} s**", "< 1 s"),
            ("the same with F5UI_DECODER_PROCESSES=0 (decoding in the server's process)",
             f"{before[0]:.3f} s / {before[1]:.3f} s", "what the processes save")]


if __name__ == "__main__":
    main()
