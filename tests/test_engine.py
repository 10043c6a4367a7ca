"""Service-level behaviour of the engine: generation, caching, chunking, seeds,
reference handling, and the model service's background load."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from f5ui.config import from_env
from f5ui.engine.model_service import ModelService
from f5ui.errors import InputError, ModelUnavailable
from f5ui.schema import FAILED, IDLE, LOADING, READY, GenerationParams
from tests.helpers import PATIENCE

FAST = GenerationParams(nfe_step=8, seed=1234)


def expected_seconds(ref_seconds: float, ref_text: str, gen_text: str, speed: float = 1.0) -> float:
    """F5's duration rule: the generated part scales with the reference's seconds per byte."""
    return ref_seconds * len(gen_text.encode()) / len(ref_text.encode()) / speed


def test_generation_produces_finite_audio_of_plausible_length(studio, ref_clip):
    ref, ref_text = ref_clip
    text = "Hello there, this is the voice studio speaking a short sentence."
    result = studio.generate(ref, ref_text, text, FAST)
    samples, sr = sf.read(str(result.audio_path))
    assert sr == 24000
    assert np.isfinite(samples).all() and np.abs(samples).max() > 0
    want = expected_seconds(studio.references.prepare(ref, ref_text).duration, result.ref_text, text)
    assert result.duration == pytest.approx(len(samples) / sr)
    assert 0.75 * want < result.duration < 1.25 * want, (result.duration, want)
    assert result.chunks == [text]
    assert result.spectrogram_path.stat().st_size > 1000
    assert result.ref_text.strip() == ref_text  # a typed text is used as is


def test_speed_changes_duration(studio, ref_clip):
    ref, ref_text = ref_clip
    text = "Speed changes how long this sentence takes to say."
    normal = studio.generate(ref, ref_text, text, FAST)
    fast = studio.generate(ref, ref_text, text, GenerationParams(nfe_step=8, seed=1, speed=2.0))
    assert fast.duration == pytest.approx(normal.duration / 2, rel=0.15)


def test_same_reference_is_preprocessed_once(studio, ref_clip, tmp_path):
    ref, ref_text = ref_clip
    copy = tmp_path / "same-bytes-other-name.wav"
    copy.write_bytes(ref.read_bytes())
    studio.generate(ref, ref_text, "First request.", FAST)
    hits, misses = studio.references.hits, studio.references.misses
    second = studio.generate(copy, ref_text, "Second request, same voice.", FAST)
    assert studio.references.hits == hits + 1 and studio.references.misses == misses
    assert second.timings_s["reference"] == 0.0
    # Another reference text is another cache entry: the text is part of the key.
    studio.generate(ref, "Some call me nature.", "Third request.", FAST)
    assert studio.references.misses == misses + 1


def test_reference_cache_is_bounded(tiny_env, tmp_path, ref_clip):
    from f5ui.engine.reference import ReferenceCache

    ref, ref_text = ref_clip
    cache = ReferenceCache(tmp_path, max_items=2)
    prepared = [cache.prepare(ref, f"{ref_text} take {i}") for i in range(3)]
    assert len(cache) == 2
    assert not Path(prepared[0].audio_path).exists()  # evicted files are removed
    assert Path(prepared[2].audio_path).exists()


def test_long_text_is_chunked_and_cross_faded(studio, ref_clip):
    ref, ref_text = ref_clip
    sentence = "This studio clones a voice from a short recording and speaks any text you type. "
    text = sentence * 6
    params = GenerationParams(nfe_step=8, seed=7, cross_fade=0.15)
    steps: list[tuple[float, str]] = []
    result = studio.generate(ref, ref_text, text, params, progress=lambda f, d: steps.append((f, d)))
    assert len(result.chunks) >= 2
    assert " ".join(c.strip() for c in result.chunks).split() == text.split()
    want = expected_seconds(studio.references.prepare(ref, ref_text).duration, result.ref_text, text)
    assert 0.7 * want < result.duration < 1.3 * want
    chunk_messages = [d for _, d in steps if d.startswith("Generating chunk")]
    assert chunk_messages[-1] == f"Generating chunk {len(result.chunks)} of {len(result.chunks)}"
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_seed_reproduces_audio_and_random_seed_is_reported(studio, ref_clip):
    ref, ref_text = ref_clip
    text = "The same seed gives the same audio."
    a = studio.generate(ref, ref_text, text, GenerationParams(nfe_step=8, seed=42))
    b = studio.generate(ref, ref_text, text, GenerationParams(nfe_step=8, seed=42))
    c = studio.generate(ref, ref_text, text, GenerationParams(nfe_step=8, seed=43))
    wa, wb, wc = (sf.read(str(r.audio_path))[0] for r in (a, b, c))
    assert a.seed == b.seed == 42 and np.array_equal(wa, wb)
    assert not np.array_equal(wa, wc)
    random_run = studio.generate(ref, ref_text, text, GenerationParams(nfe_step=8, seed=None))
    assert 0 <= random_run.seed < 2**31


def test_long_stereo_reference_is_clipped_with_a_notice(studio, audio_files, ref_clip):
    _, ref_text = ref_clip
    result = studio.generate(audio_files["long"], ref_text, "A clipped reference still works.", FAST)
    assert result.duration > 0
    assert any("clipped" in n for n in result.notices)
    assert studio.references.prepare(audio_files["long"], ref_text).duration <= 12.5


def test_compressed_reference_is_converted(studio, audio_files, ref_clip):
    _, ref_text = ref_clip
    result = studio.generate(audio_files["mp3"], ref_text, "An MP3 reference works too.", FAST)
    assert result.duration > 0


def test_empty_reference_text_without_asr_model_asks_the_user_to_type_it(studio, ref_clip, tmp_path):
    ref, _ = ref_clip
    fresh = tmp_path / "untranscribed.wav"
    data, sr = sf.read(str(ref))
    sf.write(fresh, data * 0.9, sr)  # different bytes: not in any cache
    with pytest.raises(InputError) as info:
        studio.generate(fresh, "", "Transcribe my reference please.", FAST)
    message = str(info.value)
    assert "Reference text" in message and "could not be loaded" in message


def test_remove_silence_keeps_speech(studio, ref_clip):
    ref, ref_text = ref_clip
    result = studio.generate(ref, ref_text, "Remove long silences from this.",
                             GenerationParams(nfe_step=8, seed=3, remove_silence=True))
    assert sf.info(str(result.audio_path)).duration > 0


# --- model service ---------------------------------------------------------------

def _service(tiny_env, tmp_path, **overrides) -> ModelService:
    env = dict(tiny_env, F5UI_DATA_DIR=str(tmp_path), **overrides)
    return ModelService(from_env(env))


def test_background_load_state_transitions_and_single_load(tiny_env, tmp_path):
    service = _service(tiny_env, tmp_path)
    assert service.state == IDLE
    service.ensure_loading()
    assert service.state in (LOADING, READY)
    results = []
    threads = [threading.Thread(target=lambda: results.append(service.get(timeout=PATIENCE))) for _ in range(4)]
    for thread in threads:
        thread.start()
    service.ensure_loading()  # a second start while loading is a no-op
    for thread in threads:
        thread.join()
    assert service.state == READY and service.load_count == 1
    assert len({id(r.model) for r in results}) == 1
    assert service.status().detail.startswith("F5-TTS F5TTS_v1_Base ready on cpu")


def test_failed_load_keeps_reason_and_a_later_request_retries(tiny_env, tmp_path):
    service = _service(tiny_env, tmp_path, F5UI_CKPT=str(tmp_path / "missing.safetensors"))
    with pytest.raises(ModelUnavailable) as info:
        service.get(timeout=PATIENCE)
    status = service.status()
    assert status.state == FAILED and "missing.safetensors" in status.detail and "F5UI_CKPT" in status.fix
    assert "missing.safetensors" in str(info.value)
    service.settings.ckpt = tiny_env["F5UI_CKPT"]  # the operator fixes the path
    assert service.get(timeout=PATIENCE).model is not None
    assert service.state == READY and service.load_count == 2


@pytest.mark.parametrize("override, problem, fix", [
    ({"F5UI_MODEL_ARCH": '{"dim": 64, "depth": 3, "heads": 2, "dim_head": 32, "ff_mult": 2, "text_dim": 32, '
                         '"conv_layers": 1}'}, "does not fit the architecture", "F5UI_MODEL_ARCH"),
    ({"F5UI_MODEL": "F5TTS_Nonexistent"}, "no f5-tts model config named", "F5TTS_v1_Base"),
    ({"F5UI_CKPT": "hf://SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors"}, "Hugging Face Hub", "F5UI_CKPT"),
    ({"F5UI_VOCODER": "/nonexistent/vocos"}, "vocoder folder", "F5UI_VOCODER"),
])
def test_load_failures_explain_the_fix(tiny_env, tmp_path, override, problem, fix):
    service = _service(tiny_env, tmp_path, **override)
    service.ensure_loading()
    status = service.wait()
    assert status.state == FAILED, status
    assert problem in status.detail and fix in status.fix, status


def _f5_join(waves, cross_fade_samples):
    """f5-tts's own cross-fade join, as infer_batch_process writes it (the reference behaviour)."""
    final = waves[0]
    for nxt in waves[1:]:
        n = min(cross_fade_samples, len(final), len(nxt))
        if n <= 0:
            final = np.concatenate([final, nxt])
            continue
        faded = final[-n:] * np.linspace(1, 0, n) + nxt[:n] * np.linspace(0, 1, n)
        final = np.concatenate([final[:-n], faded, nxt[n:]])
    return final


