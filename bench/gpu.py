"""GPU benchmark: F5TTS_v1_Base's real architecture with random weights (the compute of the real
model), loaded through the studio's own path. Prints, per setting (precision, torch.compile), the
real-time factor at NFE 16 and 32, peak VRAM with the aligner loaded, and the ratio of the studio's
path to the bare f5-tts path (`infer_process` on the same model objects). Under 5 minutes on one
H100/H200-class GPU. Targets: RTF ≤ 0.04 at NFE 16, VRAM with the aligner ≤ 3 GB. The aligner is
WhisperX with a random wav2vec2 of wav2vec2-base's size (its English model's), so its memory is real;
each setting's models are freed before the next one loads.

    python bench/gpu.py                          # CUDA, full size, every setting
    python bench/gpu.py --device cpu --tiny      # the same code on a CPU with the tiny test model

RTF = generation seconds / audio seconds, warm (one warm-up take per setting), word check and word
timings off (they are measured by bench_check and bench_alignment)."""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

SENTENCE = "This studio clones a voice from a short recording and speaks any text you type. "


def settings_for(device: str) -> list[tuple[str, dict[str, str]]]:
    if not device.startswith("cuda"):
        return [("fp32", {"F5UI_PRECISION": "fp32"})]
    return [("fp32", {"F5UI_PRECISION": "fp32"}), ("fp16", {"F5UI_PRECISION": "fp16"}),
            ("bf16", {"F5UI_PRECISION": "bf16"}), ("fp16+compile", {"F5UI_PRECISION": "fp16", "F5UI_COMPILE": "1"})]


def text_for(seconds: float, ref_seconds: float, ref_text: str) -> str:
    """About `seconds` of speech at the reference's pace (f5's duration rule: bytes per second)."""
    rate = len(ref_text.encode()) / ref_seconds
    words = SENTENCE.split()
    out: list[str] = []
    while len(" ".join(out).encode()) < seconds * rate:
        out.append(words[len(out) % len(words)])
    return " ".join(out).rstrip(",") + "."


def run_setting(name: str, env: dict[str, str], text: str, nfes: list[int], runs: int,
                with_bare: bool = False) -> dict:
    """One setting, then its models are freed, so the next setting's peak VRAM is its own."""
    import gc

    import torch

    from f5ui.config import from_env
    from f5ui.paths import FileGate
    from f5ui.schema import GenerationParams
    from f5ui.service import Studio
    from tests.helpers import install_punkt_tab
    from tests.tiny_model import reference_clip

    cuda = env["F5UI_DEVICE"].startswith("cuda")
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    data = Path(tempfile.mkdtemp(prefix="f5ui-gpu-"))
    install_punkt_tab(data / "nltk_data")  # WhisperX's sentence splitter, offline
    studio = Studio(from_env(dict(env, F5UI_CHECK="0", F5UI_DATA_DIR=str(data))), files=FileGate(None))
    loaded = studio.model.get()
    ref, ref_text = reference_clip()
    row: dict = {"setting": name, "info": loaded.device_info}
    for nfe in nfes:
        params = GenerationParams(nfe_step=nfe, seed=1, max_takes=1)
        studio.generate(ref, ref_text, text, params, word_timings=False)  # warm-up (and compile)
        times, audio = [], 0.0
        for _ in range(runs):
            if cuda:
                torch.cuda.synchronize()
            started = time.perf_counter()
            result = studio.generate(ref, ref_text, text, params, word_timings=False)
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
            audio = result.duration
        row[f"rtf{nfe}"] = statistics.median(times) / audio
        row["audio_s"] = audio
    # VRAM with the aligner loaded too (WhisperX's wav2vec2 at its real size): a take with word timings.
    studio.aligner.preload()
    timed = studio.generate(ref, ref_text, text, GenerationParams(nfe_step=nfes[0], seed=1), word_timings=True)
    row["aligner"] = timed.timing.alignment.backend if timed.timing else "none"
    row["vram_gb"] = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
    if with_bare:
        row["bare"] = bare_ratio(studio, loaded, text, nfes[0], runs)
    del studio, loaded, timed, result
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return row


def bare_ratio(studio, loaded, text: str, nfe: int, runs: int) -> tuple[float, float, float]:  # noqa: ANN001
    """Studio path vs f5-tts's infer_process on the same model objects, alternating runs."""
    from bench.bench_generate import bare_path, timed
    from f5ui.schema import GenerationParams
    from tests.tiny_model import reference_clip

    ref, ref_text = reference_clip()
    cuda = loaded.device.startswith("cuda")

    def ours() -> None:
        studio.generate(ref, ref_text, text, GenerationParams(nfe_step=nfe, seed=1, max_takes=1), word_timings=False)

    bare = bare_path(studio, loaded, text, nfe)
    bare()
    pairs = [(timed(ours, cuda), timed(bare, cuda)) for _ in range(runs)]
    mine, theirs = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    return mine / theirs, mine, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="the tiny test model instead of the full-size one")
    parser.add_argument("--seconds", type=float, default=10.0, help="audio per take")
    parser.add_argument("--nfe", type=int, nargs="*", default=[16, 32])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    from tests.helpers import build_tiny_wav2vec2
    from tests.tiny_model import build_tiny_model, reference_clip

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("No CUDA GPU here: run with --device cpu --tiny to try the script on a CPU.")
    root = Path(tempfile.mkdtemp(prefix="f5ui-random-"))
    env = build_tiny_model(root, full=not args.tiny)
    env["F5UI_DEVICE"] = args.device
    env["F5UI_WHISPERX_MODEL"] = str(build_tiny_wav2vec2(root / "wav2vec2", full=not args.tiny))
    import soundfile as sf

    ref, ref_text = reference_clip()
    text = text_for(args.seconds, sf.info(str(ref)).duration, ref_text)
    started = time.perf_counter()
    settings = settings_for(args.device)
    default = 1 if len(settings) > 1 else 0  # fp16 on a GPU (f5-tts's own choice there)
    rows = [run_setting(name, {**env, **extra}, text, args.nfe, args.runs, with_bare=i == default)
            for i, (name, extra) in enumerate(settings)]
    ratio, mine, theirs = rows[default]["bare"]
    default = rows[default]

    gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU ({os.cpu_count()} cores)"
    size = "tiny test model" if args.tiny else "F5TTS_v1_Base architecture, random weights"
    print(f"\n{gpu}; {size}; {rows[0]['audio_s']:.1f} s of audio per take; {time.strftime('%Y-%m-%d')}\n")
    print("| setting | " + " | ".join(f"RTF at NFE {n}" for n in args.nfe) + " | peak VRAM with aligner | aligner |")
    print("|---|" + "---|" * len(args.nfe) + "---|---|")
    for row in rows:
        vram = f"{row['vram_gb']:.2f} GB" if row["vram_gb"] is not None else "n/a (CPU)"
        print(f"| {row['setting']} | " + " | ".join(f"{row[f'rtf{n}']:.4f}" for n in args.nfe)
              + f" | {vram} | {row['aligner']} |")
    print(f"\nratio to the bare f5 path ({default['setting']}, NFE {args.nfe[0]}): {ratio:.3f}× "
          f"({mine:.3f} s vs {theirs:.3f} s, median of {args.runs})")
    print(f"targets on an H100/H200-class GPU: RTF ≤ 0.04 at NFE 16, VRAM ≤ 3 GB; "
          f"this run took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
