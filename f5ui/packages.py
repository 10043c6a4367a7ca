"""Optional packages: installed, importable, or neither — and why."""

from __future__ import annotations

import importlib
import importlib.util


class PackageProbe:
    """Is an optional package installed and importable? `find_spec` is cheap but also finds a package
    that fails at import; `probe()` imports it for real (seconds: diagnostics call it in the background)
    and `availability()` reports what it found from then on."""

    def __init__(self, find: str, dist: str, module: str | None = None) -> None:
        self.find = find  # module find_spec looks for
        self.dist = dist  # pip name, for the messages
        self.module = module or find  # what probe() imports
        self.problem = ""

    def probe(self) -> str:
        """'' when the import works, else why not."""
        try:
            importlib.import_module(self.module)
            self.problem = ""
        except Exception as exc:  # a broken install (or a missing dependency of it) fails here
            self.problem = f"{type(exc).__name__}: {exc}"
        return self.problem

    def availability(self) -> tuple[bool, str]:
        broken = f"{self.dist} is installed but cannot be imported"
        try:
            found = importlib.util.find_spec(self.find) is not None
        except (ImportError, ValueError) as exc:  # a parent namespace that fails to import
            return False, f"{broken} ({type(exc).__name__}: {exc})"
        if not found:
            return False, f"{self.dist} is not installed (pip install {self.dist})"
        if self.problem:
            return False, f"{broken} ({self.problem})"
        return True, ""
