"""Helpers shared by the test modules (fixtures are in conftest.py): a live app process, the
/generate inputs in order, diagnostics built as the server builds them, fake credentials,
import blockers, and a tiny WhisperX model with nltk data made offline."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import socket
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
# The bound on waiting for a condition (an app up, a model loaded, a take done), in seconds. Tests wait
# on the condition, never on a guess of the machine's speed: the busy 2-core machine, with four other
# suites beside it, once took 100+ s to load the tiny model.
PATIENCE = 900.0
SECRET = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7f5uiSecretKeyMaterial"
SECRET_ID = "f5ui0123456789secretkeyid"

# --- /generate ---------------------------------------------------------------------------------

GENERATE_DEFAULTS: dict[str, Any] = {"speed": 1.0, "nfe_step": 8, "cfg_strength": 2.0, "cross_fade": 0.15, "seed": 1,
                                     "randomize_seed": False, "remove_silence": False, "word_timings": True,
                                     "aligner": "auto", "voice": "", "max_takes": 0, "normalize_loudness": False}


def generate_inputs(ref: Any, ref_text: str, text: str, **overrides: Any) -> list:
    """The /generate inputs in API order: NFE 8 and seed 1 unless overridden."""
    unknown = set(overrides) - set(GENERATE_DEFAULTS)
    if unknown:
        raise TypeError(f"not /generate inputs: {sorted(unknown)}")
    p = {**GENERATE_DEFAULTS, **overrides}
    return [ref, ref_text, text, *(p[name] for name in GENERATE_DEFAULTS)]


def generate(client, ref: Path | None, ref_text: str, text: str = "Still working.", **overrides: Any) -> tuple:  # noqa: ANN001
    """Call /generate through gradio_client (which uploads the reference); all its outputs."""
    from gradio_client import handle_file

    return client.predict(*generate_inputs(handle_file(str(ref)) if ref else None, ref_text, text, **overrides),
                          api_name="/generate")


# --- diagnostics -------------------------------------------------------------------------------

def by_name(report: dict) -> dict[str, dict]:
    return {c["name"]: c for c in report["checks"]}


# Keyed by the studio itself, weakly: an id() is reused once a studio is collected, which handed a new
# studio the old one's diagnostics (and its model state).
_DIAGNOSTICS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def diagnostics_for(studio) -> Any:  # noqa: ANN001
    """The Diagnostics the server would build for `studio` (one per studio, so results accumulate)."""
    from f5ui.diagnostics import diagnostics_for as build

    if studio not in _DIAGNOSTICS:
        _DIAGNOSTICS[studio] = build(studio)
    return _DIAGNOSTICS[studio]


def make_studio(tiny_env: dict[str, str], data_dir: Path, **overrides: str):  # noqa: ANN201 - f5ui.service.Studio
    """A Studio that is not started (no model load) with the tiny model's settings plus overrides."""
    from f5ui.config import from_env
    from f5ui.service import Studio

    return Studio(from_env(dict(tiny_env, F5UI_DATA_DIR=str(data_dir), **overrides)))


def fake_service_account(path: Path) -> Path:
    """A service-account key file shaped like Google's, with a private key that must never be shown."""
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "f5ui-test", "private_key_id": SECRET_ID,
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n",
        "client_email": "tts@f5ui-test.iam.gserviceaccount.com", "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token"}))
    return path


class BlockImports(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes packages look installed but fail at import, like a broken install."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001, ANN201
        if any(fullname == n or fullname.startswith(n + ".") for n in self.names):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):  # noqa: ANN001, ANN201
        return None

    def exec_module(self, module):  # noqa: ANN001, ANN201
        raise ImportError(f"{module.__name__} is blocked (simulated broken install)")


def s3_studio_for(tiny_env: dict, data: Path, env: dict, monkeypatch, **overrides: str):  # noqa: ANN001, ANN201
    """A Studio (f5ui.service) configured as an operator would: AWS_* in the environment, F5UI_S3_* settings;
    it names local files directly, as the CLI does."""
    from f5ui.config import from_env
    from f5ui.paths import FileGate
    from f5ui.service import Studio

    for key, value in env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    settings = from_env({**tiny_env, **{k: v for k, v in env.items() if k.startswith("F5UI_")},
                         "F5UI_DATA_DIR": str(data), "F5UI_PRELOAD": "0", **overrides})
    return Studio(settings, files=FileGate(None))


# --- a live app ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveApp:
    """`python app.py` on a free port of 127.0.0.1, with the test's environment on top of this one.
    Output goes to `folder`/stdout.log; the data dir is `folder` unless `env` sets F5UI_DATA_DIR."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        full_env = {**os.environ, "F5UI_DATA_DIR": str(folder), **env, "F5UI_PORT": str(self.port)}
        self.data_dir = Path(full_env["F5UI_DATA_DIR"])
        self.log_path = folder / "stdout.log"
        self.clients: list = []
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=full_env,
                                     stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT)

    def wait_http(self, timeout: float = PATIENCE) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/health", timeout=30).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"app did not answer:\n{self.log_path.read_text()[-3000:]}")

    def health(self) -> dict:
        return requests.get(self.url + "/health", timeout=60).json()

    def diagnostics(self) -> dict:
        return requests.get(self.url + "/diagnostics", timeout=60).json()

    def _poll(self, fetch, done, timeout: float, what: str) -> dict:  # noqa: ANN001 - two small callables
        """Ask until `done`, up to `timeout` s; a slow or refused answer (a busy machine) is asked again."""
        deadline, value = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                value = fetch()
            except requests.RequestException as exc:
                value = exc
            else:
                if done(value):
                    return value
            time.sleep(0.3)
        raise TimeoutError(f"{what} (last answer: {value})")

    def wait_ready(self, timeout: float = PATIENCE) -> dict:
        """/health once the model load has finished, either way."""
        return self._poll(self.health, lambda h: h["model"]["state"] in ("ready", "failed"), timeout,
                          "the model did not finish loading")

    def wait_checks(self, timeout: float = PATIENCE) -> dict:
        """The report once the background checks are done (they wait for the model's own imports)."""
        return self._poll(self.diagnostics, lambda r: not r["pending"], timeout, "background checks still running")

    def client(self, **options: Any):  # noqa: ANN201 - gradio_client.Client
        """A gradio_client for this app (`options` such as headers= go to Client), closed by stop() (its
        heartbeat stream holds the server open)."""
        from gradio_client import Client

        client = Client(self.url, verbose=False, **options)
        self.clients.append(client)
        return client

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.proc.terminate()  # the server's graceful shutdown is bounded at 3 s
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)


