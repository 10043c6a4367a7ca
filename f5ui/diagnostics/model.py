"""Model checks: f5-tts, the model config, checkpoint, vocab and vocoder files, and the live
state of the model service."""

from __future__ import annotations

import json
from pathlib import Path

from ..config import DEFAULT_CKPT
from ..engine.model_service import VOCOS_REPO, available_configs
from ..hub import cached_file, hf_cache_dir, hub_offline, split_hf_url
from ..schema import ERROR, FAILED, LOADING, OFF, OK, READY, WARN, Check
from .context import Context, find, version


def model_state(ctx: Context) -> Check:
    """Live: computed at every report."""
    status = ctx.model.status()
    if status.state == READY:
        return Check("model", "model", OK, f"{status.detail} (loaded in {status.load_seconds} s)")
    if status.state == LOADING:
        return Check("model", "model", WARN, status.detail,
                     "Wait: requests sent now wait for the load; this panel refreshes itself.")
    if status.state == FAILED:
        return Check("model", "model", ERROR, status.detail,
                     status.fix or "Check the model settings and the log, then retry the load.")
    return Check("model", "model", OFF, status.detail,
                 "It loads with the first generation; set F5UI_PRELOAD=1 to load it at start.")


def f5tts(ctx: Context) -> list[Check]:
    installed = version("f5-tts")
    if installed is None or not find("f5_tts"):
        return [Check("f5-tts", "model", ERROR, "f5-tts is not installed: generation cannot run.",
                      "pip install f5-tts (or the pinned requirements.txt), then restart.")]
    return [Check("f5-tts", "model", OK, f"f5-tts {installed} installed")]


def model_config(ctx: Context) -> list[Check]:
    settings = ctx.settings
    if not find("f5_tts"):
        return []  # the f5-tts check already says it is missing
    configs = available_configs()  # f5_tts is a namespace package: listing its files imports nothing
    arch = f" with F5UI_MODEL_ARCH={json.dumps(settings.model_arch)}" if settings.model_arch else ""
    if settings.model not in configs:
        return [Check("model config", "model", ERROR, f"F5UI_MODEL={settings.model!r} is not an f5-tts config.",
                      f"Set F5UI_MODEL to one of: {', '.join(configs)}.")]
    return [Check("model config", "model", OK, f"{settings.model}{arch}")]


def checkpoint(ctx: Context) -> list[Check]:
    ckpt = ctx.settings.ckpt
    if ckpt.startswith("hf://"):
        repo, filename = split_hf_url(ckpt)
        cached = cached_file(repo, filename)
        if cached:
            return [Check("checkpoint", "model", OK, f"{ckpt} (cached at {cached})")]
        offline = hub_offline()
        if offline:
            return [Check("checkpoint", "model", ERROR,
                          f"{ckpt} is not in the HF cache ({hf_cache_dir()}) and {offline}=1 forbids downloading it.",
                          "Start once with network access (unset HF_HUB_OFFLINE) to cache it, or set F5UI_CKPT "
                          "to a local .safetensors file.")]
        size = " (about 1.3 GB)" if ckpt == DEFAULT_CKPT else ""
        return [Check("checkpoint", "model", OK, f"{ckpt}: downloaded into the HF cache on first load{size}")]
    if "://" in ckpt:
        return [Check("checkpoint", "model", OK, f"{ckpt}: downloaded by cached_path on first load")]
    path = Path(ckpt).expanduser()
    if not path.is_file():
        return [Check("checkpoint", "model", ERROR, f"F5UI_CKPT={path} does not exist.",
                      "Set F5UI_CKPT to an existing .safetensors/.pt file, or unset it to use the hub's "
                      "F5-TTS v1 Base.")]
    return [Check("checkpoint", "model", OK, f"{path} ({path.stat().st_size / 2**20:.1f} MiB)")]


def vocab(ctx: Context) -> list[Check]:
    if not ctx.settings.vocab:
        return [Check("vocab", "model", OK, "the vocab shipped with f5-tts (Emilia ZH/EN)")]
    path = Path(ctx.settings.vocab).expanduser()
    if not path.is_file():
        return [Check("vocab", "model", ERROR, f"F5UI_VOCAB={path} does not exist.",
                      "Set F5UI_VOCAB to the vocab.txt of the checkpoint, or unset it for the shipped vocab.")]
    return [Check("vocab", "model", OK, str(path))]


def vocoder(ctx: Context) -> list[Check]:
    if not ctx.settings.vocoder:
        if cached_file(VOCOS_REPO, "pytorch_model.bin"):
            return [Check("vocoder", "model", OK, f"vocos {VOCOS_REPO} (cached)")]
        offline = hub_offline()
        if offline:
            return [Check("vocoder", "model", ERROR,
                          f"vocos {VOCOS_REPO} is not in the HF cache and {offline}=1 forbids downloading it.",
                          "Start once with network access to cache it, or set F5UI_VOCODER to a local vocos "
                          "folder (config.yaml + pytorch_model.bin).")]
        return [Check("vocoder", "model", OK, f"vocos {VOCOS_REPO}: downloaded into the HF cache on first load")]
    folder = Path(ctx.settings.vocoder).expanduser()
    missing = [name for name in ("config.yaml", "pytorch_model.bin") if not (folder / name).is_file()]
    if missing:
        return [Check("vocoder", "model", ERROR, f"F5UI_VOCODER={folder} lacks {', '.join(missing)}.",
                      "Point F5UI_VOCODER at a vocos folder with config.yaml and pytorch_model.bin, or unset it "
                      f"to download {VOCOS_REPO}.")]
    return [Check("vocoder", "model", OK, f"vocos from {folder}")]
