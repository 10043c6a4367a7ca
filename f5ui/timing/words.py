"""Script words: tokenizing, mapping recognized words onto them, filling the gaps.

The script is the source of truth: every word of it comes out with a time, in
order. Backends give times for some words (all of them, ideally); the rest are
interpolated between their timed neighbours and flagged, never dropped.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ..schema import ChunkHint, WordTiming
from .errors import BackendFailed

# Symbols that are spoken ("&" → "and", "%" → "percent"): they are words, not punctuation.
SPOKEN_SYMBOLS = set("&%$€£¥@#+=§°")
# Scripts written without spaces: every character is a word for timing purposes.
_NO_SPACE_CHARS = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana and CJK ideographs
_PIECES = re.compile(f"[{_NO_SPACE_CHARS}]|[^{_NO_SPACE_CHARS}]+")

INTERPOLATED_CONFIDENCE = 0.1
MIN_WORD_SECONDS = 0.05


@dataclass
class Token:
    text: str  # display form, punctuation attached: "nature,"
    norm: str  # matching form: "nature"
    start_char: int  # span in the script (of the word itself, without attached punctuation-only tokens)
    end_char: int

    @property
    def weight(self) -> int:
        """Rough spoken length, for proportional splits (a digit says more than a letter)."""
        return max(1, sum(3 if ch.isdigit() else 1 for ch in self.norm))


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") and ch not in SPOKEN_SYMBOLS


def normalize(word: str) -> str:
    """Lower-case matching form: NFKC, straight apostrophes, outer punctuation stripped."""
    word = unicodedata.normalize("NFKC", word).casefold().replace("\u2019", "'").replace("\u2018", "'")
    start, end = 0, len(word)
    while start < end and _is_punctuation(word[start]):
        start += 1
    while end > start and _is_punctuation(word[end - 1]):
        end -= 1
    return word[start:end]


def tokenize(script: str) -> list[Token]:
    """Words of the script. Punctuation-only pieces ("—", "...") are not words: they
    are attached to the previous word's display text (or the next one at the start)."""
    tokens: list[Token] = []
    pending = ""  # punctuation seen before the first word
    for chunk in re.finditer(r"\S+", script):
        for piece in _PIECES.finditer(chunk.group()):
            text = piece.group()
            begin = chunk.start() + piece.start()
            glue = " " if piece.start() == 0 else ""
            if all(_is_punctuation(ch) for ch in text):
                if tokens:
                    tokens[-1].text += glue + text
                else:
                    pending += text + " "
                continue
            tokens.append(Token(pending + text, normalize(text), begin, begin + len(text)))
            pending = ""
    return tokens


Timed = tuple[float, float, float] | None  # (start, end, confidence) or None: not timed by the backend


