"""System checks: Python, packages, ffmpeg, torch and the GPU."""

from __future__ import annotations

import platform
import shutil
import sys
from typing import Any

from ..schema import ERROR, OK, WARN, Check
from .context import Context, gib, version

REQUIRED_PACKAGES = ("gradio", "fastapi", "torch", "torchaudio", "f5-tts", "vocos", "numpy", "soundfile")
OPTIONAL_PACKAGES = ("transformers", "huggingface-hub", "pydub", "whisperx", "pocketsphinx",
                     "google-cloud-speech", "boto3")
LOW_VRAM_BYTES = 2 << 30  # F5-TTS v1 Base with vocos needs about 1.5 GiB while generating
REINSTALL = "Install the pinned requirements: .venv/bin/pip install -r requirements.txt"


def python(ctx: Context) -> list[Check]:
    return [Check("python", "system", OK,
                  f"Python {platform.python_version()} at {sys.executable} ({platform.system()} {platform.machine()})")]


def packages(ctx: Context) -> list[Check]:
    versions = {dist: version(dist) for dist in REQUIRED_PACKAGES + OPTIONAL_PACKAGES}
    listed = ", ".join(f"{dist} {v or 'not installed'}" for dist, v in versions.items())
    missing = [dist for dist in REQUIRED_PACKAGES if versions[dist] is None]
    if missing:
        return [Check("packages", "system", ERROR, f"Required packages missing: {', '.join(missing)}. {listed}",
                      REINSTALL)]
    return [Check("packages", "system", OK, listed)]


def ffmpeg(ctx: Context) -> list[Check]:
    found = shutil.which("ffmpeg")
    if found is None:
        import soundfile  # already loaded by f5ui.audio

        # What libsndfile decodes by itself still works (MP3 only from libsndfile 1.1 on).
        native = [f for f in ("WAV", "FLAC", "OGG", "MP3") if f in soundfile.available_formats()]
        return [Check("ffmpeg", "audio", WARN,
                      f"ffmpeg is not on PATH: {', '.join(native)} references work; M4A/AAC, WebM (browser "
                      "recordings) and other formats cannot be decoded.",
                      "Install ffmpeg (apt-get install ffmpeg) and restart, or upload WAV files.")]
    return [Check("ffmpeg", "audio", OK, f"ffmpeg at {found}: every common audio format is read")]


def torch_and_gpu(ctx: Context) -> list[Check]:
    try:
        import torch
    except Exception as exc:  # a broken torch install must show, not crash the thread
        return [Check("torch", "system", ERROR, f"torch cannot be imported ({type(exc).__name__}: {exc}).", REINSTALL)]
    build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU-only build"
    return [Check("torch", "system", OK, f"torch {torch.__version__} ({build}, {torch.get_num_threads()} CPU threads)"),
            _gpu(ctx, torch)]


def _gpu(ctx: Context, torch: Any) -> Check:
    requested = (ctx.settings.device or "auto").lower()
    if torch.cuda.is_available():
        index = int(requested.split(":")[1]) if requested.startswith("cuda:") else torch.cuda.current_device()
        name = torch.cuda.get_device_name(index)
        free, total = torch.cuda.mem_get_info(index)
        detail = f"cuda:{index} {name}, {gib(free)} free of {gib(total)} VRAM"
        if requested == "cpu":
            return Check("gpu", "system", WARN, f"{detail}, but F5UI_DEVICE=cpu: generation runs on the CPU.",
                         "Unset F5UI_DEVICE (or set it to cuda) to generate on the GPU.")
        if free < LOW_VRAM_BYTES:
            return Check("gpu", "system", WARN, f"{detail}: under {gib(LOW_VRAM_BYTES)} free, the model may not fit.",
                         "Stop other processes on the GPU (nvidia-smi lists them) or use a larger GPU.")
        return Check("gpu", "system", OK, detail)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available() and requested in ("auto", "mps"):
        return Check("gpu", "system", OK, "Apple MPS")
    return Check("gpu", "system", WARN,
                 f"No CUDA GPU: generation runs on the CPU ({torch.get_num_threads()} threads), many times slower "
                 "than on a GPU (with the full model, often slower than real time).",
                 "For speed run on an NVIDIA GPU: install the NVIDIA driver and start the container with "
                 "--gpus all (RunPod: a GPU pod); nvidia-smi must list the GPU.")
