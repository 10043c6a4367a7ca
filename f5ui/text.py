"""Text that arrives with a request: what may be spoken, timed and written into subtitle files."""

from __future__ import annotations

import re
import unicodedata

from .errors import InputError

# Terminal escape sequences (CSI "ESC [ ... m", OSC "ESC ] ... BEL", and two-byte ESC forms): removed
# whole, so no "[31m" is left behind when the ESC itself goes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_KEEP = {"\n", "\t"}  # whitespace that chunking and phrase grouping read as a break
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` without escape sequences and control characters (NUL, ESC, DEL, C1): they are not
    spoken, and in SRT/ASS files they corrupt the file or a terminal that shows it."""
    text = _ESCAPES.sub("", text)
    return "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) != "Cc")


def request_text(value: object, name: str) -> str:
    """A text field of a request, cleaned; InputError when it is not text at all."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{name} must be text, not {type(value).__name__}.", f"Send {name} as a string.")
    if _SURROGATE.search(value):  # JSON's "\ud800" alone: no character, and no encoder takes it
        raise InputError(f"{name} contains a lone UTF-16 surrogate, which is not a character.",
                         "Send valid Unicode text.")
    return clean_text(value)
