"""Synthesis: validate a request, then speak it chunk by chunk with f5-tts's inference (the steps of
its `infer_batch_process`, with the reference prepared once per voice: chunk_inference.py), each
chunk with its own seed, joined with the same cross-fade f5-tts applies. Chunk by chunk, so audio
can be streamed while later chunks are still generating (the joined stream equals the final file),
any one chunk can be made again with another seed, and every chunk's seed is reported so a take
can be reproduced."""

from __future__ import annotations

import contextvars
import logging
import random
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..audio import read_audio, save_spectrogram_image, write_wav
from ..errors import InputError
from ..schema import ChunkReport, ChunkTake, GenerationParams, PreparedReference, Progress, SynthesisResult, TakeVerdict
from ..streaming import Cancelled, Sink
from ..text import request_text
from .chunk_inference import infer_chunk
from .chunking import MAX_REF_TEXT_CHARS, check_reference_text, chunk_spans, plan_chunks
from .model_service import ModelService
from .zerogpu import chunk_duration, gpu_task

log = logging.getLogger(__name__)

# name: (low, high, what a person should know)
RANGES = {
    "speed": (0.3, 2.0, "1.0 is the reference's pace"),
    "nfe_step": (4, 64, "32 is the default; fewer steps are faster and rougher"),
    "cfg_strength": (0.0, 10.0, "2.0 is the default"),
    "cross_fade": (0.0, 1.0, "seconds of overlap between chunks; 0.15 is the default"),
}
MAX_SEED = 2**31 - 1
MAX_TAKES = 5


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
    takes = params.max_takes
    if isinstance(takes, bool) or not isinstance(takes, int) or not 0 <= takes <= MAX_TAKES:
        raise InputError(f"max_takes = {params.max_takes} is out of range.",
                         f"Use 1 to {MAX_TAKES} takes per flagged chunk, or 0 for the server's default.")
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


def chunk_seed(seed: int, index: int, attempt: int = 0) -> int:
    """The seed of take `attempt` of chunk `index` of a generation seeded `seed` (the first take of
    chunk 0 uses that seed itself)."""
    return (seed + index * 1_000_003 + attempt * 7_919_009) % (MAX_SEED + 1)


# Judges one take of a chunk: (chunk index, chunk text, wave, sample rate) → its verdict.
Judge = Callable[[int, str, np.ndarray, int], TakeVerdict]


def choose(takes: list[ChunkTake]) -> int:
    """The take to keep: the lowest TakeVerdict.score (missing words, then repeated or garbled ones,
    then the highest similarity); the first take when nothing was checked."""
    scored = [(t.verdict.score, i) for i, t in enumerate(takes) if t.verdict is not None]
    return min(scored)[1] if scored else 0


class CrossFader:
    """Joins chunk waves exactly as f5-tts's `infer_batch_process` does (linear fade over
    `cross_fade` seconds, shortened to what both sides have), but incrementally: `push` returns the
    samples that are final already and keeps back the tail the next chunk will fade into."""

    def __init__(self, cross_fade_samples: int) -> None:
        self.samples = max(0, int(cross_fade_samples))
        self.pending = np.zeros(0, dtype=np.float64)
        self.total = 0

    def push(self, wave: np.ndarray) -> np.ndarray:
        wave = np.asarray(wave)
        if self.total == 0:
            joined = wave
        else:
            overlap = min(self.samples, self.total, len(wave))
            if overlap <= 0:
                joined = np.concatenate([self.pending, wave])
            else:
                fade_out, fade_in = np.linspace(1, 0, overlap), np.linspace(0, 1, overlap)
                faded = self.pending[-overlap:] * fade_out + wave[:overlap] * fade_in
                joined = np.concatenate([self.pending[:-overlap], faded, wave[overlap:]])
            self.total -= overlap
        self.total += len(wave)
        keep = min(self.samples, self.total)
        self.pending = joined[len(joined) - keep:]
        return joined[: len(joined) - keep]

    def finish(self) -> np.ndarray:
        rest, self.pending = self.pending, np.zeros(0, dtype=np.float64)
        return rest


@dataclass
class Plan:
    """What a take will be made of, known before the model runs."""

    reference: PreparedReference
    ref_samples: np.ndarray  # float32 mono
    ref_rate: int
    text: str
    chunks: list[str]
    seed: int
    params: GenerationParams
    ref_key: str  # the reference's cache key, read once per take
    mels: list[np.ndarray] = field(default_factory=list)
    reports: list[ChunkReport] = field(default_factory=list)  # every take tried, per chunk

    @property
    def seeds(self) -> list[int]:
        """The seed of the kept take of every chunk generated so far (the first takes' before that)."""
        kept = [r.kept.seed for r in self.reports]
        return kept + [chunk_seed(self.seed, i) for i in range(len(kept), len(self.chunks))]


