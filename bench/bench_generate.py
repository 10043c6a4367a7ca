"""Generation benchmarks, measured side by side in one run (ratios, not absolute times).

1. Service overhead: the warm path behind /generate (Studio.generate, word timings off) vs bare
   f5_tts.infer.utils_infer.infer_process on the same model objects, inputs, seed and NFE,
   alternating runs. Target ≤ 1.05×.
2. Start-up: `python app.py` to HTTP 200 on / (the model loads in the background), next to the
   time of a bare `import f5_tts.api`. Target ≤ 6 s.
3. Reference preprocessing on a second request with the same reference. Target 0.

Usage: .venv/bin/python bench/bench_generate.py [--runs 10] [--model-dir DIR]
Without --model-dir it builds the tiny random-weight model the tests use (CPU, no hub).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

TEXT = ("Benchmarks compare the studio's generate path with the bare inference function of F5-TTS, "
        "on the same checkpoint, the same reference, the same seed and the same number of steps.")


def bare_path(studio, loaded, text: str, nfe: int) -> Callable[[], None]:  # noqa: ANN001
    """f5-tts's own `infer_process` on the studio's model objects and prepared reference, seeded as
    the studio's take is: what the studio's path is compared with, in every benchmark."""
    import torch
    from f5_tts.infer.utils_infer import infer_process

    from tests.tiny_model import reference_clip

    prepared = studio.references.prepare(*reference_clip())

    def bare() -> None:
        torch.manual_seed(1)
        infer_process(prepared.audio_path, prepared.text, text, loaded.model, loaded.vocoder, mel_spec_type="vocos",
                      show_info=lambda *_: None, progress=None, nfe_step=nfe, device=loaded.device)

    return bare


def timed(call: Callable[[], object], cuda: bool = False) -> float:
    """Seconds `call` takes (on a GPU: until its kernels are done)."""
    import torch

    if cuda:
        torch.cuda.synchronize()
    started = time.perf_counter()
    call()
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - started


def measure_overhead(env: dict[str, str], runs: int, nfe: int) -> dict[str, float]:
    from f5ui.config import from_env
    from f5ui.paths import FileGate
    from f5ui.schema import GenerationParams
    from f5ui.service import Studio
    from tests.tiny_model import reference_clip

    ref, ref_text = reference_clip()
    # The take check is a feature with its own benchmark (bench_check); overhead is measured without it.
    studio = Studio(from_env(dict(env, F5UI_CHECK="0", F5UI_DATA_DIR=tempfile.mkdtemp(prefix="f5ui-bench-"))),
                    files=FileGate(None))
    loaded = studio.model.get()
    params = GenerationParams(nfe_step=nfe, seed=1)
    # The overhead comparison is about generation itself: word timings are measured on their own below.
    first = studio.generate(ref, ref_text, TEXT, params, word_timings=False)  # warm-up; fills the reference cache
    first_ref_seconds = first.timings_s["reference"]
    bare = bare_path(studio, loaded, TEXT, nfe)
    bare()
    service_times, bare_times, second_ref = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        result = studio.generate(ref, ref_text, TEXT, params, word_timings=False)
        service_times.append(time.perf_counter() - started)
        second_ref.append(result.timings_s["reference"])
        bare_times.append(timed(bare))
    studio.aligner.preload()
    timing_costs = []
    for _ in range(3):
        started = time.perf_counter()
        with_timings = studio.generate(ref, ref_text, TEXT, params, word_timings=True)
        timing_costs.append(time.perf_counter() - started - statistics.median(service_times))
    return {
        "timings_extra_s": statistics.median(timing_costs),
        "timings_backend": with_timings.timing.alignment.backend if with_timings.timing else "none",
        "service_median_s": statistics.median(service_times),
        "bare_median_s": statistics.median(bare_times),
        "service_range_s": (min(service_times), max(service_times)),
        "bare_range_s": (min(bare_times), max(bare_times)),
        "pair_ratios": sorted(a / b for a, b in zip(service_times, bare_times)),
        "ratio": statistics.median(service_times) / statistics.median(bare_times),
        "first_ref_preprocess_s": first_ref_seconds,
        "repeat_ref_preprocess_s": max(second_ref),
        "device": loaded.device,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure_startup(env: dict[str, str], runs: int) -> dict[str, float]:
    import requests

    startup, imports = [], []
    for _ in range(runs):
        port = _free_port()
        full_env = dict(os.environ, **env, F5UI_PORT=str(port), F5UI_DATA_DIR=tempfile.mkdtemp())
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=full_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.05)
            startup.append(time.perf_counter() - started)
        finally:
            proc.terminate()
            proc.wait(10)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import f5_tts.api"], check=True, capture_output=True)
        imports.append(time.perf_counter() - started)
    return {"startup_median_s": statistics.median(startup), "import_f5_tts_api_median_s": statistics.median(imports)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--nfe", type=int, default=32)
    parser.add_argument("--env-from-current", action="store_true",
                        help="Use the F5UI_* variables already set (e.g. real weights) instead of the tiny model.")
    args = parser.parse_args()

    if args.env_from_current:
        env = {k: v for k, v in os.environ.items() if k.startswith("F5UI_")}
    else:
        from tests.tiny_model import build_tiny_model

        env = build_tiny_model(Path(tempfile.mkdtemp(prefix="f5ui-tiny-")))

    overhead = measure_overhead(env, args.runs, args.nfe)
    startup = measure_startup(env, args.startup_runs)
    rows = [
        ("warm /generate path (Studio.generate), median", f"{overhead['service_median_s']:.3f} s", ""),
        ("bare infer_process, median", f"{overhead['bare_median_s']:.3f} s", ""),
        ("service overhead ratio", f"{overhead['ratio']:.3f}x", "target <= 1.05x"),
        ("python app.py -> HTTP 200 on /, median", f"{startup['startup_median_s']:.2f} s", "target <= 6 s"),
        ("bare `import f5_tts.api`, median", f"{startup['import_f5_tts_api_median_s']:.2f} s", "for comparison"),
        (f"word timings on top ({overhead['timings_backend']})", f"+{overhead['timings_extra_s']:.3f} s",
         "optional; on by default"),
        ("reference preprocessing, first request", f"{overhead['first_ref_preprocess_s'] * 1000:.1f} ms", ""),
        ("reference preprocessing, repeat requests (max)", f"{overhead['repeat_ref_preprocess_s'] * 1000:.1f} ms",
         "target 0"),
    ]
    print(f"device: {overhead['device']}; runs: {args.runs}; NFE {args.nfe}; text {len(TEXT)} chars")
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")


if __name__ == "__main__":
    main()
