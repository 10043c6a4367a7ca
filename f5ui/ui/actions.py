"""What every UI handler shares: one Studio call per action, its UserFacingError shown as a
gr.Error titled for that action, and the aligner choice mapped to the service's argument."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from ..errors import InputError, UserFacingError
from ..timing.registry import BACKEND_NAMES

AUTO = "auto"


@contextmanager
def shown_as(action: str) -> Iterator[None]:
    """Turn a UserFacingError raised inside into a gr.Error: "Invalid input" for a bad request,
    "Cannot <action>" for anything else (the model failed to load, an aligner broke)."""
    try:
        yield
    except UserFacingError as error:
        title = "Invalid input" if isinstance(error, InputError) else f"Cannot {action}"
        raise gr.Error(str(error), title=title, print_exception=False) from None


def aligner_choices() -> list[str]:
    return [AUTO, *BACKEND_NAMES]


def aligner_choice(value: str | None) -> str | None:
    """The Dropdown's value as Studio takes it: None for "auto" (the chain in order)."""
    return None if value in (None, "", AUTO) else value
