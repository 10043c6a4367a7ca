"""The benchmark suite, one command: `python -m bench` (add --quick for a shorter run).

Measured side by side in one run, on this machine; prints one table of ratios and figures:
service overhead vs bare infer_process, cold start, repeated and saved voices, streaming (time to
first audio), alignment and the take check per audio second, the check's cost from 30 to 600 s of
audio, a take with the check on ÷ off, the longest /health answer while a take and a 600 s /check
run, projects (a run's overhead over direct generation, how long a request waits during a run),
memory over 50 generations, and F5TTS_v1_Base's full-size architecture on the CPU. bench/gpu.py is
the GPU counterpart."""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from bench import bench_alignment, bench_check, bench_freeze, bench_generate, bench_projects  # noqa: E402

SENTENCE = "This studio clones a voice from a short recording and speaks any text you type. "
Row = tuple[str, str, str]  # measure, result, target or note


def _studio(env: dict[str, str], data_dir: str | None = None, **extra: str):  # noqa: ANN202 - f5ui.service.Studio
    from f5ui.config import from_env
    from f5ui.paths import FileGate
    from f5ui.service import Studio

    data = data_dir or tempfile.mkdtemp(prefix="f5ui-bench-")
    studio = Studio(from_env(dict(env, F5UI_DATA_DIR=data, **extra)), files=FileGate(None))
    studio.model.get()
    return studio


def overhead_and_startup(env: dict[str, str], runs: int, startup_runs: int) -> list[Row]:
    o = bench_generate.measure_overhead(env, runs, 32)
    s = bench_generate.measure_startup(env, startup_runs)
    lo, hi = o["pair_ratios"][0], o["pair_ratios"][-1]
    return [
        ("service overhead: warm /generate path vs bare infer_process (same model, inputs, seed, NFE 32; "
         f"{runs} alternating pairs)", f"**{o['ratio']:.3f}×** (pairs {lo:.3f}–{hi:.3f}×; "
         f"{o['service_median_s']:.3f} s [{o['service_range_s'][0]:.3f}–{o['service_range_s'][1]:.3f}] vs "
         f"{o['bare_median_s']:.3f} s [{o['bare_range_s'][0]:.3f}–{o['bare_range_s'][1]:.3f}])", "≤ 1.05×"),
        ("cold start: `python app.py` → HTTP 200 on /", f"**{s['startup_median_s']:.2f} s**",
         f"bare `import f5_tts.api`: {s['import_f5_tts_api_median_s']:.2f} s"),
        ("reference preprocessing, first request / repeat request",
         f"{o['first_ref_preprocess_s'] * 1000:.1f} ms / **{o['repeat_ref_preprocess_s'] * 1000:.1f} ms**",
         "0 on repeat"),
    ]


def saved_voice_after_restart(env: dict[str, str]) -> list[Row]:
    from f5ui.schema import GenerationParams
    from tests.tiny_model import reference_clip

    ref, ref_text = reference_clip()
    data = tempfile.mkdtemp(prefix="f5ui-bench-voices-")
    _studio(env, data, F5UI_CHECK="0").save_voice(ref, ref_text, "Bench Voice")
    restarted = _studio(env, data, F5UI_CHECK="0")  # a new process would build exactly this
    result = restarted.generate(None, "", "After a restart.", GenerationParams(nfe_step=8, seed=1),
                                word_timings=False, voice="Bench Voice")
    return [("saved voice after a restart: reference preprocessing",
             f"**{result.timings_s['reference'] * 1000:.1f} ms**", "0 (the voice keeps its preprocessed reference)")]


