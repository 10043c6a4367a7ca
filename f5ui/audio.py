"""Audio I/O: read any format (soundfile natively, ffmpeg through pydub for the
rest), reject unusable references with a clear message, write WAV files."""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .errors import InputError

log = logging.getLogger(__name__)

# Peaks below this are treated as silence: about -60 dBFS, well under room noise of a real recording.
SILENCE_PEAK = 1e-3
MIN_REFERENCE_SECONDS = 0.3
SPEECH_RATE = 16000  # what the aligners, recognizers and speaker encoders take


# Headers outside these are not a voice recording; refusing them keeps decoding costs predictable.
MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 32
BLOCK_SAMPLES = 1 << 22  # samples (frames × channels) decoded at a time: 16 MB of float32
UNKNOWN_FRAMES = 1 << 62
FFMPEG_MARGIN = 0.5  # seconds decoded past a limit, to tell "exactly at the limit" from "longer"


@dataclass
class Audio:
    samples: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int
    truncated: bool = False  # the file goes on past the `max_seconds` it was read with

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate)


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says, read without decoding it. The duration can be wrong (a header can
    lie), so decoding is bounded independently of it."""

    duration: float | None  # seconds; None when the container does not say
    sample_rate: int
    channels: int


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def check_file(path: Path) -> None:
    """A regular, non-empty file (devices, FIFOs and folders are refused as missing)."""
    if not path.is_file():
        raise InputError(f"The audio file {path.name!r} does not exist.", "Upload the file again.")
    if path.stat().st_size == 0:
        raise InputError(f"The audio file {path.name!r} is empty (0 bytes).",
                         "Upload a WAV, MP3, FLAC or OGG recording.")


def _check_format(name: str, sample_rate: int, channels: int) -> None:
    if not (0 < sample_rate <= MAX_SAMPLE_RATE) or not (0 < channels <= MAX_CHANNELS):
        raise InputError(f"{name!r} has an unusual format ({sample_rate} Hz, {channels} channels).",
                         f"Upload a normal recording: at most {MAX_SAMPLE_RATE // 1000} kHz and {MAX_CHANNELS} "
                         "channels.")


def _undecodable(name: str) -> InputError:
    return InputError(f"{name!r} is not an audio file that can be decoded (corrupt or unsupported format).",
                      "Upload a WAV, MP3, FLAC, OGG or M4A recording of the voice.")


def _no_ffmpeg(name: str, sf_error: Exception) -> InputError:
    return InputError(f"Could not read {name!r} as WAV/FLAC/OGG ({sf_error}); other formats need ffmpeg, "
                      "which is not installed.", "Convert the file to WAV, or install ffmpeg (apt-get install ffmpeg).")


def probe_audio(path: str | Path) -> AudioInfo:
    """The header of an audio file (libsndfile, else ffprobe through pydub), without decoding it."""
    path = Path(path)
    check_file(path)
    try:
        info = sf.info(str(path))
        # A stream written without seeking back (e.g. FLAC to a pipe) has an unknown length: libsndfile
        # reports frames as 0 or SF_COUNT_MAX.
        known = 0 < info.frames < UNKNOWN_FRAMES and info.samplerate > 0
        duration = info.frames / info.samplerate if known else None
        return AudioInfo(duration, int(info.samplerate), int(info.channels))
    except Exception as sf_error:  # not a libsndfile format: ask ffprobe
        if not ffmpeg_available():
            raise _no_ffmpeg(path.name, sf_error) from None
    from pydub.utils import mediainfo_json

    try:
        streams = [s for s in mediainfo_json(str(path)).get("streams", []) if s.get("codec_type") == "audio"]
        stream = streams[0]
        duration = float(stream.get("duration") or 0.0) or None
        return AudioInfo(duration, int(stream.get("sample_rate") or 0), int(stream.get("channels") or 0))
    except Exception:
        raise _undecodable(path.name) from None


def _read_with_soundfile(path: Path, max_seconds: float | None) -> Audio:
    """Block by block, mixed down to mono as it goes: memory is the mono output, never the whole file."""
    with sf.SoundFile(str(path)) as handle:
        sample_rate, channels = int(handle.samplerate), int(handle.channels)
        _check_format(path.name, sample_rate, channels)
        limit = None if max_seconds is None else int(max_seconds * sample_rate)
        block = max(1024, BLOCK_SAMPLES // channels)
        parts: list[np.ndarray] = []
        total = 0
        while limit is None or total <= limit:
            wanted = block if limit is None else min(block, limit + 1 - total)
            data = handle.read(wanted, dtype="float32", always_2d=True)
            if len(data) == 0:
                break
            parts.append(data.mean(axis=1))
            total += len(data)
    samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    truncated = limit is not None and len(samples) > limit
    return Audio(samples[:limit] if truncated else samples, sample_rate, truncated)


def _read_with_pydub(path: Path, max_seconds: float | None) -> Audio:
    """ffmpeg decodes at most `max_seconds` (pydub passes it as -t), whatever the file's length."""
    from pydub import AudioSegment  # imported here: pydub warns at import when ffmpeg is missing

    duration = None if max_seconds is None else max_seconds + FFMPEG_MARGIN
    segment = AudioSegment.from_file(str(path), duration=duration)
    _check_format(path.name, int(segment.frame_rate), int(segment.channels))
    samples = np.array(segment.get_array_of_samples(), dtype=np.float32)
    if segment.channels > 1:
        samples = samples.reshape(-1, segment.channels).mean(axis=1)
    samples /= float(1 << (8 * segment.sample_width - 1))
    limit = None if max_seconds is None else int(max_seconds * segment.frame_rate)
    truncated = limit is not None and len(samples) > limit
    return Audio(samples[:limit] if truncated else samples, int(segment.frame_rate), truncated)


