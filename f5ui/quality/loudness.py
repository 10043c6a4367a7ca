"""Loudness (ITU-R BS.1770 / EBU R128 integrated loudness, through pyloudnorm), peaks and clipping,
and long silences; and normalizing a take to a target loudness without clipping it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CLIP_LEVEL = 0.999  # samples at or above this (of full scale) are clipped
LONG_SILENCE = 1.0  # seconds: pauses longer than this are reported
SILENCE_DB = -50.0  # dBFS over 20 ms windows
PEAK_CEILING = 0.98  # normalization never pushes a peak above this


@dataclass
class Loudness:
    lufs: float | None  # integrated loudness; None for audio too short or silent to measure
    peak_dbfs: float
    clipped_samples: int
    long_silences: list[tuple[float, float]] = field(default_factory=list)  # (start, end) seconds

    def to_dict(self) -> dict[str, Any]:
        return {"lufs": None if self.lufs is None else round(self.lufs, 2), "peak_dbfs": round(self.peak_dbfs, 2),
                "clipped_samples": self.clipped_samples,
                "long_silences": [[round(a, 2), round(b, 2)] for a, b in self.long_silences]}


def _silences(samples: np.ndarray, rate: int) -> list[tuple[float, float]]:
    window = max(1, int(0.02 * rate))
    n = len(samples) // window
    if n == 0:
        return []
    rms = np.sqrt(np.mean(samples[: n * window].reshape(n, window) ** 2, axis=1) + 1e-12)
    quiet = 20 * np.log10(rms) < SILENCE_DB
    out, start = [], None
    for i, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) * window / rate >= LONG_SILENCE and start > 0 and i < n:  # inside the take only
                out.append((start * window / rate, i * window / rate))
            start = None
    return out


def measure(samples: np.ndarray, rate: int) -> Loudness:
    import pyloudnorm

    samples = np.asarray(samples, dtype=np.float64)
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    lufs = None
    if len(samples) >= int(0.4 * rate):  # BS.1770 gates over 400 ms blocks
        value = pyloudnorm.Meter(rate).integrated_loudness(samples)
        lufs = float(value) if math.isfinite(value) else None
    return Loudness(lufs, 20 * math.log10(peak) if peak > 0 else -120.0,
                    int(np.count_nonzero(np.abs(samples) >= CLIP_LEVEL)), _silences(samples, rate))


def normalize(samples: np.ndarray, rate: int, target_lufs: float) -> np.ndarray:
    """`samples` at `target_lufs` integrated loudness, turned down as needed so no peak exceeds PEAK_CEILING."""
    import pyloudnorm

    samples = np.asarray(samples, dtype=np.float64)
    current = measure(samples, rate).lufs
    if current is None:
        return samples.astype(np.float32)
    gained = pyloudnorm.normalize.loudness(samples, current, target_lufs)
    peak = float(np.max(np.abs(gained))) or 1.0
    if peak > PEAK_CEILING:
        gained = gained * (PEAK_CEILING / peak)
    return gained.astype(np.float32)
