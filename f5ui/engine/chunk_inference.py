"""One chunk through F5-TTS, with the reference prepared once per voice.

f5-tts's `infer_batch_process` redoes the reference for every call: loudness normalization,
resampling, the copy to the device, and (inside `CFM.sample`) its mel spectrogram. Here those
are done once per reference and kept on the device (`ReferenceTensors`, a small LRU on the loaded
model); each chunk then runs the same steps as `infer_batch_process`'s `_infer_basic`, in the same
order, with the reference's mel as the condition (`CFM.sample` takes a mel as well as a wave).
tests/test_gpu_path.py checks that the audio is sample-for-sample the same as
`infer_batch_process`'s, so an f5-tts upgrade that changes its recipe fails there first."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .chunking import chunk_frames, padded_ref_text

TARGET_RMS = 0.1  # infer_batch_process's default target_rms
MAX_REFERENCES = 8  # prepared references kept on the device


@dataclass
class PreparedTensors:
    mel: Any  # torch.Tensor (1, frames, n_mels), on the model's device, in its dtype
    frames: int  # the reference's length in mel frames (audio samples // hop_length)
    rms: Any  # torch 0-dim tensor: the reference's loudness before normalization (the output is scaled back)
    text: str  # the reference text, padded as infer_batch_process pads it


class ReferenceTensors:
    """Per loaded model: reference key → its tensors on the device."""

    def __init__(self, max_items: int = MAX_REFERENCES) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, PreparedTensors] = OrderedDict()
        self._lock = threading.Lock()
        self.misses = 0  # how often a reference was prepared (benchmarks, tests)

    def get(self, key: str, samples: np.ndarray, rate: int, text: str, model: Any, device: str) -> PreparedTensors:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        prepared = prepare(samples, rate, text, model, device)
        with self._lock:
            self.misses += 1
            self._items[key] = prepared
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return prepared


def prepare(samples: np.ndarray, rate: int, text: str, model: Any, device: str) -> PreparedTensors:
    """The reference as `infer_batch_process` conditions on it (same operations, same order)."""
    import torch
    import torchaudio
    from f5_tts.infer.utils_infer import hop_length, target_sample_rate

    audio = torch.from_numpy(np.asarray(samples, dtype=np.float32)).unsqueeze(0)
    rms = torch.sqrt(torch.mean(torch.square(audio)))
    if rms < TARGET_RMS:
        audio = audio * TARGET_RMS / rms
    if rate != target_sample_rate:
        audio = torchaudio.transforms.Resample(rate, target_sample_rate)(audio)
    audio = audio.to(device)
    with torch.inference_mode():
        mel = model.mel_spec(audio).permute(0, 2, 1)  # what CFM.sample does with a wave
        mel = mel.to(next(model.parameters()).dtype)
    return PreparedTensors(mel, audio.shape[-1] // hop_length, rms, padded_ref_text(text))


def infer_chunk(loaded: Any, ref: PreparedTensors, chunk: str, nfe_step: int, cfg_strength: float,
                speed: float, sway_sampling_coef: float = -1) -> tuple[np.ndarray, np.ndarray]:
    """(wave, mel) of one chunk: `_infer_basic` of f5-tts's infer_batch_process, conditioned on the
    prepared mel. Seed the RNGs before calling, as for infer_batch_process."""
    import torch
    from f5_tts.model.utils import convert_char_to_pinyin

    text = convert_char_to_pinyin([ref.text + chunk])
    duration = ref.frames + chunk_frames(ref.frames, ref.text, chunk, speed)  # the rule the chunks were planned by
    with torch.inference_mode():
        generated, _ = loaded.model.sample(cond=ref.mel, text=text, duration=duration, steps=nfe_step,
                                           cfg_strength=cfg_strength, sway_sampling_coef=sway_sampling_coef)
        generated = generated.to(torch.float32)[:, ref.frames:, :].permute(0, 2, 1)
        wave = loaded.vocoder.decode(generated)
        if ref.rms < TARGET_RMS:
            wave = wave * ref.rms / TARGET_RMS
        wave = wave.squeeze().cpu().numpy()
    return wave, generated[0].cpu().numpy()
