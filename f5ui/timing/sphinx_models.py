"""pocketsphinx's English decoders, configured once for the aligner and the word check (a dictionary
decoder for forced alignment or a grammar, and a free phone loop), made once per process, and the
pool of decoder processes they run in.

pocketsphinx holds Python's GIL for a whole decode, so the decoders live in worker processes
(f5ui.workers): each process makes them once (`load_all`, the pool's initializer) and the server only
waits for answers. F5UI_DECODER_PROCESSES sets how many; 0 decodes in the calling process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..config import Settings
from ..workers import ProcessPool, shared_pool
from .base import SAMPLE_RATE

log = logging.getLogger(__name__)

POOL_NAME = "decoder"
# The squeezed audio (pauses cut out, timing/pauses.py) has no pauses to explain: allow no silence.
NO_PAUSES = {"silprob": 1e-20, "fillprob": 1e-20}
LOOP_BEAMS = {"beam": 1e-40, "pbeam": 1e-40, "lw": 1.0}  # lw 1: the acoustics decide, not the phone LM
CHECK_BEAMS = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80}
# The aligner's wide beams: the default ones drop the alignment on fast or slow speech (field notes);
# alignment search space is linear in the text, so this costs little. Dither (pocketsphinx's
# fixed-seed noise, so still deterministic) keeps digital silence from breaking the features.
# Measured on 24 held-out espeak sentences (4 voices, 140-175 wpm) + 3 recordings: beams of
# 1e-80 lost 4 of 24 alignments; these lose none, mean start error 15.7 ms (was 17.7 ms).
ALIGN_BEAMS = {"beam": 1e-120, "wbeam": 1e-100, "pbeam": 1e-120, "dither": True}
# No second passes: with them the alignment of a clip with pauses often stopped at the first long
# pause (measured: 9 of 16 words); the alignment search alone reaches the end.
ALIGN_PASSES = {"fwdflat": False, "bestpath": False}


def word_decoder(**options: Any):  # noqa: ANN201 - pocketsphinx.Decoder
    """The en-us acoustic model with the CMU dictionary; `options` add beams, passes and so on."""
    import pocketsphinx as ps

    model = ps.get_model_path
    return ps.Decoder(ps.Config(hmm=model("en-us/en-us"), dict=model("en-us/cmudict-en-us.dict"), lm=None,
                                samprate=SAMPLE_RATE, loglevel="FATAL", **options))


def phone_loop():  # noqa: ANN201 - pocketsphinx.Decoder
    """Free phone recognition: the best phones the audio allows, for how well a script fits it."""
    import pocketsphinx as ps

    model = ps.get_model_path
    return ps.Decoder(ps.Config(hmm=model("en-us/en-us"), allphone=model("en-us/en-us-phone.lm.bin"), lm=None,
                                samprate=SAMPLE_RATE, loglevel="FATAL", bestpath=False, **LOOP_BEAMS))


# Every decoder a process uses, by role: the word check's grammar decoder, the phone loop (the
# yardstick of both the check and the aligner), and the aligner's two passes (as recorded; the
# second decodes the audio with its pauses cut out).
MAKERS: dict[str, Callable[[], Any]] = {
    "check": lambda: word_decoder(bestpath=False, fwdflat=False, **CHECK_BEAMS, **NO_PAUSES),
    "loop": phone_loop,
    "align": lambda: word_decoder(**ALIGN_BEAMS, **ALIGN_PASSES),
    "align-squeezed": lambda: word_decoder(**ALIGN_BEAMS, **ALIGN_PASSES, **NO_PAUSES),
}
_DECODERS: dict[str, Any] = {}  # this process's decoders (a worker runs one task at a time)


def decoder(role: str):  # noqa: ANN201 - pocketsphinx.Decoder
    """This process's decoder for `role`, made on first use."""
    if role not in _DECODERS:
        _DECODERS[role] = MAKERS[role]()
    return _DECODERS[role]


def load_all() -> None:
    """The pool's initializer: make every decoder now, so the first request does not wait for them.
    Never raises (an initializer that raises breaks the whole pool): a decoder that cannot be made
    fails the task that needs it, with its reason."""
    for role in MAKERS:
        try:
            decoder(role)
        except Exception as exc:
            log.warning("pocketsphinx %s decoder not made: %s", role, exc)


def decoder_pool(settings: Settings) -> ProcessPool:
    """The process's pool of decoder processes (shared by the word check and the aligner)."""
    return shared_pool(POOL_NAME, settings.decoder_processes, load_all)
