"""Quality-check rows: the word check (pocketsphinx, English), the optional recognizer, speaker
similarity and loudness, as the running check sees them (imports probed for real, models that
failed to load). Each missing part turns its figure off, with the reason and the fix."""

from __future__ import annotations

from ..schema import OFF, OK, Check
from .context import Context

WHAT = {"word check": "which words of each take were spoken, missing, repeated or garbled",
        "recognizer": "words said as other words (free recognition)",
        "speaker similarity": "how close each take's voice is to the reference",
        "loudness": "integrated loudness (LUFS), clipping, long silences, normalization"}


def quality_parts(ctx: Context) -> list[Check]:
    if not ctx.settings.check:
        return [Check(f"check: {name}", "quality", OFF, "F5UI_CHECK=0: takes are not checked.",
                      "Unset F5UI_CHECK (or set it to 1) to check every take.") for name in WHAT]
    ctx.checkup.probe()
    checks = []
    for name, state in ctx.checkup.parts(ctx.settings.language):
        if state.ok:
            checks.append(Check(f"check: {name}", "quality", OK, f"{state.reason}: {WHAT[name]}"))
        else:
            checks.append(Check(f"check: {name}", "quality", OFF, f"{state.reason}; {WHAT[name]} is not measured.",
                                state.fix))
    return checks