def read_audio(path: str | Path, max_seconds: float | None = None) -> Audio:
    """Decode an audio file to mono float32, at most its first `max_seconds` (then `truncated` says
    there was more); raise InputError when it is not audio."""
    path = Path(path)
    check_file(path)
    try:
        return _read_with_soundfile(path, max_seconds)
    except InputError:
        raise
    except Exception as sf_error:  # soundfile reads WAV/FLAC/OGG; anything else goes to ffmpeg
        if not ffmpeg_available():
            raise _no_ffmpeg(path.name, sf_error) from None
        try:
            return _read_with_pydub(path, max_seconds)
        except InputError:
            raise
        except Exception as ff_error:
            log.info("ffmpeg could not decode %s: %s", path, str(ff_error).splitlines()[-1:] or ff_error)
            raise _undecodable(path.name) from None


def check_reference(audio: Audio, name: str = "reference") -> None:
    """A reference must be long enough and contain sound."""
    if audio.duration < MIN_REFERENCE_SECONDS:
        raise InputError(
            f"The {name} audio is {audio.duration:.2f} s long; at least {MIN_REFERENCE_SECONDS} s is needed.",
            "Upload 3–12 seconds of clear speech.",
        )
    if not np.isfinite(audio.samples).all():
        bad = int(np.count_nonzero(~np.isfinite(audio.samples)))
        raise InputError(f"The {name} audio contains {bad} invalid samples (NaN or infinity): the file is damaged.",
                         "Export the recording again (as 16-bit WAV, for example) and upload that.")
    if float(np.abs(audio.samples).max()) < SILENCE_PEAK:
        raise InputError(
            f"The {name} audio is silent (no sound above -60 dBFS).",
            "Upload or record 3–12 seconds of clear speech; check the microphone level.",
        )


def resample(samples: np.ndarray, sample_rate: int, target: int = SPEECH_RATE) -> np.ndarray:
    """Mono float32 at `target` Hz (polyphase: exact ratio, no drift of times)."""
    samples = np.asarray(samples, dtype=np.float32)
    if sample_rate == target:
        return samples
    from scipy.signal import resample_poly

    g = math.gcd(int(sample_rate), int(target))
    return resample_poly(samples, target // g, int(sample_rate) // g).astype(np.float32)


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
    """Written under a temporary name, then renamed: a kill mid-write leaves no half file under `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        sf.write(str(partial), np.asarray(samples, dtype=np.float32), sample_rate, subtype="PCM_16", format="WAV")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
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
