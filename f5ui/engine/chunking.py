"""Chunks of text the model can take, and where each one lands in the output.

F5-TTS generates each chunk as one sequence of mel frames: the reference's frames plus
frames for the chunk, in proportion to its length (`infer_batch_process`'s duration
rule). f5-tts's `chunk_text` splits at sentence and clause punctuation only, so one long
sentence, an unpunctuated run or CJK text without punctuation stays one chunk, and
past 8192 frames the model fails ("size of tensor a (13869) must match ... (8192)").
Here every chunk is made to fit: split further at commas, then spaces, then
characters; and a request whose plan would still not fit, or would cost far more audio
than its text can hold, is refused before the model runs."""

from __future__ import annotations

import re

from ..errors import InputError

MODEL_MAX_FRAMES = 8192  # DiT's text embedding precomputes positions for this many mel frames (~87 s)
F5_TARGET_SECONDS = 22  # infer_process sizes chunks so that reference + chunk is about this long
SHORT_CHUNK_BYTES = 10  # infer_batch_process speaks shorter chunks at speed 0.3
SHORT_CHUNK_SPEED = 0.3
MAX_REF_TEXT_CHARS = 1000
# A reference text says what the reference audio says: more than this many UTF-8 bytes per second of
# audio is more than anyone speaks (English ~15, Chinese ~4 characters = 12 bytes a second).
MAX_REF_TEXT_BYTES_PER_SECOND = 40
# Planned output longer than this per byte of text means the reference text is far shorter than its
# audio (e.g. "Hi." for 10 s of speech): the model would produce minutes of drawn-out sound.
MAX_OUTPUT_SECONDS_PER_BYTE = 0.5
MIN_OUTPUT_ALLOWANCE = 10.0  # seconds: short texts are spoken slowly by design (see SHORT_CHUNK_SPEED)
# The first chunk of a longer text is split again at a quarter of the chunk size, as f5-tts's socket
# server does for its first package: the first audio is ready (and streams) sooner. Only the first:
# every split is a join the listener may hear.
FIRST_CHUNK_SHARE = 4
MIN_FIRST_CHUNK_BYTES = 20  # ...but not into pieces so short the model slows them down (SHORT_CHUNK_BYTES)

_CLAUSES = re.compile(r"(?<=[,;:\u3001\uff0c\uff1b\uff1a\u2014])")  # after , ; : 、 ， ； ： —


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def check_reference_text(ref_text: str, ref_seconds: float) -> None:
    """A typed reference text must be one the reference audio can hold (the model reads both as one)."""
    size = _bytes(ref_text)
    if len(ref_text) > MAX_REF_TEXT_CHARS or size > MAX_REF_TEXT_BYTES_PER_SECOND * max(ref_seconds, 1.0):
        raise InputError(
            f"The reference text has {len(ref_text)} characters for {ref_seconds:.1f} s of reference audio: more "
            "than anyone says in that time.",
            "Type only the words spoken in the reference clip (F5-TTS uses at most 12 s of it), or leave the field "
            "empty to transcribe it.")


def _pack(pieces: list[str], limit: int, joiner: str) -> list[str]:
    """Pieces glued back together greedily, each result at most `limit` bytes where possible."""
    out: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{joiner}{piece}" if current else piece
        if current and _bytes(candidate) > limit:
            out.append(current)
            current = piece
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def _hard_split(text: str, limit: int) -> list[str]:
    """By characters (never inside a multi-byte one)."""
    out, current = [], ""
    for ch in text:
        if current and _bytes(current + ch) > limit:
            out.append(current)
            current = ""
        current += ch
    return [c for c in (out + [current]) if c]


