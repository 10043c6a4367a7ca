"""What pocketsphinx does inside a decoder process: the tasks the word check (check.py) and the
aligner (sphinx_backend.py) hand to the decoder pool (sphinx_models.decoder_pool). Each is a
module-level function over plain data (samples, word lists, small dataclasses), so it crosses into
a worker process and back, and each says how many seconds it decoded (the deadline counts those):
the CPU time of the decoding thread, so neither a wait for a free process nor other programs on a
busy machine count against a request."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..codecs import pcm16
from .errors import BackendFailed
from .pauses import original_time, squeeze
from .sphinx_models import decoder

SKIP_WEIGHT = 1e-12  # grammar weight of leaving a word out (vs ~1 for saying it)
REPEAT_WEIGHT = 1e-16  # ...and of saying it twice
MAX_SKIP = 3  # words in a row the check may find left out (1e-36: within the beam's 1e-80)
FRAME_RATE = 100  # frames per second (pocketsphinx default -frate)


def lookup(words: list[str]) -> list[int | None]:
    """For each word: how many phones the dictionary spells it with, or None when it lacks it."""
    dictionary = decoder("check")
    return [len(spelled.split()) if (spelled := dictionary.lookup_word(w)) else None for w in words]


# --- the word check -------------------------------------------------------------------------------
@dataclass
class Heard:
    word: str  # dictionary form
    start: float  # seconds, the original timeline
    end: float
    fit: float  # acoustic cost of the word over the free phones' cost of the same frames (garbled: high)
    frames: int  # its length in 10 ms frames


def check_grammar(script: list[str], open_end: bool = False) -> tuple[list[tuple], int]:
    """The word check's grammar as a finite-state grammar: its transitions and final state. Each
    script word, in order, said once (likely), twice, or left out (both strongly penalized), up to
    MAX_SKIP words in a row. With `open_end` the audio may stop after any word (a piece of a longer
    recording says a prefix of its window of the script).

    The shape of the JSGF rule `( w | w w | <NULL> )` per word, which the weights were measured with,
    but with bounded empty transitions: in JSGF every left-out word is an empty transition, they chain,
    and pocketsphinx closes them over every pair of words, so its search grew with the square of the
    script (15 s of speech: 1.0 s of decoding for its 46 words, 3.7 s with 60 more words to choose
    from; this grammar: about 0.25 s for either). States: word i starts at 2i and ends at 2i + 1 (where
    the skips leave from, never chaining: they land where a word starts); a repetition passes through
    its own state."""
    n, say = len(script), 1.0 - SKIP_WEIGHT - REPEAT_WEIGHT
    begin, end, final, start = (lambda i: 2 * i), (lambda i: 2 * i + 1), 2 * n + 1, 2 * n + 2
    arcs: list[tuple] = [(start, begin(0), 1.0)]
    for i, word in enumerate(script):
        arcs += [(begin(i), end(i), say, word), (begin(i), start + 1 + i, REPEAT_WEIGHT, word),
                 (start + 1 + i, end(i), 1.0, word)]
        arcs.append((end(i), begin(i + 1), 1.0) if i + 1 < n else (end(i), final, 1.0))
    for i in range(-1, n - 1):  # after word i (-1: at the start), leave out words i+1 .. i+k
        after = start if i < 0 else end(i)
        for k in range(1, MAX_SKIP + 1):
            if i + 1 + k < n:
                arcs.append((after, begin(i + 1 + k), SKIP_WEIGHT ** k))
            else:  # the last k words left out
                arcs.append((after, final, SKIP_WEIGHT ** k))
                break
        if open_end and i >= 0:
            arcs.append((after, final, 1.0))  # stop here: the rest of the window is for the next piece
    return arcs, start


def _search(dictionary, name: str, arcs: list[tuple], start: int, final: int) -> None:  # noqa: ANN001
    dictionary.add_fsg(name, dictionary.create_fsg(name, start, final, arcs))
    dictionary.activate_search(name)


def check_piece(samples: np.ndarray, offset: float, script: list[str], open_end: bool = False,
                with_fit: bool = True, keep_before: float | None = None) -> tuple[list[Heard] | None, float]:
    """The script words heard in 16 kHz `samples` (starting `offset` s into the recording), in order,
    decoded with pauses squeezed out; None when nothing of the script is there (no speech, no path).
    And the seconds it took. With `keep_before`, only the words mostly said before that time (a piece
    decoded with the start of the next one: the words on both sides of the pause between them touch
    once it is squeezed out, so which side a word is on is told by its frames, not its start)."""
    started = time.thread_time()
    squeezed, timeline = squeeze(np.asarray(samples, dtype=np.float32))
    if not len(squeezed):
        return None, time.thread_time() - started
    pcm = pcm16(squeezed)
    grammar = decoder("check")
    arcs, start = check_grammar(script, open_end)
    _search(grammar, "check", arcs, start, 2 * len(script) + 1)
    grammar.reinit_feat()  # forget the noise estimate and dither of earlier audio: the same audio, the same answer
    grammar.start_utt()
    grammar.process_raw(pcm, no_search=False, full_utt=True)
    grammar.end_utt()
    if grammar.hyp() is None:
        return None, time.thread_time() - started
    segments = []
    for seg in grammar.seg():
        word = seg.word.split("(")[0]
        if not word or word.startswith(("<", "[", "+")):  # "(NULL)" grammar nodes, fillers
            continue
        first, last = max(0, seg.start_frame), max(seg.start_frame, seg.end_frame)
        segments.append((word, first, last, -math.log(max(seg.ascore, 1e-300))))
    if keep_before is not None:
        cut = int(np.searchsorted(timeline, keep_before - offset))  # the first frame past the time
        segments = [s for s in segments if s[1] + s[2] < 2 * cut]
    loop_costs = _frame_costs(pcm, len(squeezed)) if with_fit else None
    heard = []
    for word, first, last, cost in segments:
        frames = last - first + 1
        free = float(loop_costs[first:first + frames].sum()) if loop_costs is not None else 0.0
        heard.append(Heard(word, round(offset + original_time(timeline, first), 3),
                           round(offset + original_time(timeline, last + 1), 3), cost / free if free > 0 else 1.0,
                           frames))
    return heard, time.thread_time() - started


def _frame_costs(pcm: bytes, n_samples: int) -> np.ndarray:
    """Per 10 ms frame, the acoustic cost of the best free phone sequence (the yardstick of "garbled")."""
    loop = decoder("loop")
    costs = np.zeros(n_samples // (16000 // FRAME_RATE) + 2)
    loop.reinit_feat()  # forget the noise estimate and dither of earlier audio: the same audio, the same answer
    loop.start_utt()
    loop.process_raw(pcm, no_search=False, full_utt=True)
    loop.end_utt()
    if loop.hyp() is None:
        return costs
    for seg in loop.seg():
        first, last = max(0, seg.start_frame), max(seg.start_frame, seg.end_frame)
        costs[first:last + 1] = -math.log(max(seg.ascore, 1e-300)) / (last - first + 1)
    return costs


def spoken_prefix(samples: np.ndarray, script: list[str]) -> tuple[int, float]:
    """How many words of `script`, from its start, the audio says (0: none found); and the seconds."""
    started = time.thread_time()
    squeezed, _timeline = squeeze(np.asarray(samples, dtype=np.float32))
    if not len(squeezed) or not script:
        return 0, time.thread_time() - started
    # Every word after the first is optional together with the rest: w0 [w1 [w2 ...]].
    arcs = [(i, i + 1, 1.0, w) for i, w in enumerate(script)] + [(i, len(script), 1.0) for i in range(1, len(script))]
    grammar = decoder("check")
    _search(grammar, "prefix", arcs, 0, len(script))
    grammar.reinit_feat()  # forget the noise estimate and dither of earlier audio: the same audio, the same answer
    grammar.start_utt()
    grammar.process_raw(pcm16(squeezed), no_search=False, full_utt=True)
    grammar.end_utt()
    hyp = grammar.hyp()
    return (len(hyp.hypstr.split()) if hyp is not None else 0), time.thread_time() - started


# --- forced alignment -----------------------------------------------------------------------------
@dataclass
class Aligned:
    """One piece's forced alignment: (word, start, end, probability) per dictionary word, in seconds
    of the recording; the forced path's acoustic cost and the free phones' (None: no phone path)."""

    words: list[tuple[str, float, float, float]]
    forced: float
    free: float | None
    second_pass: bool
    seconds: float


def align_piece(samples: np.ndarray, offset: float, words: list[str]) -> Aligned:
    """Forced alignment of `words` (dictionary forms) to 16 kHz `samples` starting `offset` s into the
    recording. When the first pass finds no path, a second decodes the audio with its pauses cut out
    and no silence allowed (the decoder cannot spend speech on silence then). BackendFailed when
    neither aligns."""
    started = time.thread_time()
    samples = np.asarray(samples, dtype=np.float32)
    forced, pcm, timeline = decoder("align"), pcm16(samples), None
    if not _force(forced, " ".join(words), pcm):
        squeezed, timeline = squeeze(samples)
        forced, pcm = decoder("align-squeezed"), pcm16(squeezed)
        if not len(squeezed) or not _force(forced, " ".join(words), pcm):
            raise BackendFailed("pocketsphinx could not align the transcript to the audio, with pauses "
                                "or without (does the transcript match what is said?)")
    cost = sum(-math.log(max(s.ascore, 1e-300)) for s in forced.seg())
    segments = [(s.word, s.start_frame, s.end_frame, s.prob) for s in forced.seg()
                if not (s.word.startswith("<") or s.word.startswith("[") or s.word.startswith("+"))]
    out = [(word, round(offset + _seconds(first, timeline), 3), round(offset + _seconds(last + 1, timeline), 3),
            float(prob)) for word, first, last, prob in segments]  # end_frame is inclusive
    return Aligned(out, cost, _free_cost(pcm), timeline is not None, time.thread_time() - started)


def _force(aligner, text: str, pcm: bytes) -> bool:  # noqa: ANN001 - pocketsphinx.Decoder
    try:
        aligner.set_align_text(text)
    except RuntimeError as exc:
        raise BackendFailed(f"pocketsphinx refused the text: {exc}") from exc
    aligner.reinit_feat()  # forget the noise estimate and dither of earlier audio: the same audio, the same answer
    aligner.start_utt()
    aligner.process_raw(pcm, no_search=False, full_utt=True)
    aligner.end_utt()
    return aligner.hyp() is not None


def _free_cost(pcm: bytes) -> float | None:
    """Acoustic cost of free phone recognition of the same audio (what the forced path is measured by)."""
    loop = decoder("loop")
    loop.reinit_feat()  # forget the noise estimate and dither of earlier audio: the same audio, the same answer
    loop.start_utt()
    loop.process_raw(pcm, no_search=False, full_utt=True)
    loop.end_utt()
    if loop.hyp() is None:
        return None
    return sum(-math.log(max(s.ascore, 1e-300)) for s in loop.seg())


def _seconds(frame: int, timeline) -> float:  # noqa: ANN001 - np.ndarray | None
    return frame / FRAME_RATE if timeline is None else original_time(timeline, frame)