def plan(reference: PreparedReference, text: str, params: GenerationParams) -> Plan:
    """Check the reference against its text and split `text` (validated) into chunks that fit."""
    ref = read_audio(reference.audio_path)
    check_reference_text(reference.text, ref.duration)
    chunks = plan_chunks(len(ref.samples), ref.sample_rate, reference.text, text, params.speed)
    seed = params.seed if params.seed is not None else random.randint(0, MAX_SEED)
    return Plan(reference, ref.samples, ref.sample_rate, text, chunks, seed, params, reference.cache_key())


def generate_chunk(loaded, take: Plan, index: int, seed: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """Chunk `index` of the plan as (wave, mel spectrogram): f5-tts's inference on that chunk alone
    (chunk_inference.py: the same steps as infer_batch_process, the reference prepared once per
    voice), seeded with `seed`. The caller holds the model's inference lock."""
    params = take.params
    ref = loaded.references.get(take.ref_key, take.ref_samples,
                                take.ref_rate, take.reference.text, loaded.model, loaded.device)
    seed_everything(seed)
    wave, mel = infer_chunk(loaded, ref, take.chunks[index], params.nfe_step, params.cfg_strength, params.speed)
    if wave is None or len(wave) == 0 or not np.isfinite(wave).all():
        raise RuntimeError(f"F5-TTS returned no usable audio for chunk {index + 1} (empty or non-finite samples)")
    return wave, mel


# ZeroGPU runs the decorated function on a GPU it lends for `duration` seconds: the model service is
# found by key, not passed, so nothing large crosses into the GPU process.
_SERVICES: weakref.WeakValueDictionary[int, ModelService] = weakref.WeakValueDictionary()  # the caller holds it


@gpu_task(duration=lambda key, take, index, seed: chunk_duration(take.chunks[index], take.params.nfe_step))
def _chunk_on_gpu(key: int, take: Plan, index: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    service = _SERVICES[key]
    return generate_chunk(service.get(), take, index, seed)


def stream(service: ModelService, take: Plan, progress: Progress = lambda fraction, desc: None,
           timings: dict[str, float] | None = None, judge: Judge | None = None,
           max_takes: int = 1, stopped: Callable[[], bool] | None = None) -> Iterator[tuple[np.ndarray, int]]:
    """The take's audio as it is generated: (samples, sample rate) pieces that, joined, are the
    final audio. With a `judge`, a chunk whose take it flags is made again with a new seed, up to
    `max_takes` takes, and the best one is kept; a piece is given out only once its chunk is judged.
    The next chunk generates while a chunk is judged (the judge's decoders run in other processes),
    unless `stopped()` says the audio's consumer went away. After the last piece, `take.mels`
    and `take.reports` hold every chunk's kept take and what was tried."""
    from f5_tts.infer.utils_infer import target_sample_rate

    timings = {} if timings is None else timings
    progress(0.05, "Waiting for the model")
    started = time.perf_counter()
    service.get(on_wait=lambda detail: progress(0.05, detail))  # waits for the load
    timings["model_wait"] = time.perf_counter() - started
    fader = CrossFader(int(take.params.cross_fade * target_sample_rate))
    take.mels, take.reports = [], []
    timings["inference"] = timings["check"] = 0.0
    takes, count = max(1, max_takes), len(take.chunks)
    model = ThreadPoolExecutor(1, thread_name_prefix="f5ui-generate")  # one chunk at a time, beside the judge

    def generate(index: int, attempt: int) -> Future:
        done = (index + attempt / takes) / count
        what = f"Generating chunk {index + 1} of {count}" + (f", take {attempt + 1}" if attempt else "")

        def run() -> tuple[np.ndarray, np.ndarray]:
            progress(0.1 + 0.85 * done, what)
            return _generate_timed(service, take, index, chunk_seed(take.seed, index, attempt), timings)

        return model.submit(contextvars.copy_context().run, run)  # Gradio's progress lives in the context

    try:
        upcoming = generate(0, 0)
        for index, text in enumerate(take.chunks):
            tried: list[ChunkTake] = []
            generated: list[tuple[np.ndarray, np.ndarray]] = []
            for attempt in range(takes):
                wave, mel = (upcoming if attempt == 0 else generate(index, attempt)).result()
                generated.append((wave, mel))
                if attempt == 0 and index + 1 < count:
                    if stopped is not None and stopped():
                        raise Cancelled("the take's consumer went away")
                    upcoming = generate(index + 1, 0)  # made while this chunk is judged
                began = time.perf_counter()
                verdict = judge(index, text, wave, target_sample_rate) if judge is not None else None
                timings["check"] += time.perf_counter() - began
                tried.append(ChunkTake(chunk_seed(take.seed, index, attempt), verdict))
                if verdict is None or verdict.ok:
                    break
                log.info("Chunk %d, take %d flagged (missing %s, repeated %s, garbled %s)", index + 1, attempt + 1,
                         verdict.flagged("missing"), verdict.flagged("repeated"), verdict.flagged("garbled"))
            kept = choose(tried)
            take.reports.append(ChunkReport(index, text, tried, kept))
            wave, mel = generated[kept]
            take.mels.append(mel)
            ready = fader.push(wave)
            if len(ready):
                yield ready, target_sample_rate
    finally:  # a chunk still generating finishes before the model slot is given back
        model.shutdown(wait=True, cancel_futures=True)
    rest = fader.finish()
    if len(rest):
        yield rest, target_sample_rate


def _generate_timed(service: ModelService, take: Plan, index: int, seed: int,
                    timings: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    with service.inference_lock:
        began, started = time.time(), time.perf_counter()
        _SERVICES[id(service)] = service
        # Only what the chunk needs crosses into ZeroGPU's worker (its arguments are pickled), not the take so far.
        wave, mel = _chunk_on_gpu(id(service), replace(take, mels=[], reports=[]), index, seed)
        timings["inference"] += time.perf_counter() - started
        ended = time.time()  # inside the lock: the log shows that generations never overlap
    log.info("Chunk %d/%d, seed %d: %.2f s inference (%.3f–%.3f)", index + 1, len(take.chunks), seed, ended - began,
             began, ended)
    return wave, mel


def synthesize(
    service: ModelService,
    reference: PreparedReference,
    text: str,
    params: GenerationParams,
    out_dir: Path,
    progress: Progress = lambda fraction, desc: None,
    on_audio: Callable[[np.ndarray, int], None] | None = None,
    judge: Judge | None = None,
    max_takes: int = 1,
) -> SynthesisResult:
    """Speak `text` (already validated by `validate_request`) in the prepared reference's voice;
    `on_audio` is called with each (samples, rate) piece as soon as it is final; `judge` and
    `max_takes` as for `stream`."""
    take = plan(reference, text, params)
    timings: dict[str, float] = {}
    pieces = []
    stopped = on_audio.stopped if isinstance(on_audio, Sink) else None
    # Closed on the way out, even when `on_audio` raises: the chunk still generating then ends here.
    with closing(stream(service, take, progress, timings, judge, max_takes, stopped)) as pieces_made:
        for piece, rate in pieces_made:
            pieces.append(piece)
            if on_audio is not None:
                on_audio(piece, rate)
    return finish(take, np.concatenate(pieces), out_dir, timings, progress)


def finish(take: Plan, wave: np.ndarray, out_dir: Path, timings: dict[str, float],
           progress: Progress = lambda fraction, desc: None) -> SynthesisResult:
    """Write the joined audio and its spectrogram; the result with every chunk's place and seed."""
    from f5_tts.infer.utils_infer import remove_silence_for_generated_wav, target_sample_rate

    progress(0.96, "Writing audio")
    # Anyone who knows a file's name can fetch it, so the name carries 128 random bits.
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{take.seed}-{uuid.uuid4().hex}"
    audio_path = write_wav(out_dir / f"{stem}.wav", wave, target_sample_rate)
    if take.params.remove_silence:
        remove_silence_for_generated_wav(str(audio_path))
    spectrogram_path = save_spectrogram_image(np.concatenate(take.mels, axis=1), out_dir / f"{stem}.png")

    import soundfile as sf

    duration = sf.info(str(audio_path)).duration
    progress(0.97, "Audio ready")
    log.info("Generated %.2f s of audio in %d chunk(s), seed %d, %.2f s inference", duration, len(take.chunks),
             take.seed, timings.get("inference", 0.0))
    spans = chunk_spans(len(take.ref_samples), take.ref_rate, take.reference.text, take.chunks, take.params.speed,
                        take.params.cross_fade)
    return SynthesisResult(audio_path, target_sample_rate, duration, take.seed, take.reference.text,
                           spectrogram_path, take.text, take.chunks, spans, list(take.reference.notices), timings,
                           chunk_seeds=take.seeds, chunk_reports=take.reports)
