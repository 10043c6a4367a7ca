"""Audio I/O: read any format (soundfile natively, ffmpeg through pydub for the
rest), reject unusable references with a clear message, write WAV files."""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .errors import InputError

log = logging.getLogger(__name__)

# Peaks below this are treated as silence: about -60 dBFS, well under room noise of a real recording.
SILENCE_PEAK = 1e-3
MIN_REFERENCE_SECONDS = 0.3


@dataclass
class Audio:
    samples: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate)


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def _read_with_soundfile(path: Path) -> Audio:
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return Audio(data.mean(axis=1), int(sr))


def _read_with_pydub(path: Path) -> Audio:
    from pydub import AudioSegment  # imported here: pydub warns at import when ffmpeg is missing

    segment = AudioSegment.from_file(str(path))
    samples = np.array(segment.get_array_of_samples(), dtype=np.float32)
    if segment.channels > 1:
        samples = samples.reshape(-1, segment.channels).mean(axis=1)
    scale = float(1 << (8 * segment.sample_width - 1))
    return Audio(samples / scale, int(segment.frame_rate))


def read_audio(path: str | Path) -> Audio:
    """Decode an audio file to mono float32; raise InputError when it is not audio."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"The audio file {path.name!r} does not exist.", "Upload the file again.")
    if path.stat().st_size == 0:
        raise InputError(f"The audio file {path.name!r} is empty (0 bytes).", "Upload a WAV, MP3, FLAC or OGG recording.")
    try:
        return _read_with_soundfile(path)
    except Exception as sf_error:  # soundfile reads WAV/FLAC/OGG; anything else goes to ffmpeg
        if not ffmpeg_available():
            raise InputError(
                f"Could not read {path.name!r} as WAV/FLAC/OGG ({sf_error}); other formats need ffmpeg, "
                "which is not installed.",
                "Convert the file to WAV, or install ffmpeg (apt-get install ffmpeg).",
            ) from None
        try:
            return _read_with_pydub(path)
        except Exception as ff_error:
            log.info("ffmpeg could not decode %s: %s", path, str(ff_error).splitlines()[-1:] or ff_error)
            raise InputError(
                f"{path.name!r} is not an audio file that can be decoded (corrupt or unsupported format).",
                "Upload a WAV, MP3, FLAC, OGG or M4A recording of the voice.",
            ) from None


def check_reference(audio: Audio, name: str = "reference") -> None:
    """A reference must be long enough and contain sound."""
    if audio.duration < MIN_REFERENCE_SECONDS:
        raise InputError(
            f"The {name} audio is {audio.duration:.2f} s long; at least {MIN_REFERENCE_SECONDS} s is needed.",
            "Upload 3–12 seconds of clear speech.",
        )
    if not np.isfinite(audio.samples).all() or float(np.abs(audio.samples).max()) < SILENCE_PEAK:
        raise InputError(
            f"The {name} audio is silent (no sound above -60 dBFS).",
            "Upload or record 3–12 seconds of clear speech; check the microphone level.",
        )


def content_hash(path: str | Path, *extra: str) -> str:
    """sha256 of the file's bytes plus extra strings (e.g. the reference text)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    for item in extra:
        digest.update(b"\0" + item.encode("utf-8"))
    return digest.hexdigest()


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(samples, dtype=np.float32), sample_rate, subtype="PCM_16")
    return path


def save_spectrogram_image(mel: np.ndarray, path: str | Path) -> Path:
    """A log-mel spectrogram (mels × frames) as a PNG, low frequencies at the bottom.
    Colour through the colormap's lookup table and a fast PNG level: a plotted figure costs ~100 ms
    and an RGB PNG ~25 ms per generation, for no visible difference."""
    from matplotlib import colormaps
    from PIL import Image

    path = Path(path)
    mel = np.asarray(mel, dtype=np.float32)[::-1]  # row 0 is the top of the picture
    low, high = np.percentile(mel, [1, 99.5]) if mel.size else (0.0, 1.0)
    index = np.clip((mel - low) / max(high - low, 1e-6) * 255, 0, 255).astype(np.uint8)
    image = Image.fromarray(index, "L").convert("P")  # palette PNG: one byte a pixel, ~2 ms to write
    image.putpalette((colormaps["magma"](np.arange(256))[:, :3] * 255).astype(np.uint8).tobytes())
    image.save(path, compress_level=1)
    return path
