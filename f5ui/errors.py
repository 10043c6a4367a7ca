"""Errors a user can act on. Every surface (UI, API, CLI) shows `str(error)`:
what is wrong, then how to fix it."""

from __future__ import annotations


class UserFacingError(Exception):
    """A problem with a message and a fix hint, never a stack trace."""

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} {fix}".strip())


class InputError(UserFacingError):
    """The request itself is wrong (bad text, bad audio, value out of range)."""


class ModelUnavailable(UserFacingError):
    """The model could not be loaded; the reason and the fix come from the load attempt."""
