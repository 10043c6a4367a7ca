"""What every UI handler shares: one Studio call per action, its UserFacingError shown as a
gr.Error titled for that action, the caller of the request (for the Studio's permission check),
whether the event's client hung up, and the aligner choice mapped to the service's argument."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from ..accounts import NOBODY, Caller, caller_in
from ..errors import InputError, UserFacingError
from ..hangups import Gone
from ..service import Studio
from ..streaming import Cancelled
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
    except Cancelled:  # the client hung up: the answer goes to no one, so no trace in the log either
        raise gr.Error("Stopped: the client went away.", title="Stopped", print_exception=False) from None


def gone_check(studio: Studio, request: gr.Request | None) -> Gone:
    """Whether this event's client has hung up: the server records a closed event stream by its key, the
    session hash (in the browser) or the event id (the /gradio_api/call/ API), which Gradio gives the
    handler as `request.session_hash`."""
    return studio.hangups.watch(getattr(request, "session_hash", None))


def caller_of(request: gr.Request | None) -> Caller:
    """Who sent the request: the caller the server's access gate put in its state (f5ui.access), which
    gr.Request carries into queued events. Nobody (may do nothing) when it cannot be told."""
    try:
        state = getattr(request, "state", None)
    except (AttributeError, KeyError):  # a gr.Request rebuilt without one
        return NOBODY
    return (caller_in(state) if state is not None else None) or NOBODY


def aligner_choices() -> list[str]:
    return [AUTO, *BACKEND_NAMES]


def aligner_choice(value: str | None) -> str | None:
    """The Dropdown's value as Studio takes it: None for "auto" (the chain in order)."""
    return None if value in (None, "", AUTO) else value
