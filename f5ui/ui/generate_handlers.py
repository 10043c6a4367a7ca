"""The Generate tab's handlers: Gradio values in, one Studio call, Gradio values out.

Three events share them: `/generate` (one answer, the contract gradio_client programs rely on),
`/generate_stream` (for programs: each piece of audio as a WAV file while the take is made, then
the whole take) and the button in the browser (private: the pieces play in a streaming player while
later chunks are generated; the file, word timings and downloads arrive at the end)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from ..audio import write_wav
from ..codecs import int16
from ..schema import GenerationParams, SynthesisResult
from ..service import Studio
from ..streaming import Piece
from .actions import AUTO, aligner_choice, caller_of, gone_check, shown_as
from .timing_view import subtitle_file_list
from .voices import NONE

DEFAULTS = GenerationParams()


def _or(value, default):  # noqa: ANN001, ANN202
    """An input a caller left off (null) takes its default."""
    return default if value is None else value


def _request(ref_audio, ref_text, gen_text, speed, nfe_step, cfg_strength, cross_fade, seed, randomize_seed,  # noqa: ANN001, ANN202
             remove_silence, word_timings=True, aligner=AUTO, voice=NONE, max_takes=0, normalize_loudness=False,
             progress=None, request=None, gone=None):
    # Null randomize_seed means "not asked": a given seed is used, a null one is random.
    random_seed = bool(randomize_seed) or seed is None or seed < 0
    params = GenerationParams(speed=_or(speed, DEFAULTS.speed), nfe_step=int(_or(nfe_step, DEFAULTS.nfe_step)),
                              cfg_strength=_or(cfg_strength, DEFAULTS.cfg_strength),
                              cross_fade=_or(cross_fade, DEFAULTS.cross_fade),
                              seed=None if random_seed else int(seed), remove_silence=bool(remove_silence),
                              max_takes=int(max_takes or 0), normalize_loudness=bool(normalize_loudness))
    options = {"word_timings": bool(_or(word_timings, True)), "aligner": aligner_choice(aligner),
               "voice": voice or None, "caller": caller_of(request), "gone": gone}
    if progress is not None:
        options["progress"] = lambda fraction, desc: progress(fraction, desc=desc)
    return (ref_audio, ref_text or "", gen_text or "", params), options


def final_outputs(result: SynthesisResult) -> tuple:
    """(audio, seed, reference text used, spectrogram, timings, subtitle files, quality report)."""
    for notice in result.notices:
        gr.Warning(notice)
    timing = result.timing
    return (str(result.audio_path), result.seed, result.ref_text.strip(), str(result.spectrogram_path),
            timing.alignment.to_dict() if timing else None, subtitle_file_list(timing.files if timing else None),
            result.quality.to_dict() if result.quality else None)


def make_generate_handler(studio: Studio):
    def generate(ref_audio, ref_text, gen_text, speed, nfe_step, cfg_strength, cross_fade, seed, randomize_seed,
                 remove_silence, word_timings=True, aligner=AUTO, voice=NONE, max_takes=0, normalize_loudness=False,
                 progress=gr.Progress(), request: gr.Request = None):
        args, options = _request(ref_audio, ref_text, gen_text, speed, nfe_step, cfg_strength, cross_fade, seed,
                                 randomize_seed, remove_silence, word_timings, aligner, voice, max_takes,
                                 normalize_loudness, progress=progress, request=request,
                                 gone=gone_check(studio, request))
        with shown_as("generate"):
            result = studio.generate(*args, **options)
        return final_outputs(result)

    return generate


def make_live_handler(studio: Studio):
    """The browser's Generate button: (live piece, *final outputs) per step."""

    def generate_live(ref_audio, ref_text, gen_text, speed, nfe_step, cfg_strength, cross_fade, seed, randomize_seed,
                      remove_silence, word_timings=True, aligner=AUTO, voice=NONE, max_takes=0,
                      normalize_loudness=False, progress=gr.Progress(),
                      request: gr.Request = None) -> Iterator[tuple]:
        args, options = _request(ref_audio, ref_text, gen_text, speed, nfe_step, cfg_strength, cross_fade, seed,
                                 randomize_seed, remove_silence, word_timings, aligner, voice, max_takes,
                                 normalize_loudness, progress=progress, request=request,
                                 gone=gone_check(studio, request))
        skip = tuple(gr.skip() for _ in range(7))
        # Clear the player first: otherwise a stream still playing from the last take keeps it, and the
        # new take's pieces are never heard (measured in Chromium with Gradio 6.17).
        yield (gr.update(value=None), *skip)
        with shown_as("generate"):
            for item in studio.generate_stream(*args, **options):
                if isinstance(item, Piece):
                    # int16, not float: Gradio scales float pieces to their own peak (each as loud as the loudest)
                    yield ((item.sample_rate, int16(item.samples)), *skip)
                else:
                    yield (gr.skip(), *final_outputs(item.result))

    return generate_live


def make_stream_handler(studio: Studio):
    """/generate_stream: (piece WAV, info) per piece, then (the whole take, its info with done: true)."""

    def generate_stream(ref_audio, ref_text, gen_text, speed, nfe_step, cfg_strength, cross_fade, seed,
                        randomize_seed, remove_silence, word_timings=True, aligner=AUTO, voice=NONE, max_takes=0,
                        normalize_loudness=False, request: gr.Request = None) -> Iterator[tuple[str, dict]]:
        args, options = _request(ref_audio, ref_text, gen_text, speed, nfe_step, cfg_strength, cross_fade, seed,
                                 randomize_seed, remove_silence, word_timings, aligner, voice, max_takes,
                                 normalize_loudness, request=request, gone=gone_check(studio, request))
        stream_id = uuid.uuid4().hex[:12]
        with shown_as("generate"):
            for item in studio.generate_stream(*args, **options):
                if isinstance(item, Piece):
                    path = write_wav(Path(studio.output_dir) / f"stream-{stream_id}-{item.index:03d}.wav",
                                     item.samples, item.sample_rate)
                    yield str(path), {"done": False, "piece": item.index, "start": round(item.start, 3),
                                      "duration": round(len(item.samples) / item.sample_rate, 3),
                                      "sample_rate": item.sample_rate}
                else:
                    audio, seed, ref_text, _picture, timing, _files, quality = final_outputs(item.result)
                    yield audio, {"done": True, "seed": seed, "chunk_seeds": item.result.chunk_seeds,
                                  "ref_text": ref_text, "duration": round(item.result.duration, 3),
                                  "timings": timing, "quality": quality}

    return generate_stream
