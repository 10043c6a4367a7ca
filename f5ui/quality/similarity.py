"""Speaker similarity: the cosine of two speaker embeddings. Offline by default with resemblyzer's
GE2E encoder, whose weights ship in the package (no hub): same espeak voice 0.87–0.90, other
voices and a human recording ≤ 0.85 (tests/test_check.py). A stronger speaker-verification model
can be configured (F5UI_SIMILARITY_MODEL: a transformers x-vector model such as
microsoft/wavlm-base-plus-sv, or its local folder); when it cannot load, resemblyzer is used and
the reason is kept for the report and the status panel."""

from __future__ import annotations

import logging
import threading

import numpy as np

from ..audio import SPEECH_RATE, resample
from ..device import cuda_or_cpu
from ..packages import PackageProbe

log = logging.getLogger(__name__)

ENCODER_RATE = SPEECH_RATE
MIN_SECONDS = 0.5  # shorter audio gives no stable embedding
PIECE_SECONDS = 30.0  # longer audio is embedded in pieces (a chunk of a take is one)


class SpeakerSimilarity:
    """One encoder per process, loaded on first use (or by `load()` in the background)."""

    def __init__(self, device: str = "cpu", model: str = "") -> None:
        self.requested_device = device  # F5UI_DEVICE: auto, cuda, cpu…; resolved when the encoder loads
        self.device = ""
        self.model = model  # "" = resemblyzer
        self.package = PackageProbe("resemblyzer", "resemblyzer")
        self._encoder = None
        self._xvector = None  # (feature extractor, model) of the configured verification model
        self.fallback_reason = ""  # why the configured model is not used
        self._lock = threading.Lock()

    def problem(self) -> str:
        """'' when it can run, else why not."""
        ok, reason = self.package.availability()  # resemblyzer also finds the speech for either encoder
        return "" if ok else reason

    @property
    def name(self) -> str:
        return f"{self.model} x-vectors" if self._xvector is not None else "resemblyzer GE2E embeddings"

    def load(self) -> None:
        with self._lock:
            self._load()

    def _load(self) -> None:
        if not self.device:
            self.device = cuda_or_cpu(self.requested_device)
        if self.model and self._xvector is None and not self.fallback_reason:
            try:
                from transformers import AutoFeatureExtractor, AutoModelForAudioXVector

                extractor = AutoFeatureExtractor.from_pretrained(self.model)
                model = AutoModelForAudioXVector.from_pretrained(self.model).to(self.device).eval()
                self._xvector = (extractor, model)
                log.info("Speaker verification model %s loaded on %s", self.model, self.device)
                return
            except Exception as exc:  # any failure: fall back to resemblyzer, with the reason
                self.fallback_reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                log.warning("Speaker verification model %r not loaded (%s); using resemblyzer", self.model,
                            self.fallback_reason)
        if self._xvector is None and self._encoder is None:
            from resemblyzer import VoiceEncoder

            self._encoder = VoiceEncoder(device=self.device, verbose=False)
            self._encoder.embed_utterance(np.zeros(ENCODER_RATE, dtype=np.float32) + 1e-4)  # first-call setup
            log.info("Speaker encoder (resemblyzer) loaded on %s", self.device)

    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray | None:
        """A unit-length embedding of the voice in `samples`, or None when there is too little speech.
        Long audio is embedded in pieces of PIECE_SECONDS, averaged by their length: resemblyzer's
        preparation packs the whole audio in one call that holds the GIL (0.7 s for 600 s)."""
        audio = resample(samples, sample_rate, ENCODER_RATE)
        piece = int(PIECE_SECONDS * ENCODER_RATE)
        if len(audio) <= piece:
            return self._embed_piece(audio)
        embedded = [(self._embed_piece(audio[a:a + piece]), len(audio[a:a + piece]))
                    for a in range(0, len(audio), piece)]
        parts = [(e, n) for e, n in embedded if e is not None]
        if not parts:
            return None
        mean = sum(e * n for e, n in parts)
        return mean / (np.linalg.norm(mean) or 1.0)

    def _embed_piece(self, audio: np.ndarray) -> np.ndarray | None:
        from resemblyzer import preprocess_wav

        # preprocess_wav normalizes the volume and drops silences (webrtcvad)
        speech = preprocess_wav(audio, source_sr=ENCODER_RATE)
        if len(speech) < MIN_SECONDS * ENCODER_RATE:
            return None
        with self._lock:
            self._load()
            if self._xvector is not None:
                embedding = self._embed_xvector(speech)
            else:
                embedding = self._encoder.embed_utterance(speech)
        return embedding / (np.linalg.norm(embedding) or 1.0)

    def _embed_xvector(self, speech: np.ndarray) -> np.ndarray:
        import torch

        extractor, model = self._xvector
        inputs = extractor(speech, sampling_rate=ENCODER_RATE, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            return model(**inputs).embeddings[0].float().cpu().numpy()


def cosine(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None:
        return None
    return round(float(np.dot(a, b) / ((np.linalg.norm(a) * np.linalg.norm(b)) or 1.0)), 4)
