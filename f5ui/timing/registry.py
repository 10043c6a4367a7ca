"""The word-timing backends, in their default order: the one list the chain, the settings'
documentation and the status panel all read. Each backend class states its name, the package
it runs on, and (through `availability`) whether it can run, why not, and the fix."""

from __future__ import annotations

from ..config import Settings
from .base import Backend
from .estimate import EstimateBackend
from .google_backend import GoogleBackend
from .sphinx_backend import SphinxBackend
from .whisperx_backend import WhisperXBackend

BACKENDS: tuple[type[Backend], ...] = (WhisperXBackend, GoogleBackend, SphinxBackend, EstimateBackend)
BACKEND_NAMES: tuple[str, ...] = tuple(b.name for b in BACKENDS)
LAST_RESORT = EstimateBackend.name  # always available, so a result is always possible


def build_backends(settings: Settings) -> dict[str, Backend]:
    return {cls.name: cls(settings) for cls in BACKENDS}
