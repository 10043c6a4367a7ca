"""File paths that arrive with a request are untrusted.

A request may only name files that were uploaded to this server (Gradio's upload
folder) or that the app keeps itself (the voice library). `FileGate.admit` resolves
the path (symlinks and `..` included) and refuses anything else *before* the file is
opened or even looked at, with one message for every refused path, so an answer
never tells whether some other path exists."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from .errors import InputError

# A saved voice's id, which names its folder here and in the bucket: anything else is never a path.
VOICE_ID = re.compile(r"[0-9a-f]{16}")


def not_uploaded() -> InputError:
    """The one answer for every path a request may not use."""
    return InputError("The file was not uploaded to this server.",
                      "Upload the file first: the browser does this, and gradio_client's handle_file() too.")


def _resolved(path: str | os.PathLike) -> Path:
    # realpath resolves symlinks and ".." without requiring the file to exist.
    return Path(os.path.realpath(os.fspath(path)))


def is_inside(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    resolved, base = _resolved(path), _resolved(root)
    return resolved == base or base in resolved.parents


class FileGate:
    """Which local files a request may name. `roots=None` trusts every path: only for callers
    that are the machine's own user (the CLI), never for a network request."""

    def __init__(self, roots: Iterable[str | os.PathLike] | None) -> None:
        self.roots = None if roots is None else [_resolved(r) for r in roots]

    @property
    def trusts_everything(self) -> bool:
        return self.roots is None

    def allows(self, path: str | os.PathLike) -> bool:
        if self.roots is None:
            return True
        try:
            return any(is_inside(path, root) for root in self.roots)
        except ValueError:  # a NUL byte, or a lone surrogate the file system cannot encode: no file's name
            return False

    def admit(self, path: str | os.PathLike) -> Path:
        """The resolved path when a request may use it; InputError (the same for every refused
        path, existing or not) otherwise."""
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise not_uploaded()
        if not self.allows(path) or "\0" in os.fspath(path):
            raise not_uploaded()
        return _resolved(path) if self.roots is not None else Path(path)
