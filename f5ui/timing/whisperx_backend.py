"""WhisperX forced alignment (wav2vec2 CTC) of the KNOWN text: no ASR pass.

`whisperx` is imported lazily (7-8 s). Alignment models are loaded once per
(language, model, device) into a process-wide cache, downloaded into the data dir.
`whisperx.align` splits sentences with nltk's punkt_tab and calls `nltk.download`
when it is missing; offline that raises, and at request time it would reach the
network, so the data is looked up first (also in <data dir>/nltk_data) and the
backend is skipped with instructions when it is not there.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from ..config import Settings
from ..hub import cached_file
from .base import AlignInput, Availability, BackendOutput, NeedsPackage
from .errors import BackendFailed, BackendSkipped
from .words import Timed, group_by_chunk

log = logging.getLogger(__name__)

# Languages whisperx aligns per character (no spaces between words).
NO_SPACE_LANGUAGES = {"ja", "zh"}
# A segment longer than this is not fed to wav2vec2 in one piece (memory grows with the square).
MAX_SEGMENT_SECONDS = 60.0
LOW_SCORE = 0.3  # mean character probability under this: the audio and the text probably differ

_models: dict[tuple[str, str, str], tuple[Any, dict]] = {}
_failures: dict[tuple[str, str, str], tuple[float, str]] = {}  # key → (when, why): don't retry every request
_models_lock = threading.Lock()
RETRY_FAILED_LOAD_AFTER = 300.0  # seconds


def _punkt_language(language: str) -> str:
    # The same table whisperx uses; imported from whisperx.utils would cost the slow import.
    table = {"cs": "czech", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
             "et": "estonian", "fi": "finnish", "fr": "french", "it": "italian", "nl": "dutch",
             "no": "norwegian", "pl": "polish", "pt": "portuguese", "sl": "slovene", "sv": "swedish",
             "tr": "turkish", "ml": "malayalam", "ru": "russian"}
    return table.get(language, "english")


class WhisperXBackend(NeedsPackage):
    name = "whisperx"
    package = module = "whisperx"
    probe_module = "whisperx.alignment"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._device: str | None = None

    # --- checks -------------------------------------------------------------------
    def _nltk_dir(self) -> Path:
        return self.settings.data_path / "nltk_data"

    def punkt_missing(self, language: str) -> str:
        """Empty when nltk's punkt_tab model for the language is installed, else why not."""
        import nltk

        extra = str(self._nltk_dir())
        if extra not in nltk.data.path:
            nltk.data.path.append(extra)  # lets operators install it next to the other data
        lang = _punkt_language(language)
        try:
            nltk.data.find(f"tokenizers/punkt_tab/{lang}/")
            return ""
        except LookupError:
            return (f"nltk's punkt_tab data ({lang}) is not installed and whisperx would download it at request "
                    f"time; install it once with: python -m nltk.downloader -d {extra} punkt_tab")

    def availability(self, language: str) -> Availability:
        missing = self.package_availability()
        if missing:
            return missing
        punkt = self.punkt_missing(language.split("-")[0])
        if punkt:
            return Availability.no(punkt, f"python -m nltk.downloader -d {self._nltk_dir()} punkt_tab")
        model = self.settings.whisperx_model or "whisperx default"
        return Availability.yes(f"wav2vec2 forced alignment ({model}, loaded on first use)")

    # --- model ----------------------------------------------------------------------
    def model_source(self, language: str) -> tuple[str, str]:
        """Where the alignment model for `language` would come from, without loading it:
        ("local" | "cached" | "download" | "none", detail). Imports whisperx: call it off the request path."""
        from whisperx.alignment import DEFAULT_ALIGN_MODELS_HF, DEFAULT_ALIGN_MODELS_TORCH

        language = language.split("-")[0]
        name = self.settings.whisperx_model
        model_dir = self.settings.writable_dir("models")
        if name and Path(name).expanduser().is_dir():
            return "local", f"local model folder {name}"
        if not name and language in DEFAULT_ALIGN_MODELS_TORCH:
            import torchaudio

            bundle = getattr(torchaudio.pipelines, DEFAULT_ALIGN_MODELS_TORCH[language])
            # load_align_model hands model_dir to torch.hub, which keeps the file under its own name.
            weights = model_dir / Path(bundle._path).name
            if weights.is_file():
                return "cached", f"{DEFAULT_ALIGN_MODELS_TORCH[language]} at {weights}"
            return "download", f"{DEFAULT_ALIGN_MODELS_TORCH[language]} (torchaudio) into {model_dir} on first use"
        name = name or DEFAULT_ALIGN_MODELS_HF.get(language, "")
        if not name:
            return "none", f"whisperx has no default alignment model for language {language!r}"
        if cached_file(name, "config.json", cache_dir=model_dir):
            return "cached", f"{name} in {model_dir}"
        return "download", f"{name} from the Hugging Face Hub into {model_dir} on first use"

    def _resolve_device(self) -> str:
        if self._device is None:
            from ..device import resolve_device

            self._device = resolve_device(self.settings.device)
        return self._device

    def load(self, language: str = "en") -> tuple[Any, dict]:
        language = language.split("-")[0]
        device = self._resolve_device()
        key = (language, self.settings.whisperx_model, device)
        with _models_lock:  # one load per key, even with concurrent requests
            if key not in _models:
                failed = _failures.get(key)
                if failed and time.monotonic() - failed[0] < RETRY_FAILED_LOAD_AFTER:
                    raise BackendFailed(f"the alignment model could not be loaded: {failed[1]}")
                import whisperx

                model_dir = self.settings.writable_dir("models")
                try:
                    model, metadata = whisperx.load_align_model(
                        language, device, model_name=self.settings.whisperx_model or None, model_dir=str(model_dir))
                except Exception as exc:  # offline download, bad folder, unknown language
                    _failures[key] = (time.monotonic(), str(exc) or type(exc).__name__)
                    raise BackendFailed(f"the alignment model could not be loaded: {exc}") from exc
                _failures.pop(key, None)
                _models[key] = (model, metadata)
                log.info("whisperx alignment model for %s loaded on %s", language, device)
            return _models[key]

    # --- alignment ------------------------------------------------------------------
    def align(self, request: AlignInput) -> BackendOutput:
        language = request.language.split("-")[0]
        segments, owners = self._segments(request, language)
        model, metadata = self.load(language)
        import whisperx

        result = whisperx.align(segments, model, metadata, request.samples, self._resolve_device(),
                                return_char_alignments=False)
        words = [w for seg in result["segments"] for w in seg["words"]]
        if len(words) != len(owners):
            raise BackendFailed(f"whisperx returned {len(words)} words for {len(owners)}")
        times: list[Timed] = [None] * len(request.tokens)
        scores = []
        for token_index, w in zip(owners, words):
            # No score: none of the word's characters is in the model's alphabet (digits,
            # symbols); whisperx then copies a neighbour's time. Leave it to our interpolation.
            if "score" not in w or "start" not in w or "end" not in w:
                continue
            score = float(w["score"])
            scores.append(score)
            times[token_index] = (float(w["start"]), float(w["end"]), score)
        mean = sum(scores) / len(scores) if scores else 0.0
        low = mean < LOW_SCORE
        note = (f"whisperx character scores are low (mean {mean:.2f}); the transcript may not match the audio"
                if low else "")
        return BackendOutput(times=times, interpolated=[False] * len(times), low_confidence=low, note=note)

    def _segments(self, request: AlignInput, language: str) -> tuple[list[dict], list[int]]:
        """whisperx segments with the script's words (normalized, so each is one
        whisperx word), one per chunk hint or one for the whole audio."""
        joiner = "" if language in NO_SPACE_LANGUAGES else " "
        groups = group_by_chunk(request.tokens, request.chunk_hints, request.duration)
        longest = max(e - s for s, e, _ in groups)
        if longest > MAX_SEGMENT_SECONDS:
            raise BackendSkipped(f"a stretch of {longest:.0f} s without chunk boundaries is too long for wav2vec2 "
                                 f"alignment in one piece (limit {MAX_SEGMENT_SECONDS:.0f} s)")
        segments, order = [], []
        for s, e, members in groups:
            segments.append({"start": s, "end": e, "text": joiner.join(request.tokens[i].norm for i in members)})
            order.extend(members)
        return segments, order

