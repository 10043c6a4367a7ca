"""Startup diagnostics: what works, what does not, and how to fix it. One module per area; each
check is a plain function over a `Context`, listed here in the order the log and panel show them.
Secrets never enter a check: credential files are shown by path and field names only."""

from __future__ import annotations

from typing import Any

from . import alignment, decoders, export, model, network, projects, quality, security, storage, system
from .context import Context
from .core import Diagnostics

FAST = (system.python, system.packages, model.f5tts, model.model_config, model.checkpoint, model.vocab,
        model.vocoder, system.ffmpeg, storage.data_dir, storage.hf_cache, alignment.google_credentials,
        export.boto3_installed, export.s3_config, security.access, projects.epub_import, projects.m4b_export)
SLOW = (("aligners", (alignment.aligners,)), ("torch", (system.torch_and_gpu,)), ("hub", (network.hub,)),
        ("imports", (alignment.import_probes, export.boto3_imports)), ("whisperx model", (alignment.whisperx_model,)),
        ("google key", (alignment.google_key,)), ("s3", (export.s3_access,)), ("quality", (quality.quality_parts,)))
LIVE = (model.model_state, decoders.decoder_processes)


def create_diagnostics(context: Context) -> Diagnostics:
    """The app's diagnostics with the default checks."""
    return Diagnostics(context, FAST, SLOW, LIVE)


def diagnostics_for(studio: Any) -> Diagnostics:
    """The diagnostics of a `service.Studio` (the app, the serverless worker and the tests build them so)."""
    return create_diagnostics(Context(studio.settings, studio.model, studio.aligner, studio.output_dir,
                                      studio.exports, studio.checkup))


__all__ = ["Context", "Diagnostics", "create_diagnostics", "diagnostics_for", "FAST", "SLOW", "LIVE"]
