"""Storage checks: the data dir (writable, free space, or the temp dir it fell back to) and the HF cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..config import write_problem
from ..hub import hf_cache_dir, hub_offline
from ..paths import is_inside
from ..schema import OK, WARN, Check
from .context import Context, gib

LOW_DISK_BYTES = 1 << 30  # under 1 GiB free, outputs and caches may soon fail to write


def data_dir(ctx: Context) -> list[Check]:
    data_path = ctx.settings.data_path
    outputs = Path(ctx.output_dir)
    usage = shutil.disk_usage(outputs)
    free = f"{gib(usage.free)} free of {gib(usage.total)}"
    if not is_inside(outputs, data_path):
        # Settings.writable_dir fell back to a temp dir: only a log line says so otherwise.
        why = write_problem(data_path) or "it was not writable at start-up"
        return [Check("data dir", "storage", WARN,
                      f"F5UI_DATA_DIR={data_path} is not writable ({why}); outputs, caches and logs go to the "
                      f"temp dir {outputs.parent}, which is lost on restart ({free}).",
                      "Point F5UI_DATA_DIR at a writable folder (a mounted volume: docker run -v "
                      "f5ui-data:/data, or the RunPod network volume) and restart.")]
    source = f" ({ctx.settings.storage})" if ctx.settings.storage else ""
    if ctx.settings.storage_note:
        note = ctx.settings.storage_note
        return [Check("data dir", "storage", WARN, f"{note}; the data dir is {data_path}{source} ({free}).",
                      "Mount a persistent volume (RunPod: a network volume at /runpod-volume or /workspace; Spaces: "
                      "persistent storage at /data; docker: -v f5ui-data:/data) or set F5UI_DATA_DIR, and restart.")]
    if usage.free < LOW_DISK_BYTES:
        return [Check("data dir", "storage", WARN, f"{data_path}{source}: only {free}.",
                      "Free disk space, or point F5UI_DATA_DIR at a larger volume.")]
    return [Check("data dir", "storage", OK, f"{data_path}{source} writable, {free}")]


def hf_cache(ctx: Context) -> list[Check]:
    cache = hf_cache_dir()
    offline = hub_offline()
    mode = f"{offline}=1: only cached files are used" if offline else "downloads allowed"
    existing = next((p for p in (cache, *cache.parents) if p.exists()), None)
    if existing is None or not os.access(existing, os.W_OK):
        return [Check("hf cache", "storage", WARN, f"HF cache {cache} is not writable ({mode}).",
                      "Set HF_HOME to a writable folder (on the data volume, so downloads survive restarts).")]
    free = gib(shutil.disk_usage(existing).free)
    return [Check("hf cache", "storage", OK, f"HF cache {cache}, {free} free ({mode})")]
