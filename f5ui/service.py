"""The studio: one object per process holding the model service and caches, with
one function per user action. The UI, the HTTP API and the CLI all call these."""

from __future__ import annotations

import logging
from pathlib import Path

from .config import Settings
from .engine.model_service import ModelService
from .engine.reference import ReferenceCache
from .engine.synthesis import Progress, synthesize
from .errors import UserFacingError
from .schema import GenerationParams, SynthesisResult

log = logging.getLogger(__name__)


class Studio:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = ModelService(settings)
        self.references = ReferenceCache(settings.writable_dir("cache/references"), settings.ref_cache_size)
        self.output_dir = settings.writable_dir("outputs")

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
    ) -> SynthesisResult:
        """Clone the reference voice saying `gen_text`. Raises UserFacingError for anything a user can fix."""
        try:
            return synthesize(self.model, self.references, ref_audio or "", ref_text, gen_text, params,
                              self.output_dir, progress)
        except UserFacingError:
            raise
        except Exception as exc:  # unexpected: log the trace, show a short reason, keep serving
            log.exception("Generation failed")
            raise UserFacingError(f"Generation failed: {type(exc).__name__}: {str(exc)[:300]}",
                                  "See the server log for details; if it persists, report it.") from exc
