"""Cost of the take check (word check, speaker similarity, loudness) per second of audio, warm, on
the CPU, and its share of a generation. Speech: espeak-ng renderings of the test sentences.

    HF_HUB_OFFLINE=1 python -m bench.bench_check [--sentences 24] [--repeat 2]

Target (issue 11): the whole check ≤ 0.1 s per audio second on the CPU, so it can stay on.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from f5ui.audio import read_audio, resample
from f5ui.checkup import Checkup
from f5ui.config import from_env
from f5ui.quality.loudness import measure as measure_loudness
from f5ui.timing.words import tokenize
from tests.speech import CHECK_SENTENCES, check_speaker, clip


def measure(sentences: int = 24, repeat: int = 2) -> dict[str, float]:
    """Seconds per audio second of each step, warm, and the models' load time."""
    work = Path(tempfile.mkdtemp(prefix="bench-check-"))
    clips = [clip(work, text, *check_speaker(i)) for i, text in enumerate(CHECK_SENTENCES[:sentences])]
    audio = [read_audio(c.wav) for c in clips]
    seconds = sum(a.duration for a in audio) * repeat
    checkup = Checkup(from_env({"F5UI_DATA_DIR": str(work / "data")}))
    started = time.perf_counter()
    checkup.load()
    load = time.perf_counter() - started
    reference = checkup.similarity.embed(audio[0].samples, audio[0].sample_rate)

    def timed(step) -> float:  # noqa: ANN001
        step(audio[0], clips[0])  # warm-up
        began = time.perf_counter()
        for _ in range(repeat):
            for a, c in zip(audio, clips):
                step(a, c)
        return (time.perf_counter() - began) / seconds

    words = timed(lambda a, c: checkup.words.check(resample(a.samples, a.sample_rate), tokenize(c.text)))
    similarity = timed(lambda a, c: checkup.similarity.embed(a.samples, a.sample_rate))
    loudness = timed(lambda a, c: measure_loudness(a.samples, a.sample_rate))
    whole = timed(lambda a, c: checkup.verdict(a.samples, a.sample_rate, c.text, reference, "en"))
    return {"clips": len(clips), "speech_s": seconds / repeat, "load_s": load, "words": words,
            "similarity": similarity, "loudness": loudness, "whole": whole}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    m = measure(args.sentences, args.repeat)
    words, similarity, loudness, whole = m["words"], m["similarity"], m["loudness"], m["whole"]
    print(f"\nTake check on {m['clips']} clips, {m['speech_s']:.1f} s of speech, x{args.repeat}, CPU "
          f"({os.cpu_count()} cores); models loaded once in {m['load_s']:.2f} s\n")
    print("| step | s per audio s (warm) |\n|---|---|")
    for name, value in (("word check (pocketsphinx grammar + phone loop)", words),
                        ("speaker similarity (resemblyzer)", similarity), ("loudness (pyloudnorm)", loudness),
                        ("**a chunk's whole verdict** (words + similarity)", whole)):
        print(f"| {name} | {value:.4f} |")
    print(f"\ntarget ≤ 0.1 s per audio second: {'met' if whole + loudness <= 0.1 else 'NOT met'} "
          f"({(whole + loudness) / 0.1:.2f}× the budget)")


if __name__ == "__main__":
    main()
