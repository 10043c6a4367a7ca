"""A random-weight F5-TTS checkpoint and vocos vocoder, built with the f5-tts and vocos packages'
own classes, laid out on disk exactly as users point f5ui at real files (F5UI_CKPT, F5UI_VOCAB,
F5UI_VOCODER, F5UI_MODEL_ARCH). Tiny for the tests; full size (F5TTS_v1_Base's architecture and
vocos-mel-24khz's, so the compute is that of the real weights) for the benchmarks. No hub access."""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

TINY_ARCH = {"dim": 64, "depth": 2, "heads": 2, "dim_head": 32, "ff_mult": 2, "text_dim": 32, "conv_layers": 1}

VOCOS_CONFIG = """\
feature_extractor:
  class_path: vocos.feature_extractors.MelSpectrogramFeatures
  init_args: {sample_rate: 24000, n_fft: 1024, hop_length: 256, n_mels: 100, padding: center}
backbone:
  class_path: vocos.models.VocosBackbone
  init_args: {input_channels: 100, dim: 64, intermediate_dim: 128, num_layers: 2}
head:
  class_path: vocos.heads.ISTFTHead
  init_args: {dim: 64, n_fft: 1024, hop_length: 256, padding: center}
"""


# vocos-mel-24khz's own configuration (the released vocoder's size).
FULL_VOCOS_CONFIG = VOCOS_CONFIG.replace("dim: 64, intermediate_dim: 128, num_layers: 2",
                                         "dim: 512, intermediate_dim: 1536, num_layers: 8").replace(
    "init_args: {dim: 64, n_fft", "init_args: {dim: 512, n_fft")


def full_arch(model: str = "F5TTS_v1_Base") -> dict:
    """The architecture of an f5-tts model config, as its released checkpoint has it."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(str(files("f5_tts").joinpath(f"configs/{model}.yaml")))
    return OmegaConf.to_container(cfg.model.arch, resolve=True)


def build_tiny_model(root: Path, seed: int = 0, full: bool = False) -> dict[str, str]:
    """Write ckpt + vocab + vocos dir under `root`; return the F5UI_* environment that selects them.
    `full`: F5TTS_v1_Base's real architecture and the real vocoder's size (fp16 weights, ~0.7 GB)."""
    import torch
    from f5_tts.model import CFM, DiT
    from f5_tts.model.utils import get_tokenizer
    from safetensors.torch import save_file
    from vocos import Vocos

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)

    vocab = root / "vocab.txt"
    shutil.copyfile(str(files("f5_tts").joinpath("infer/examples/vocab.txt")), vocab)
    vocab_char_map, vocab_size = get_tokenizer(str(vocab), "custom")
    model = CFM(
        transformer=DiT(**(full_arch() if full else TINY_ARCH), text_num_embeds=vocab_size, mel_dim=100),
        mel_spec_kwargs=dict(n_fft=1024, hop_length=256, win_length=1024, n_mel_channels=100,
                             target_sample_rate=24000, mel_spec_type="vocos"),
        vocab_char_map=vocab_char_map,
    )
    # The layout of released EMA checkpoints: keys prefixed with "ema_model.".
    state = {f"ema_model.{k}": (v.half() if full and v.is_floating_point() else v).contiguous()
             for k, v in model.state_dict().items()}
    ckpt = root / ("model_full_random.safetensors" if full else "model_tiny.safetensors")
    save_file(state, str(ckpt))

    vocoder_dir = root / "vocos"
    vocoder_dir.mkdir(exist_ok=True)
    (vocoder_dir / "config.yaml").write_text(FULL_VOCOS_CONFIG if full else VOCOS_CONFIG)
    vocoder = Vocos.from_hparams(str(vocoder_dir / "config.yaml"))
    torch.save(vocoder.state_dict(), vocoder_dir / "pytorch_model.bin")

    return {
        "F5UI_MODEL": "F5TTS_v1_Base",
        "F5UI_CKPT": str(ckpt),
        "F5UI_VOCAB": str(vocab),
        "F5UI_VOCODER": str(vocoder_dir),
        "F5UI_MODEL_ARCH": "{}" if full else json.dumps(TINY_ARCH),
        "F5UI_DEVICE": "cpu",
    }


def reference_clip() -> tuple[Path, str]:
    """The human reference voice shipped in the f5-tts wheel, with its transcript."""
    path = Path(str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")))
    return path, "Some call me nature, others call me mother nature."
