"""Synthesis: validate a request, then run f5-tts's own chunked inference
(`chunk_text` + `infer_batch_process`, exactly what `infer_process` does) with the
service's model, a seed, and progress per chunk."""

from __future__ import annotations

import logging
import random
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..audio import read_audio, save_spectrogram_image, write_wav
from ..errors import InputError
from ..schema import GenerationParams, SynthesisResult
from .model_service import ModelService
from .reference import ReferenceCache

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

# name: (low, high, what a person should know)
RANGES = {
    "speed": (0.3, 2.0, "1.0 is the reference's pace"),
    "nfe_step": (4, 64, "32 is the default; fewer steps are faster and rougher"),
    "cfg_strength": (0.0, 10.0, "2.0 is the default"),
    "cross_fade": (0.0, 1.0, "seconds of overlap between chunks; 0.15 is the default"),
}
MAX_SEED = 2**31 - 1


def validate_request(gen_text: str, params: GenerationParams, max_chars: int) -> str:
    """Raise InputError for anything out of range; return the cleaned text."""
    text = (gen_text or "").strip()
    if not text:
        raise InputError("The text to generate is empty.", "Type what the cloned voice should say.")
    if len(text) > max_chars:
        raise InputError(
            f"The text is {len(text)} characters long; the maximum is {max_chars}.",
            "Split it into several generations, or raise F5UI_MAX_CHARS.",
        )
    for name, (low, high, hint) in RANGES.items():
        value = getattr(params, name)
        if value is None or not (low <= value <= high):
            raise InputError(f"{name} = {value} is out of range.", f"Use a value from {low} to {high} ({hint}).")
    if params.seed is not None and not (0 <= params.seed <= MAX_SEED):
        raise InputError(f"seed = {params.seed} is out of range.", f"Use 0 to {MAX_SEED}, or -1 for a random seed.")
    return text


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


class _ChunkProgress:
    """The object f5-tts's `infer_batch_process` expects (`progress.tqdm(iterable)`)."""

    def __init__(self, report: Progress, start: float = 0.1, end: float = 0.95) -> None:
        self.report, self.start, self.end = report, start, end

    def tqdm(self, iterable: Iterable) -> Iterator:
        items = list(iterable)
        for index, item in enumerate(items):
            self.report(self.start + (self.end - self.start) * index / len(items),
                        f"Generating chunk {index + 1} of {len(items)}")
            yield item


def plan_chunks(ref_audio_samples: int, ref_sample_rate: int, ref_text: str, gen_text: str, speed: float) -> list[str]:
    """Split the text the way `infer_process` does: chunk size scales with the reference's speaking rate."""
    from f5_tts.infer.utils_infer import chunk_text

    ref_seconds = ref_audio_samples / ref_sample_rate
    max_chars = int(len(ref_text.encode("utf-8")) / ref_seconds * (22 - ref_seconds) * speed)
    return chunk_text(gen_text, max_chars=max_chars)


def chunk_spans(ref_samples: int, ref_sample_rate: int, ref_text: str, chunks: list[str], speed: float,
                cross_fade: float) -> list[tuple[str, float, float]]:
    """Where each chunk lies in the output: the frame counts `infer_batch_process` gives each chunk
    (its duration rule, including the slow-down of very short chunks), joined with its cross-fade."""
    from f5_tts.infer.utils_infer import hop_length, target_sample_rate

    if len(ref_text[-1].encode("utf-8")) == 1:
        ref_text = ref_text + " "  # as infer_batch_process pads it
    ref_frames = int(round(ref_samples * target_sample_rate / ref_sample_rate)) // hop_length
    spans, cursor = [], 0
    for chunk in chunks:
        local_speed = 0.3 if len(chunk.encode("utf-8")) < 10 else speed
        frames = int(ref_frames / len(ref_text.encode("utf-8")) * len(chunk.encode("utf-8")) / local_speed)
        length = frames * hop_length
        if spans:
            overlap = min(int(cross_fade * target_sample_rate), length, spans[-1][2] - spans[-1][1])
            cursor -= max(overlap, 0)
        spans.append((chunk, cursor, cursor + length))
        cursor += length
    return [(text, start / target_sample_rate, end / target_sample_rate) for text, start, end in spans]


def synthesize(
    service: ModelService,
    references: ReferenceCache,
    ref_audio: str | Path,
    ref_text: str,
    gen_text: str,
    params: GenerationParams,
    out_dir: Path,
    progress: Progress = lambda fraction, desc: None,
) -> SynthesisResult:
    text = validate_request(gen_text, params, service.settings.max_chars)
    if not ref_audio:
        raise InputError("No reference audio was given.", "Upload or record 3–12 seconds of the voice to clone.")
    timings: dict[str, float] = {}

    progress(0.0, "Preparing the reference voice")
    reference = references.prepare(ref_audio, ref_text)
    timings["reference"] = references.last_preprocess_seconds

    progress(0.05, "Waiting for the model")
    started = time.perf_counter()
    loaded = service.get(on_wait=lambda detail: progress(0.05, detail))
    timings["model_wait"] = time.perf_counter() - started

    import torch
    from f5_tts.infer.utils_infer import infer_batch_process, remove_silence_for_generated_wav

    seed = params.seed if params.seed is not None else random.randint(0, MAX_SEED)
    ref = read_audio(reference.audio_path)
    ref_wave, ref_sr = torch.from_numpy(ref.samples).unsqueeze(0), ref.sample_rate
    chunks = plan_chunks(ref_wave.shape[-1], ref_sr, reference.text, text, params.speed)
    started = time.perf_counter()
    with service.inference_lock:
        seed_everything(seed)
        wave, sample_rate, spectrogram = next(
            infer_batch_process(
                (ref_wave, ref_sr), reference.text, chunks, loaded.model, loaded.vocoder,
                mel_spec_type="vocos", progress=_ChunkProgress(progress),
                cross_fade_duration=params.cross_fade, nfe_step=params.nfe_step,
                cfg_strength=params.cfg_strength, speed=params.speed, device=loaded.device,
            )
        )
    timings["inference"] = time.perf_counter() - started
    if wave is None or not np.isfinite(wave).all() or len(wave) == 0:
        raise RuntimeError("F5-TTS returned no usable audio (empty or non-finite samples)")

    progress(0.96, "Writing audio")
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{seed}-{uuid.uuid4().hex[:6]}"
    audio_path = write_wav(out_dir / f"{stem}.wav", wave, sample_rate)
    if params.remove_silence:
        remove_silence_for_generated_wav(str(audio_path))
    spectrogram_path = save_spectrogram_image(spectrogram, out_dir / f"{stem}.png")

    import soundfile as sf

    duration = sf.info(str(audio_path)).duration
    progress(0.97, "Audio ready")
    log.info("Generated %.2f s of audio in %d chunk(s), seed %d, %.2f s inference", duration, len(chunks), seed,
             timings["inference"])
    spans = chunk_spans(len(ref.samples), ref.sample_rate, reference.text, chunks, params.speed, params.cross_fade)
    return SynthesisResult(audio_path, sample_rate, duration, seed, reference.text, spectrogram_path, text, chunks,
                           spans, list(reference.notices), timings)
