"""Hugging Face ZeroGPU: on that hardware GPU work must run inside a `spaces.GPU` function, and the
duration it asks for decides how soon it is scheduled. f5ui asks per chunk, for a duration that
grows with the chunk's text and the NFE steps. Without the `spaces` package this is the function
itself; with it but off ZeroGPU, `spaces.GPU` returns the function unchanged too."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

BASE_SECONDS = 5.0  # model hand-over and vocoder, whatever the text
SECONDS_PER_BYTE = 0.05  # of chunk text at NFE 32 on a shared ZeroGPU slice, with headroom
MAX_SECONDS = 120.0  # what a ZeroGPU call may ask for by default


def chunk_duration(text: str, nfe_step: int) -> int:
    """Seconds to ask ZeroGPU for one chunk."""
    estimate = BASE_SECONDS + SECONDS_PER_BYTE * len(text.encode("utf-8")) * max(nfe_step, 1) / 32
    return int(min(MAX_SECONDS, max(BASE_SECONDS, estimate)))


def gpu_task(duration: Callable[..., int]) -> Callable[[F], F]:
    """`spaces.GPU(duration=duration)` when the `spaces` package is importable, else nothing."""

    def decorate(fn: F) -> F:
        if importlib.util.find_spec("spaces") is None:
            return fn
        try:
            import spaces
        except Exception as exc:  # a broken spaces install must not stop generation off ZeroGPU
            log.warning("spaces is installed but cannot be imported (%s); ZeroGPU scheduling is off", exc)
            return fn
        return spaces.GPU(duration=duration)(fn)

    return decorate
