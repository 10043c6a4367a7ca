"""pocketsphinx's English decoders, configured once for the aligner and the word check: a
dictionary decoder (forced alignment or a grammar) and a free phone loop."""

from __future__ import annotations

from typing import Any

from .base import SAMPLE_RATE

# The squeezed audio (pauses cut out, timing/pauses.py) has no pauses to explain: allow no silence.
NO_PAUSES = {"silprob": 1e-20, "fillprob": 1e-20}
LOOP_BEAMS = {"beam": 1e-40, "pbeam": 1e-40, "lw": 1.0}  # lw 1: the acoustics decide, not the phone LM


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
