"""The fast path, checked on the CPU: the chunk inference equals f5-tts's infer_batch_process
sample for sample, the reference is prepared once per voice, precision settings, and bench/gpu.py
in its CPU mode."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from f5ui.engine.chunk_inference import ReferenceTensors, infer_chunk
from f5ui.engine.model_service import apply_precision
from f5ui.engine.synthesis import seed_everything
from f5ui.schema import GenerationParams
from tests.helpers import PATIENCE, ROOT


@pytest.mark.parametrize("chunk,speed,nfe", [("A sentence of ordinary length for the model.", 1.0, 8),
                                             ("Short.", 1.0, 6),  # under 10 bytes: spoken at speed 0.3
                                             ("Faster speech, fewer steps.", 1.4, 4)])
def test_chunk_inference_equals_infer_batch_process(studio, ref_clip, chunk, speed, nfe):
    from f5_tts.infer.utils_infer import infer_batch_process

    from f5ui.audio import read_audio

    loaded = studio.model.get()
    reference = studio.references.prepare(*ref_clip)
    audio = read_audio(reference.audio_path)
    seed_everything(3)
    want_wave, _rate, want_mel = next(infer_batch_process(
        (torch.from_numpy(audio.samples).unsqueeze(0), audio.sample_rate), reference.text, [chunk], loaded.model,
        loaded.vocoder, progress=None, nfe_step=nfe, cfg_strength=2.0, speed=speed, device=loaded.device))
    prepared = ReferenceTensors().get("k", audio.samples, audio.sample_rate, reference.text, loaded.model,
                                      loaded.device)
    seed_everything(3)
    wave, mel = infer_chunk(loaded, prepared, chunk, nfe, 2.0, speed)
    assert wave.shape == want_wave.shape and np.array_equal(wave, want_wave)
    assert np.array_equal(mel, want_mel)


def test_the_reference_is_prepared_once_per_voice(studio, ref_clip):
    tensors = studio.model.get().references
    before = tensors.misses
    text = "This studio clones a voice from a short recording and speaks any text you type. " * 3
    first = studio.generate(*ref_clip, text, GenerationParams(nfe_step=4, seed=1, max_takes=1), word_timings=False)
    studio.generate(*ref_clip, "Once more, the same voice.", GenerationParams(nfe_step=4, seed=2), word_timings=False)
    assert len(first.chunks) >= 3
    assert tensors.misses - before <= 1  # prepared at most once (not at all if an earlier test did it)


def test_precision_settings(caplog):
    model = torch.nn.Module()
    model.transformer = torch.nn.Linear(4, 4)
    model.mel_spec = torch.nn.Module()
    assert apply_precision(model, "auto", "cpu") == "fp32"
    assert apply_precision(model, "fp16", "cpu") == "fp32"  # half precision is for CUDA GPUs only
    assert "needs a CUDA GPU" in caplog.text
    with pytest.raises(ValueError, match="F5UI_PRECISION"):
        apply_precision(model, "fp64", "cpu")


def test_a_bad_precision_setting_fails_the_load_with_the_reason(tiny_env, tmp_path):
    from tests.helpers import make_studio

    studio = make_studio(tiny_env, tmp_path, F5UI_PRECISION="fp64")
    studio.start()
    status = studio.model.wait(timeout=PATIENCE)
    assert status.state == "failed" and "F5UI_PRECISION" in status.detail


def test_gpu_benchmark_runs_in_its_cpu_mode():
    """bench/gpu.py is meant for a GPU machine; its --device cpu --tiny mode runs the same code."""
    out = subprocess.run([sys.executable, "bench/gpu.py", "--device", "cpu", "--tiny", "--seconds", "2",
                          "--nfe", "4"], cwd=ROOT, capture_output=True, text=True, timeout=PATIENCE)
    assert out.returncode == 0, out.stderr[-3000:]
    table = out.stdout
    assert "ratio to the bare f5 path" in table
    row = next(line for line in table.splitlines() if line.startswith("| fp32 |"))
    rtf, vram, aligner = (cell.strip() for cell in row.strip("|").split("|")[1:])
    assert float(rtf) > 0 and vram == "n/a (CPU)"
    assert aligner == "whisperx"  # the aligner whose memory the GPU run reports is the one that ran


def test_a_voice_saved_again_under_its_name_is_prepared_again(studio, ref_clip, tmp_path):
    """Overwriting a saved voice keeps its id and path: the caches built from it must see the new audio."""
    ref, ref_text = ref_clip
    samples, rate = sf.read(str(ref))
    shorter = tmp_path / "shorter.wav"
    sf.write(str(shorter), samples[: int(len(samples) * 0.8)], rate)
    params = GenerationParams(nfe_step=4, seed=1, max_takes=1)
    studio.save_voice(ref, ref_text, "Saved Twice", overwrite=True)
    tensors = studio.model.get().references
    first = studio.generate(None, "", "Said in the first voice.", params, word_timings=False, voice="Saved Twice")
    misses = tensors.misses
    studio.save_voice(shorter, ref_text, "Saved Twice", overwrite=True)
    second = studio.generate(None, "", "Said in the first voice.", params, word_timings=False, voice="Saved Twice")
    assert tensors.misses == misses + 1  # the new audio was prepared, not the old one reused
    assert second.duration < first.duration  # f5 sizes the output by the reference: the new, shorter one
