"""The studio: one object per process holding the model service and caches, with
one function per user action. The UI, the HTTP API and the CLI all call these."""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from pathlib import Path

from .config import Settings
from .engine.model_service import ModelService
from .engine.reference import ReferenceCache
from .engine.synthesis import synthesize
from .errors import InputError, UserFacingError
from .export.subtitles import write_all
from .paths import FileGate
from .schema import ChunkHint, GenerationParams, Progress, SynthesisResult, TimedAudio
from .timing.chain import AlignmentChain

log = logging.getLogger(__name__)


class Studio:
    """`files` says which paths a request may name: by default only uploads (the server's case);
    the CLI passes FileGate(None), since its user names their own files."""

    def __init__(self, settings: Settings, files: FileGate | None = None) -> None:
        self.settings = settings
        self.files = files if files is not None else FileGate([settings.upload_dir])
        self.model = ModelService(settings)
        self.references = ReferenceCache(settings.writable_dir("cache/references"), settings.ref_cache_size)
        self.output_dir = settings.writable_dir("outputs")
        self.aligner = AlignmentChain(settings)

    def start(self) -> None:
        """Begin loading the model in the background (if configured to preload)."""
        if self.settings.preload:
            self.model.ensure_loading()

    def generate(
        self,
        ref_audio: str | Path | None,
        ref_text: str,
        gen_text: str,
        params: GenerationParams = GenerationParams(),
        progress: Progress = lambda fraction, desc: None,
        word_timings: bool = True,
        aligner: str | None = None,
    ) -> SynthesisResult:
        """Clone the reference voice saying `gen_text`, with the time of every word unless
        `word_timings` is off. Raises UserFacingError for anything a user can fix."""
        ref_path = self.files.admit(ref_audio) if ref_audio else ""
        with _user_facing("Generation"):
            result = synthesize(self.model, self.references, ref_path, ref_text, gen_text, params,
                                self.output_dir, progress)
        if word_timings:
            progress(0.98, "Timing the words")
            try:
                # Chunk spans are only valid while the audio is as generated.
                hints = None if params.remove_silence else result.chunk_spans
                result.timing = self._align(result.audio_path, result.text, None, aligner, hints)
            except UserFacingError as error:  # the audio is still good: keep it and say why timings are missing
                result.notices.append(f"Word timings are not available: {error}")
        progress(1.0, "Done")
        return result

    def align(self, audio: str | Path | None, transcript: str, language: str | None = None,
              aligner: str | None = None) -> TimedAudio:
        """Word timings and subtitle files for any recording and its transcript."""
        if not audio:
            raise InputError("No audio was given.", "Upload the recording whose words should be timed.")
        return self._align(self.files.admit(audio), transcript, language, aligner, None)

    def _align(self, audio: Path, transcript: str, language: str | None, aligner: str | None,
               hints: list[ChunkHint] | None) -> TimedAudio:
        with _user_facing("Alignment"):
            alignment = self.aligner.align(audio, transcript, language=language, chunk_hints=hints,
                                           backend=aligner or None)
            stem = f"{Path(audio).stem[:40]}-{uuid.uuid4().hex}"  # unguessable: outputs are served by name
            files = write_all(alignment, self.output_dir / "timings", stem)
        return TimedAudio(Path(audio), alignment, files)


@contextmanager
def _user_facing(action: str):
    """Let user-facing errors through; turn anything unexpected into a short message (trace in the log)."""
    try:
        yield
    except UserFacingError:
        raise
    except Exception as exc:
        log.exception("%s failed", action)
        raise UserFacingError(f"{action} failed: {type(exc).__name__}: {str(exc)[:300]}",  # paths are redacted
                              "See the server log for details; if it persists, report it.") from exc