def streaming(env: dict[str, str]) -> list[Row]:
    from f5ui.audio import read_audio
    from f5ui.engine.chunking import plan_chunks
    from f5ui.schema import GenerationParams
    from f5ui.streaming import Piece
    from tests.tiny_model import reference_clip

    ref, ref_text = reference_clip()
    studio = _studio(env)
    prepared = studio.references.prepare(ref, ref_text)
    audio = read_audio(prepared.audio_path)
    n = 4
    while len(plan_chunks(len(audio.samples), audio.sample_rate, prepared.text, SENTENCE * n, 1.0)) < 8:
        n += 1
    text = SENTENCE * n
    params = GenerationParams(nfe_step=32, seed=1)
    studio.generate(ref, ref_text, "Warm-up.", params, word_timings=False)
    ratios, firsts = [], []
    for _ in range(3):
        started, first, first_piece = time.perf_counter(), None, None
        for item in studio.generate_stream(ref, ref_text, text, params, word_timings=False):
            if first is None and isinstance(item, Piece):
                first, first_piece = time.perf_counter() - started, item
        total = time.perf_counter() - started
        chunks = item.result.chunks
        ratios.append(first / total)
        firsts.append(first)
    seconds = len(first_piece.samples) / first_piece.sample_rate
    # The OpenAI endpoint's mp3 stream: what goes on the wire, through the one ffmpeg of the stream.
    studio.save_voice(ref, ref_text, "Bench Stream", overwrite=True)
    wire = []
    for _ in range(3):
        started, first_byte = time.perf_counter(), None
        encoded, _ = studio.speech_stream(text, "Bench Stream", "mp3")
        for _chunk in encoded:
            first_byte = first_byte or time.perf_counter() - started
        wire.append(first_byte / (time.perf_counter() - started))
    studio.delete_voice("Bench Stream")
    return [(f"streaming, {len(chunks)}-chunk text (NFE 32, check on): time to first audio / total",
             f"**{statistics.median(ratios):.3f}** ({statistics.median(firsts):.2f} s of {total:.2f} s)", "≤ 0.25"),
            ("the same as `/v1/audio/speech` mp3 (`stream_format: audio`): first byte / total",
             f"**{statistics.median(wire):.3f}**", "≤ 0.25"),
            ("first chunk chosen", f"{len(chunks[0])} characters, {seconds:.2f} s of audio "
             f"(later chunks ≤ {max(len(c) for c in chunks[1:])} characters)", "a quarter of the chunk size")]


def alignment_and_check() -> list[Row]:
    rows, clips, seconds = bench_alignment.measure(["sphinx", "estimate", "whisperx", "google"], repeat=2)
    out = [(f"alignment, {name} ({note or 'offline'})", f"{per:.4f} s per audio s; load {load:.2f} s once",
            "≤ 0.1" if name == "sphinx" else "") for name, load, per, note in rows]
    c = bench_check.measure(24, 1)
    out.append(("take check: a chunk's verdict (words + similarity) + loudness",
                f"**{c['whole'] + c['loudness']:.4f} s per audio s** (words {c['words']:.4f}, similarity "
                f"{c['similarity']:.4f}); load {c['load_s']:.2f} s once", "≤ 0.1"))
    return out


