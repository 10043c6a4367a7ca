"""Errors a user can act on. Every surface (UI, API, CLI) shows `str(error)`:
what is wrong, then how to fix it. Messages never carry absolute server paths:
they are redacted here, where every user-facing error is made."""

from __future__ import annotations

import re

# An absolute POSIX path: "/" then at least one more path character, not inside a URL or a relative path.
_ABSOLUTE = re.compile(r"(?<![\w.:/~-])/(?:[\w.@+~-]+/)*[\w.@+~-]+/?")


def redact_paths(text: str) -> str:
    """`text` with every absolute path replaced by its last part ('…/name.wav'): a message keeps the
    file name a user recognizes, not where the server keeps it."""
    return _ABSOLUTE.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], str(text))


class UserFacingError(Exception):
    """A problem with a message and a fix hint, never a stack trace."""

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = redact_paths(problem)
        self.fix = redact_paths(fix)
        super().__init__(f"{self.problem} {self.fix}".strip())


class InputError(UserFacingError):
    """The request itself is wrong (bad text, bad audio, value out of range)."""


class ModelUnavailable(UserFacingError):
    """The model could not be loaded; the reason and the fix come from the load attempt."""


class Busy(UserFacingError):
    """Every model slot is taken and the wait would exceed the configured bound."""