# --- WhisperX offline -----------------------------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def build_tiny_wav2vec2(folder: Path, full: bool = False) -> Path:
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "'": 5}
    vocab.update({ch: 6 + i for i, ch in enumerate(LETTERS)})
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=False)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(str(folder))
    torch.manual_seed(0)
    if full:  # wav2vec2-base's size (transformers' defaults), as WhisperX's English aligner: for memory benchmarks
        config = Wav2Vec2Config(vocab_size=len(vocab), pad_token_id=0)
    else:
        config = Wav2Vec2Config(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                intermediate_size=64, conv_dim=(16,) * 7, num_conv_pos_embeddings=16,
                                num_conv_pos_embedding_groups=2, pad_token_id=0)
    Wav2Vec2ForCTC(config).save_pretrained(str(folder))
    return folder


def install_punkt_tab(nltk_dir: Path) -> None:
    """An English punkt_tab model trained by nltk's PunktTrainer, written in the punkt_tab format."""
    from nltk.tabdata import TabEncoder
    from nltk.tokenize.punkt import PunktTrainer

    trainer = PunktTrainer()
    from tests.speech import CLIPS

    trainer.train(" ".join(text for text, _, _ in CLIPS) + " Mr. Smith met Dr. Jones at 5 p.m. on Main St. today.",
                  finalize=True)
    params = trainer.get_params()
    target = nltk_dir / "tokenizers" / "punkt_tab" / "english"
    target.mkdir(parents=True, exist_ok=True)
    enc = TabEncoder()
    (target / "collocations.tab").write_text(enc.tups2tab(params.collocations))
    (target / "sent_starters.txt").write_text(enc.set2txt(params.sent_starters))
    (target / "abbrev_types.txt").write_text(enc.set2txt(params.abbrev_types))
    (target / "ortho_context.tab").write_text(enc.ivdict2tab(params.ortho_context))


# --- the take check's optional models, offline -------------------------------------------------------

def build_tiny_whisper(folder: Path) -> Path:
    """A random-weight English-only Whisper in faster-whisper's format (CTranslate2 model.bin plus
    tokenizer.json), converted with ctranslate2's own converter. It hears nonsense, which is the
    point: the check's code path runs and its verdicts can be asserted."""
    import torch
    from ctranslate2.converters import TransformersConverter
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import GenerationConfig, WhisperConfig, WhisperForConditionalGeneration

    hf, out = folder / "hf", folder / "ct2"
    if (out / "model.bin").is_file():
        return out
    hf.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {}
    for piece in sorted(pre_tokenizers.ByteLevel.alphabet()) + ["Ġ" + w for w in ("the", "and", "some", "call")]:
        vocab.setdefault(piece, len(vocab))
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    special = ["<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
               "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
    tokenizer.add_special_tokens([AddedToken(s, special=True) for s in special]
                                 + [AddedToken(f"<|{i * 0.02:.2f}|>", special=True) for i in range(1501)])
    tokenizer.save(str(hf / "tokenizer.json"))
    ids = {s: tokenizer.token_to_id(s) for s in special}
    end, start = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    torch.manual_seed(0)
    config = WhisperConfig(vocab_size=tokenizer.get_vocab_size(), num_mel_bins=80, d_model=64, encoder_layers=1,
                           decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
                           encoder_ffn_dim=128, decoder_ffn_dim=128, eos_token_id=end, bos_token_id=end,
                           pad_token_id=end, decoder_start_token_id=start)
    WhisperForConditionalGeneration(config).save_pretrained(hf)
    GenerationConfig(decoder_start_token_id=start, eos_token_id=end, pad_token_id=end,
                     no_timestamps_token_id=ids["<|notimestamps|>"], is_multilingual=False, suppress_tokens=[],
                     begin_suppress_tokens=[], alignment_heads=[[0, 0]], max_length=64).save_pretrained(hf)
    TransformersConverter(str(hf), copy_files=["tokenizer.json"]).convert(str(out), force=True)
    return out


def build_tiny_xvector(folder: Path) -> Path:
    """A random-weight WavLM x-vector speaker-verification model (the class of
    microsoft/wavlm-base-plus-sv) with its feature extractor."""
    import torch
    from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMForXVector

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    config = WavLMConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                         conv_dim=(32, 32), conv_stride=(5, 4), conv_kernel=(10, 4), num_conv_pos_embeddings=16,
                         num_conv_pos_embedding_groups=2, tdnn_dim=(32, 32), tdnn_kernel=(5, 3),
                         tdnn_dilation=(1, 2), xvector_output_dim=16, num_buckets=32)
    WavLMForXVector(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=16000, return_attention_mask=True).save_pretrained(folder)
    return folder