def memory(env: dict[str, str], generations: int) -> list[Row]:
    """The app as a process: resident memory with the model loaded, and after many generations."""
    from gradio_client import Client, handle_file

    from tests.helpers import LiveApp, generate_inputs
    from tests.tiny_model import reference_clip

    app = LiveApp(env, Path(tempfile.mkdtemp(prefix="f5ui-bench-mem-")))
    try:
        app.wait_http()
        app.wait_ready()
        client = Client(app.url, verbose=False)
        ref, ref_text = reference_clip()

        def rss() -> tuple[float, float]:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{app.proc.pid}/status").read_text().splitlines())
            return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

        loaded, _ = rss()
        readings = []
        for i in range(generations):
            client.predict(*generate_inputs(handle_file(str(ref)), ref_text, f"Take number {i + 1} of many.",
                                            nfe_step=8, seed=i), api_name="/generate")
            if i in (0, generations // 2 - 1, generations - 1):
                readings.append(rss()[0])
        _, peak = rss()
    finally:
        app.stop()
    first, middle, last = readings
    return [("app resident memory, model loaded (tiny model: mostly torch, gradio, the aligners)",
             f"{loaded:.0f} MB", ""),
            (f"after 1 / {generations // 2} / {generations} generations (timings and check on)",
             f"{first:.0f} / {middle:.0f} / {last:.0f} MB; peak {peak:.0f} MB",
             f"growth from the {generations // 2}th to the last: **{last - middle:+.0f} MB** (bounded caches)")]


def full_size_cpu(runs: int) -> list[Row]:
    """F5TTS_v1_Base's architecture with random weights on this CPU: the cost of one NFE step."""
    import torch

    from f5ui.schema import GenerationParams
    from tests.tiny_model import build_tiny_model, reference_clip

    env = build_tiny_model(Path(tempfile.mkdtemp(prefix="f5ui-full-")), full=True)
    studio = _studio(env, F5UI_CHECK="0")
    loaded = studio.model.get()
    ref, ref_text = reference_clip()
    prepared = studio.references.prepare(ref, ref_text)
    from f5ui.engine.chunk_inference import ReferenceTensors

    tensors = ReferenceTensors().get("bench", *_wave(prepared), prepared.text, loaded.model, loaded.device)
    frames_10s = int(10 * 24000 / 256)

    def sample(steps: int) -> float:
        started = time.perf_counter()
        with torch.inference_mode():
            loaded.model.sample(cond=tensors.mel, text=[tensors.text + SENTENCE * 2], duration=tensors.frames +
                                frames_10s, steps=steps, cfg_strength=2.0, sway_sampling_coef=-1)
        return time.perf_counter() - started

    sample(1)  # warm-up
    one, two = statistics.median(sample(1) for _ in range(runs)), statistics.median(sample(2) for _ in range(runs))
    step = two - one
    fixed = max(0.0, one - step)
    vocoder = _time_vocoder(loaded, frames_10s)
    rtf = {n: (fixed + n * step + vocoder) / 10.0 for n in (16, 32)}

    text = SENTENCE.strip()  # one chunk: both paths run the same model calls

    def ours() -> None:
        studio.generate(ref, ref_text, text, GenerationParams(nfe_step=4, seed=1, max_takes=1), word_timings=False)

    bare = bench_generate.bare_path(studio, loaded, text, 4)
    pairs = [(bench_generate.timed(ours), bench_generate.timed(bare)) for _ in range(runs)]
    ratio = statistics.median(a for a, _ in pairs) / statistics.median(b for _, b in pairs)
    params = sum(p.numel() for p in loaded.model.parameters()) / 1e6
    return [(f"full-size F5TTS_v1_Base ({params:.0f} M parameters, random weights) on the CPU: one NFE step, "
             "10 s output", f"**{step:.2f} s** (+ {fixed:.2f} s per take outside the steps, vocoder {vocoder:.2f} s)",
             ""),
            ("implied real-time factor at NFE 16 / 32 on this CPU", f"{rtf[16]:.1f} / {rtf[32]:.1f}",
             "a GPU's job: see bench/gpu.py"),
            ("our path vs the bare f5 path on the full-size model (NFE 4, one chunk)", f"**{ratio:.3f}×**", "≤ 1.05×")]


def _wave(prepared) -> tuple:  # noqa: ANN001
    from f5ui.audio import read_audio

    audio = read_audio(prepared.audio_path)
    return audio.samples, audio.sample_rate


def _time_vocoder(loaded, frames: int) -> float:  # noqa: ANN001
    import torch

    mel = torch.randn(1, 100, frames)
    with torch.inference_mode():
        loaded.vocoder.decode(mel)
        started = time.perf_counter()
        loaded.vocoder.decode(mel)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs, 10 generations for memory, no full size")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from tests.tiny_model import build_tiny_model

    env = build_tiny_model(Path(tempfile.mkdtemp(prefix="f5ui-tiny-")))
    started = time.perf_counter()
    runs = 4 if args.quick else 10
    rows: list[Row] = []
    rows += overhead_and_startup(env, runs, 2 if args.quick else 3)
    rows += saved_voice_after_restart(env)
    rows += streaming(env)
    rows += alignment_and_check()
    rows += bench_freeze.rows(env, args.quick)
    rows += bench_projects.rows(env, 2 if args.quick else 3)
    rows += memory(env, 10 if args.quick else 50)
    if not args.quick:
        rows += full_size_cpu(2)
    import torch

    gpu = f"GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "no GPU"
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, {gpu}; tiny random-weight "
          f"model unless noted; {time.strftime('%Y-%m-%d')}; the suite took {time.perf_counter() - started:.0f} s\n")
    print("| measure | result | target / note |\n|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")


if __name__ == "__main__":
    main()
