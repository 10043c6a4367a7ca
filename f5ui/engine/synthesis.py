"""Synthesis: validate a request, then run f5-tts's own chunked inference
(`chunk_text` + `infer_batch_process`, exactly what `infer_process` does) with the
service's model, a seed, and progress per chunk."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ..audio import read_audio, save_spectrogram_image, write_wav
from ..errors import InputError
from ..schema import GenerationParams, PreparedReference, Progress, SynthesisResult
from ..text import request_text
from .chunking import MAX_REF_TEXT_CHARS, check_reference_text, chunk_spans, plan_chunks
from .model_service import ModelService

log = logging.getLogger(__name__)

# name: (low, high, what a person should know)
RANGES = {
    "speed": (0.3, 2.0, "1.0 is the reference's pace"),
    "nfe_step": (4, 64, "32 is the default; fewer steps are faster and rougher"),
    "cfg_strength": (0.0, 10.0, "2.0 is the default"),
    "cross_fade": (0.0, 1.0, "seconds of overlap between chunks; 0.15 is the default"),
}
MAX_SEED = 2**31 - 1


def validate_request(gen_text: str, params: GenerationParams, max_chars: int, ref_text: str = "") -> str:
    """Raise InputError for anything out of range; return the cleaned text to speak."""
    text = request_text(gen_text, "The text to generate").strip()
    if not text:
        raise InputError("The text to generate is empty.", "Type what the cloned voice should say.")
    if len(text) > max_chars:
        raise InputError(
            f"The text is {len(text)} characters long; the maximum is {max_chars}.",
            "Split it into several generations, or raise F5UI_MAX_CHARS.",
        )
    if len(ref_text) > MAX_REF_TEXT_CHARS:
        raise InputError(f"The reference text is {len(ref_text)} characters long; the maximum is {MAX_REF_TEXT_CHARS}.",
                         "Type only the words spoken in the reference clip (3–12 s of speech).")
    for name, (low, high, hint) in RANGES.items():
        value = getattr(params, name)
        # NaN compares false with everything, so "not inside" catches it too.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high):
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


def synthesize(
    service: ModelService,
    reference: PreparedReference,
    text: str,
    params: GenerationParams,
    out_dir: Path,
    progress: Progress = lambda fraction, desc: None,
) -> SynthesisResult:
    """Speak `text` (already validated by `validate_request`) in the prepared reference's voice."""
    timings: dict[str, float] = {}
    ref = read_audio(reference.audio_path)
    check_reference_text(reference.text, ref.duration)
    chunks = plan_chunks(len(ref.samples), ref.sample_rate, reference.text, text, params.speed)

    progress(0.05, "Waiting for the model")
    started = time.perf_counter()
    loaded = service.get(on_wait=lambda detail: progress(0.05, detail))
    timings["model_wait"] = time.perf_counter() - started

    import torch
    from f5_tts.infer.utils_infer import infer_batch_process, remove_silence_for_generated_wav

    seed = params.seed if params.seed is not None else random.randint(0, MAX_SEED)
    ref_wave, ref_sr = torch.from_numpy(ref.samples).unsqueeze(0), ref.sample_rate
    started = time.perf_counter()
    with service.inference_lock:
        began = time.time()
        seed_everything(seed)
        wave, sample_rate, spectrogram = next(
            infer_batch_process(
                (ref_wave, ref_sr), reference.text, chunks, loaded.model, loaded.vocoder,
                mel_spec_type="vocos", progress=_ChunkProgress(progress),
                cross_fade_duration=params.cross_fade, nfe_step=params.nfe_step,
                cfg_strength=params.cfg_strength, speed=params.speed, device=loaded.device,
            )
        )
        ended = time.time()  # inside the lock: the log shows that generations never overlap
    timings["inference"] = time.perf_counter() - started
    if wave is None or not np.isfinite(wave).all() or len(wave) == 0:
        raise RuntimeError("F5-TTS returned no usable audio (empty or non-finite samples)")

    progress(0.96, "Writing audio")
    # Anyone who knows a file's name can fetch it, so the name carries 128 random bits.
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{seed}-{uuid.uuid4().hex}"
    audio_path = write_wav(out_dir / f"{stem}.wav", wave, sample_rate)
    if params.remove_silence:
        remove_silence_for_generated_wav(str(audio_path))
    spectrogram_path = save_spectrogram_image(spectrogram, out_dir / f"{stem}.png")

    import soundfile as sf

    duration = sf.info(str(audio_path)).duration
    progress(0.97, "Audio ready")
    log.info("Generated %.2f s of audio in %d chunk(s), seed %d, %.2f s inference (%.3f–%.3f)", duration,
             len(chunks), seed, timings["inference"], began, ended)
    spans = chunk_spans(len(ref.samples), ref.sample_rate, reference.text, chunks, params.speed, params.cross_fade)
    return SynthesisResult(audio_path, sample_rate, duration, seed, reference.text, spectrogram_path, text, chunks,
                           spans, list(reference.notices), timings)
