"""What the checks look at: the parts of a running app, and small probes they share."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..config import Settings
from ..engine.model_service import ModelService
from ..export.stores import Store
from ..timing.base import Availability
from ..timing.chain import AlignmentChain


class QualityParts(Protocol):
    """The take check's parts (f5ui.checkup.Checkup; diagnostics do not import the layer above)."""

    def parts(self, language: str | None = None) -> list[tuple[str, Availability]]: ...

    def probe(self) -> None: ...


@dataclass(frozen=True)
class Context:
    """The app's parts a check may read. The server builds it; nothing here starts or loads anything."""

    settings: Settings
    model: ModelService
    aligner: AlignmentChain
    output_dir: Path
    exports: Store
    checkup: QualityParts


def version(dist: str) -> str | None:
    """Installed version from package metadata (does not import the package)."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def find(module: str) -> bool:
    """Whether a module is installed, without importing it (parents are imported: namespaces, cheap)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken parent package, or a module blocked in sys.modules
        return False


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"