def split_to_fit(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` bytes: at clause punctuation, then spaces, then characters."""
    text = text.strip()
    if _bytes(text) <= limit:
        return [text] if text else []
    for pieces, joiner in ((_CLAUSES.split(text), ""), (text.split(" "), " ")):
        pieces = [p for p in pieces if p.strip()]
        if len(pieces) > 1:
            out: list[str] = []
            for piece in _pack(pieces, limit, joiner):
                out.extend(split_to_fit(piece, limit))
            return out
    return _hard_split(text, limit)


def chunk_frames(ref_frames: int, ref_text: str, chunk: str, speed: float) -> int:
    """Mel frames `infer_batch_process` generates for `chunk` after the reference (its duration rule)."""
    local_speed = SHORT_CHUNK_SPEED if _bytes(chunk) < SHORT_CHUNK_BYTES else speed
    return int(ref_frames / _bytes(ref_text) * _bytes(chunk) / local_speed)


def padded_ref_text(ref_text: str) -> str:
    return ref_text + " " if _bytes(ref_text[-1]) == 1 else ref_text  # as infer_batch_process pads it


def _split_first(chunk: str, quarter: int) -> list[str]:
    """The first chunk as a short lead (about `quarter` bytes, at a sentence, clause or word) and the
    rest in one piece: one join more, and neither piece so short that the model slows it down."""
    from f5_tts.infer.utils_infer import chunk_text

    first = [piece for piece in chunk_text(chunk, max_chars=quarter) if piece.strip()]
    pieces = split_to_fit(first[0], quarter) + first[1:]
    lead = 1
    while lead < len(pieces) and _bytes(" ".join(pieces[:lead])) < MIN_FIRST_CHUNK_BYTES:
        lead += 1
    head, rest = " ".join(pieces[:lead]), " ".join(pieces[lead:])
    return [head, rest] if _bytes(rest) >= MIN_FIRST_CHUNK_BYTES else [chunk]


def plan_chunks(ref_samples: int, ref_sample_rate: int, ref_text: str, gen_text: str, speed: float) -> list[str]:
    """Split the text the way `infer_process` does (chunk size scales with the reference's speaking
    rate), then make every chunk fit the model; InputError when the request cannot fit."""
    from f5_tts.infer.utils_infer import chunk_text, hop_length, target_sample_rate

    ref_seconds = ref_samples / ref_sample_rate
    max_bytes = int(_bytes(ref_text) / ref_seconds * (F5_TARGET_SECONDS - ref_seconds) * speed)
    limit = max(1, max_bytes)
    chunks = [piece for chunk in chunk_text(gen_text, max_chars=max_bytes) for piece in split_to_fit(chunk, limit)]
    if len(chunks) > 1:  # at sentences first (f5's way), and a first sentence too long at clauses or words
        chunks = _split_first(chunks[0], max(MIN_FIRST_CHUNK_BYTES, max_bytes // FIRST_CHUNK_SHARE)) + chunks[1:]

    ref_frames = int(round(ref_samples * target_sample_rate / ref_sample_rate)) // hop_length
    padded = padded_ref_text(ref_text)
    frames = [chunk_frames(ref_frames, padded, chunk, speed) for chunk in chunks]
    frames_per_second = target_sample_rate / hop_length
    planned_seconds = sum(frames) / frames_per_second
    allowed = max(MIN_OUTPUT_ALLOWANCE, MAX_OUTPUT_SECONDS_PER_BYTE * _bytes(gen_text))
    # The model's sequence is the reference plus the chunk, and at least as long as their text (bytes
    # count at least the characters the tokenizer sees).
    longest = max((max(ref_frames + f, _bytes(padded + c) + 1) for f, c in zip(frames, chunks)), default=0)
    if longest > MODEL_MAX_FRAMES or planned_seconds > allowed:
        raise InputError(
            f"The reference text ({len(ref_text)} characters) is too short for its {ref_seconds:.1f} s of audio: "
            f"the model would stretch this text over {planned_seconds:.0f} s.",
            "Type every word spoken in the reference clip, or leave the field empty to transcribe it.")
    return chunks


def chunk_spans(ref_samples: int, ref_sample_rate: int, ref_text: str, chunks: list[str], speed: float,
                cross_fade: float) -> list[tuple[str, float, float]]:
    """Where each chunk lies in the output: the frame counts `infer_batch_process` gives each chunk
    (its duration rule, including the slow-down of very short chunks), joined with its cross-fade."""
    from f5_tts.infer.utils_infer import hop_length, target_sample_rate

    padded = padded_ref_text(ref_text)
    ref_frames = int(round(ref_samples * target_sample_rate / ref_sample_rate)) // hop_length
    spans, cursor = [], 0
    for chunk in chunks:
        length = chunk_frames(ref_frames, padded, chunk, speed) * hop_length
        if spans:
            overlap = min(int(cross_fade * target_sample_rate), length, spans[-1][2] - spans[-1][1])
            cursor -= max(overlap, 0)
        spans.append((chunk, cursor, cursor + length))
        cursor += length
    return [(text, start / target_sample_rate, end / target_sample_rate) for text, start, end in spans]