@pytest.mark.parametrize("lengths, fade", [([5000, 7000, 3000], 3600), ([5000, 900, 400, 6000], 3600),
                                           ([100, 50, 8000], 3600), ([4000, 4000], 0), ([9000], 3600)])
def test_chunks_stream_and_join_exactly_as_f5_tts_joins_them(lengths, fade):
    from f5ui.engine.synthesis import CrossFader

    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(n).astype(np.float32) for n in lengths]
    fader = CrossFader(fade)
    pieces = [fader.push(w) for w in waves] + [fader.finish()]
    assert np.array_equal(np.concatenate(pieces), _f5_join(waves, fade))


def test_each_chunk_has_its_own_seed_and_a_take_reproduces(studio, ref_clip):
    text = " ".join(["This sentence is one chunk of a longer text."] * 4)
    first = studio.generate(ref_clip[0], ref_clip[1], text, GenerationParams(nfe_step=4, seed=123), word_timings=False)
    again = studio.generate(ref_clip[0], ref_clip[1], text, GenerationParams(nfe_step=4, seed=123), word_timings=False)
    assert len(first.chunk_seeds) == len(first.chunks) >= 2 and first.chunk_seeds[0] == 123
    assert len(set(first.chunk_seeds)) == len(first.chunk_seeds)
    assert sf.read(str(first.audio_path))[0].tolist() == sf.read(str(again.audio_path))[0].tolist()
