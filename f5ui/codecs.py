"""Audio file formats for downloads, exports and the OpenAI-compatible endpoint: WAV and FLAC
through soundfile, MP3, Ogg Opus and AAC through pydub (ffmpeg), raw PCM as OpenAI sends it
(16-bit little-endian mono at the model's 24 kHz)."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from .audio import ffmpeg_available
from .errors import InputError


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    content_type: str
    needs_ffmpeg: bool


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("wav", ".wav", "audio/wav", False),
    Format("flac", ".flac", "audio/flac", False),
    Format("mp3", ".mp3", "audio/mpeg", True),
    Format("opus", ".opus", "audio/ogg", True),  # Ogg Opus, the file OpenAI answers for "opus"
    Format("aac", ".aac", "audio/aac", True),  # ADTS stream
    Format("pcm", ".pcm", "audio/pcm", False),
)}
# What pydub (ffmpeg) is asked for each compressed format: container, codec, bitrate.
_FFMPEG = {"mp3": ("mp3", "libmp3lame", "128k"), "opus": ("ogg", "libopus", "64k"), "aac": ("adts", "aac", "128k")}


def format_for(name: str) -> Format:
    known = FORMATS.get((name or "").strip().lower())
    if known is None:
        raise InputError(f"Unknown audio format {name!r}.", f"Use one of: {', '.join(FORMATS)}.")
    if known.needs_ffmpeg and not ffmpeg_available():
        raise InputError(f"{known.name} needs ffmpeg, which is not installed on the server.",
                         "Ask for wav or flac, or install ffmpeg (apt-get install ffmpeg).")
    return known


def encode(samples: np.ndarray, sample_rate: int, name: str) -> bytes:
    """Mono float samples in [-1, 1] as a file of format `name`."""
    fmt = format_for(name)
    if fmt.name == "pcm":
        return pcm16(samples)
    if fmt.name in ("wav", "flac"):
        buffer = io.BytesIO()
        sf.write(buffer, np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0), sample_rate,
                 format=fmt.name.upper(), subtype="PCM_16")
        return buffer.getvalue()
    from pydub import AudioSegment

    segment = AudioSegment(data=pcm16(samples), sample_width=2, frame_rate=sample_rate, channels=1)
    container, codec, bitrate = _FFMPEG[fmt.name]
    buffer = io.BytesIO()
    segment.export(buffer, format=container, codec=codec, bitrate=bitrate)
    return buffer.getvalue()


def encode_stream(pieces: Iterator[np.ndarray], sample_rate: int, name: str) -> Iterator[bytes]:
    """Audio encoded as it arrives, for chunked HTTP answers: the bytes joined are one playable file.
    PCM and WAV are written directly (a WAV with the streaming convention of unknown length);
    MP3, Opus, AAC and FLAC go through one ffmpeg process for the whole stream, which writes each
    packet as soon as it is encoded: no gaps or encoder padding between pieces, as there would be
    encoding every piece as its own file. An error raised by `pieces` is raised here, after the
    bytes before it."""
    fmt = format_for(name)
    if fmt.name not in _FFMPEG and fmt.name != "flac":
        if fmt.name == "wav":
            yield _streaming_wav_header(sample_rate)
        for samples in pieces:
            yield pcm16(samples)
        return
    container, codec, bitrate = _FFMPEG.get(fmt.name, ("flac", "flac", ""))
    # Probing the input held back every byte until about 2 s of audio had come in; Ogg would hold
    # its pages for a second. Both are turned down so each piece is heard as soon as it is encoded.
    mux = ["-page_duration", "100000"] if container == "ogg" else []
    command = [shutil.which("ffmpeg") or "ffmpeg", "-hide_banner", "-loglevel", "error", "-probesize", "32",
               "-analyzeduration", "0", "-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
               "-c:a", codec, *(["-b:a", bitrate] if bitrate else []), "-flush_packets", "1", *mux,
               "-f", container, "pipe:1"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    failure: list[BaseException] = []

    def feed() -> None:
        try:
            for samples in pieces:
                process.stdin.write(pcm16(samples))
                process.stdin.flush()
        except BaseException as exc:  # handed to the reader's side
            failure.append(exc)
        finally:
            try:
                process.stdin.close()
            except OSError:
                pass

    feeder = threading.Thread(target=feed, name="stream-encoder", daemon=True)
    feeder.start()
    try:
        while chunk := process.stdout.read1(65536):
            yield chunk
        process.wait(timeout=60)
        feeder.join(timeout=60)
    finally:
        if process.poll() is None:  # the consumer left early
            process.kill()
            process.wait()
        process.stdout.close()
    if failure:
        raise failure[0]


def int16(samples: np.ndarray) -> np.ndarray:
    """Float samples (clipped to [-1, 1]) as 16-bit little-endian integers."""
    return (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2")


def pcm16(samples: np.ndarray) -> bytes:
    """Raw 16-bit PCM: what pocketsphinx, Google, the pcm format and ffmpeg's pipe take."""
    return int16(samples).tobytes()


def _streaming_wav_header(sample_rate: int) -> bytes:
    unknown = 0xFFFFFFFF  # length not known up front: players read to the end of the stream
    return (b"RIFF" + struct.pack("<I", unknown) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate,
                                                                            sample_rate * 2, 2, 16)
            + b"data" + struct.pack("<I", unknown))
