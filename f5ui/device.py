"""Pick the torch device and describe it."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def cuda_or_cpu(requested: str) -> str:
    """The device for libraries that run on CUDA or the CPU only (faster-whisper, resemblyzer, x-vectors)."""
    return "cuda" if resolve_device(requested).startswith("cuda") else "cpu"


def resolve_device(requested: str) -> str:
    """'auto' → cuda, then mps, then cpu. An explicit device that is not there falls back to cpu
    with a warning, so a misconfigured pod still serves."""
    import torch

    requested = (requested or "auto").strip().lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        log.warning("F5UI_DEVICE=%s but CUDA is not available; using cpu", requested)
        return "cpu"
    if requested == "mps" and not torch.backends.mps.is_available():
        log.warning("F5UI_DEVICE=mps but MPS is not available; using cpu")
        return "cpu"
    return requested


def describe_device(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(device)
        half = " (float16)" if props.major >= 7 else ""
        return f"{device}: {props.name}, {props.total_memory / 2**30:.0f} GiB{half}"
    if device == "cpu":
        return f"cpu ({torch.get_num_threads()} threads; generation is slow without a GPU)"
    return device