def map_recognized(tokens: Sequence[Token], recognized: Sequence[tuple[str, float, float, float]]
                   ) -> tuple[list[Timed], list[bool], float]:
    """Map recognized words (word, start, end, confidence) onto the script by sequence
    alignment. Returns per-token times (None where nothing matched), per-token
    'interpolated' flags, and the share of script words recognized exactly."""
    script = [t.norm for t in tokens]
    heard = [normalize(w) for w, *_ in recognized]
    times: list[Timed] = [None] * len(tokens)
    flags = [False] * len(tokens)
    matched = 0
    matcher = difflib.SequenceMatcher(a=script, b=heard, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                _, s, e, c = recognized[j1 + k]
                times[i1 + k] = (float(s), float(e), float(c))
            matched += i2 - i1
        elif op == "replace" and i2 - i1 == j2 - j1:
            # Same number of words, heard differently ("3" vs "three"): the positions are
            # right, the identity is not certain, so halve the confidence.
            for k in range(i2 - i1):
                _, s, e, c = recognized[j1 + k]
                times[i1 + k] = (float(s), float(e), 0.5 * float(c))
        elif op == "replace":
            # Split the heard span over the script words by their length; flagged.
            lo, hi = float(recognized[j1][1]), float(recognized[j2 - 1][2])
            conf = min(float(recognized[j][3]) for j in range(j1, j2)) * 0.5
            for k, (s, e) in enumerate(_split(lo, hi, [tokens[i].weight for i in range(i1, i2)])):
                times[i1 + k] = (s, e, conf)
                flags[i1 + k] = True
        # "delete" (script words not heard) stay None and get interpolated; "insert" (extra
        # heard words) are ignored.
    ratio = matched / len(tokens) if tokens else 0.0
    return times, flags, ratio


def _split(lo: float, hi: float, weights: Sequence[int]) -> list[tuple[float, float]]:
    total = float(sum(weights)) or 1.0
    out, acc = [], 0.0
    for w in weights:
        s = lo + (hi - lo) * acc / total
        acc += w
        out.append((s, lo + (hi - lo) * acc / total))
    return out


def finalize(tokens: Sequence[Token], times: Sequence[Timed], duration: float,
             interpolated: Sequence[bool] | None = None) -> list[WordTiming]:
    """One WordTiming per token: untimed words filled between their neighbours
    (flagged), then times made monotonic, non-overlapping and inside [0, duration]."""
    if len(times) != len(tokens):
        raise ValueError("one time slot per token is needed")
    known = [i for i, t in enumerate(times) if t is not None]
    if not known:
        raise BackendFailed("no word of the script could be timed")
    slots: list[list] = [[t[0], t[1], t[2], bool(interpolated[i]) if interpolated else False] if t else None
                         for i, t in enumerate(times)]
    # Speaking rate of the timed words, used to size runs at the edges.
    spoken = sum(max(0.0, slots[i][1] - slots[i][0]) for i in known)
    per_unit = min(0.2, max(0.03, spoken / sum(tokens[i].weight for i in known)))

    i = 0
    while i < len(slots):
        if slots[i] is not None:
            i += 1
            continue
        j = i
        while j < len(slots) and slots[j] is None:
            j += 1
        weights = [tokens[k].weight for k in range(i, j)]
        need = per_unit * sum(weights)
        prev = slots[i - 1] if i > 0 else None
        nxt = slots[j] if j < len(slots) else None
        if prev and nxt:
            lo, hi = prev[1], nxt[0]
            deficit = MIN_WORD_SECONDS * (j - i) - (hi - lo)
            if deficit > 0:  # no room (e.g. the aligner gave the sound to a neighbour): take some back
                lo = max((prev[0] + prev[1]) / 2, lo - deficit / 2)
                hi = min((nxt[0] + nxt[1]) / 2, hi + deficit / 2)
                prev[1], nxt[0] = min(prev[1], lo), max(nxt[0], hi)
        elif nxt:
            hi = nxt[0]
            lo = max(0.0, hi - need)
        else:
            lo = prev[1]
            hi = min(duration, lo + need)
        for k, (s, e) in enumerate(_split(lo, hi, weights)):
            slots[i + k] = [s, e, INTERPOLATED_CONFIDENCE, True]
        i = j

    words: list[WordTiming] = []
    floor = 0.0
    for tok, (s, e, c, interp) in zip(tokens, slots):
        s = min(max(round(float(s), 3), floor, 0.0), duration)
        e = min(max(round(float(e), 3), s), duration)
        words.append(WordTiming(tok.text, s, e, min(1.0, max(0.0, float(c))), interp))
        floor = e
    return words


def _chunk_of_tokens(tokens: Sequence[Token], hints: Sequence[ChunkHint]) -> list[int]:
    """Index of the chunk each script word was generated in (by sequence alignment of the chunk texts)."""
    chunk_norms: list[str] = []
    owner: list[int] = []
    for k, (text, _s, _e) in enumerate(hints):
        for tok in tokenize(text):
            chunk_norms.append(tok.norm)
            owner.append(k)
    result: list[int | None] = [None] * len(tokens)
    matcher = difflib.SequenceMatcher(a=[t.norm for t in tokens], b=chunk_norms, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("equal", "replace"):
            for k in range(i2 - i1):
                result[i1 + k] = owner[min(j1 + k, j2 - 1)] if j2 > j1 else None
    last = 0
    for i, r in enumerate(result):  # unmatched words stay with the chunk before them
        if r is None:
            result[i] = last
        last = result[i]
    return [int(r) for r in result]


def group_by_chunk(tokens: Sequence[Token], hints: Sequence[ChunkHint] | None,
                   duration: float) -> list[tuple[float, float, list[int]]]:
    """(start, end, token indices) per generated chunk that owns words, inside [0, duration]; one
    group for the whole audio when there are no (usable) hints."""
    usable = [h for h in (hints or []) if float(h[2]) > float(h[1])]
    if not usable:
        return [(0.0, duration, list(range(len(tokens))))]
    owners = _chunk_of_tokens(tokens, usable)
    groups = []
    for k, (_text, start, end) in enumerate(usable):
        members = [i for i, owner in enumerate(owners) if owner == k]
        if members:
            groups.append((max(0.0, float(start)), min(duration, float(end)), members))
    return groups
