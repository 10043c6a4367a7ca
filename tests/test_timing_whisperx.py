"""The WhisperX path end to end (whisperx.load_align_model + whisperx.align) with a
tiny random-weight Wav2Vec2ForCTC built here, and nltk punkt_tab data made with
nltk's own trainer: no hub, no network. A random model's times are arbitrary, so
this checks the contract (every word, in order, inside the audio), not accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from f5ui.config import from_env
from f5ui.timing.chain import AlignmentChain
from tests.speech import CLIPS, clip, clip_dir

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def build_tiny_wav2vec2(folder: Path) -> Path:
    import torch
    from transformers import (Wav2Vec2Config, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC,
                              Wav2Vec2Processor)

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "'": 5}
    vocab.update({ch: 6 + i for i, ch in enumerate(LETTERS)})
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=False)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(str(folder))
    torch.manual_seed(0)
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


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("wx-data")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_wav2vec2(tmp_path_factory.mktemp("tiny-wav2vec2"))


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return clip(clip_dir(tmp_path_factory), *CLIPS[2])


def test_whisperx_skipped_without_punkt_then_used(data_dir, tiny_model, speech):
    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(data_dir), "F5UI_WHISPERX_MODEL": str(tiny_model),
                                     "F5UI_ALIGNERS": "whisperx,sphinx", "F5UI_DEVICE": "cpu"}))
    result = chain.align(speech.wav, speech.text)
    assert result.attempts[0].status == "skipped" and "punkt_tab" in result.attempts[0].reason
    assert result.backend == "sphinx"

    install_punkt_tab(data_dir / "nltk_data")  # where the reason says to put it
    # A digit is outside the model's alphabet: whisperx 3.8 times it through a wildcard column
    # (older versions left it untimed and the chain interpolated it). Either way it is kept.
    text = speech.text.replace("mother", "mother 2")
    result = chain.align(speech.wav, text)
    assert result.backend == "whisperx", result.attempts
    assert [w.word for w in result.words] == text.split()
    two = result.words[text.split().index("2")]
    assert two.end >= two.start
    for prev, cur in zip(result.words, result.words[1:]):
        assert prev.end <= cur.start <= cur.end
    assert 0.0 <= result.words[0].start and result.words[-1].end <= result.duration
    assert all(type(w.start) is float for w in result.words)
    json.dumps(result.to_dict())
    # Random weights score every character low: the result says so.
    assert result.low_confidence and "whisperx" in result.warning


def test_whisperx_uses_chunk_hints_as_segments(data_dir, tiny_model, speech):
    import soundfile as sf

    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(data_dir), "F5UI_WHISPERX_MODEL": str(tiny_model),
                                     "F5UI_ALIGNERS": "whisperx", "F5UI_DEVICE": "cpu"}))
    install_punkt_tab(data_dir / "nltk_data")
    duration = sf.info(str(speech.wav)).duration
    first, second = speech.text.split(",", 1)
    hints = [(first + ",", 0.0, duration / 2), (second.strip(), duration / 2, duration)]
    result = chain.align(speech.wav, speech.text, chunk_hints=hints)
    assert result.backend == "whisperx"
    n_first = len((first + ",").split())
    assert all(w.end <= duration / 2 + 0.001 for w in result.words[:n_first])
    assert all(w.start >= duration / 2 - 0.001 for w in result.words[n_first:])


def test_unloadable_model_fails_with_reason(tmp_path, speech):
    install_punkt_tab(tmp_path / "nltk_data")
    (tmp_path / "not-a-model").mkdir()
    chain = AlignmentChain(from_env({"F5UI_DATA_DIR": str(tmp_path), "F5UI_ALIGNERS": "whisperx,sphinx",
                                     "F5UI_WHISPERX_MODEL": str(tmp_path / "not-a-model"), "F5UI_DEVICE": "cpu"}))
    for _ in range(2):  # the second request gets the remembered failure, without another load
        result = chain.align(speech.wav, speech.text)
        assert result.attempts[0].status == "failed" and "could not be loaded" in result.attempts[0].reason
        assert result.backend == "sphinx"
