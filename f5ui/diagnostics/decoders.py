"""The decoder processes (f5ui.workers, pocketsphinx's in f5ui.timing.sphinx_models): how many run,
whether any was lost and replaced. Live: read at every report, without starting anything."""

from __future__ import annotations

from ..schema import OFF, OK, WARN, Check
from ..timing.sphinx_models import decoder_pool
from ..workers import IN_PROCESS, NOT_STARTED, STARTING, STOPPED
from .context import Context

NAME = "decoder processes"
WHAT = "pocketsphinx's word check and alignment, outside the server's process"


def decoder_processes(ctx: Context) -> Check:
    state = decoder_pool(ctx.settings).state()
    lost = (f"; replaced after a lost process {state.restarts} time(s), last {state.last_loss}"
            if state.restarts else "")
    if state.state == IN_PROCESS:
        return Check(NAME, "system", WARN, "F5UI_DECODER_PROCESSES=0: the word check and the alignment decode in "
                     "the server's process, and every other request (even /health) waits while one runs.",
                     "Set F5UI_DECODER_PROCESSES to 1 or more (2 by default).")
    if state.state == STOPPED:
        return Check(NAME, "system", OFF, "stopped (the server is shutting down)")
    if state.state == NOT_STARTED:
        return Check(NAME, "system", OK, f"{state.size} to start with the first check or alignment: {WHAT}{lost}")
    if state.state == STARTING:
        return Check(NAME, "system", OK, f"starting {state.size} (loading pocketsphinx's models): {WHAT}{lost}")
    running = f"{state.alive} of {state.size} running" if state.alive < state.size else f"{state.size} running"
    return Check(NAME, "system", OK, f"{running}, {state.tasks} tasks done: {WHAT}{lost}")
