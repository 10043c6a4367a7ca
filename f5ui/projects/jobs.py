"""A segment's job: which voice says it, and with which settings. From the most specific down: the
segment's own tag (`{"name", "seed", "speed"}`) or chosen seed, the speaker's settings, the
project's settings. Every job has a seed (the project's base seed plus the segment's position, or a
random one) so that its take can be made again exactly. For subtitle projects the speed is raised,
within F5UI_DUB_MAX_SPEED, until the speech fits its cue: F5-TTS's output length follows from the
text, the reference and the speed, so it is known before anything is generated."""

from __future__ import annotations

import random
from typing import Any

from ..audio import probe_audio
from ..config import Settings
from ..engine.chunking import chunk_spans, plan_chunks
from ..engine.synthesis import MAX_SEED, MAX_TAKES, RANGES
from ..engine.voices import VoiceLibrary
from ..errors import InputError
from ..schema import GenerationParams, PreparedReference
from .makers import SegmentJob
from .records import Project, Segment

PARAMS = ("speed", "nfe_step", "cfg_strength", "cross_fade", "seed", "max_takes", "normalize_loudness")
SPEAKER_FIELDS = ("voice", "speed", "seed")
FIT_ROUNDS = 4


def _number(name: str, value: Any, low: float, high: float, integer: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)) \
            or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise InputError(f"{name} = {value!r} is out of range.", f"Use {kind} from {low} to {high}.")
    return value


def check_params(params: Any) -> dict[str, Any]:
    """The project's generation settings (any subset of PARAMS), checked; defaults fill the rest."""
    if params in (None, ""):
        params = {}
    if not isinstance(params, dict):
        raise InputError("The project settings must be a JSON object.", f"Use keys among: {', '.join(PARAMS)}.")
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise InputError(f"Unknown project settings: {', '.join(map(str, unknown))[:200]}.",
                         f"Use keys among: {', '.join(PARAMS)}.")
    defaults = GenerationParams()
    out: dict[str, Any] = {name: getattr(defaults, name) for name in PARAMS}
    for name in ("speed", "nfe_step", "cfg_strength", "cross_fade"):
        if params.get(name) is not None:
            low, high, _ = RANGES[name]
            out[name] = _number(name, params[name], low, high, integer=name == "nfe_step")
    if params.get("seed") is not None and params.get("seed") != -1:
        out["seed"] = _number("seed", params["seed"], 0, MAX_SEED, integer=True)
    if params.get("max_takes") is not None:
        out["max_takes"] = _number("max_takes", params["max_takes"], 0, MAX_TAKES, integer=True)
    if params.get("normalize_loudness") is not None:
        if not isinstance(params["normalize_loudness"], bool):
            raise InputError("normalize_loudness must be true or false.", "Send a JSON boolean.")
        out["normalize_loudness"] = params["normalize_loudness"]
    return out


def check_speakers(speakers: Any) -> dict[str, dict[str, Any]]:
    """Per-speaker settings: {"Alice": {"voice": "Emma", "speed": 1.1, "seed": 7}, ...}, checked."""
    if speakers in (None, ""):
        return {}
    if not isinstance(speakers, dict) or len(speakers) > 200:
        raise InputError("The speakers must be a JSON object of at most 200 speakers.",
                         'Write e.g. {"Alice": {"voice": "Emma", "speed": 1.1, "seed": 7}}.')
    out: dict[str, dict[str, Any]] = {}
    for name, options in speakers.items():
        label = " ".join(str(name).split())[:64]
        if not isinstance(options, dict) or set(options) - set(SPEAKER_FIELDS):
            raise InputError(f"The settings of speaker {label!r} are not an object of {', '.join(SPEAKER_FIELDS)}.",
                             'Write e.g. {"voice": "Emma", "speed": 1.1, "seed": 7}.')
        entry: dict[str, Any] = {}
        if options.get("voice") not in (None, ""):
            if not isinstance(options["voice"], str):
                raise InputError(f"The voice of speaker {label!r} must be a saved voice's name.", "Send a string.")
            entry["voice"] = " ".join(options["voice"].split())[:64]
        if options.get("speed") is not None:
            entry["speed"] = _number(f"{label}'s speed", options["speed"], *RANGES["speed"][:2])
        if options.get("seed") is not None:
            entry["seed"] = _number(f"{label}'s seed", options["seed"], 0, MAX_SEED, integer=True)
        out[label] = entry
    return out


def voice_for(project: Project, speaker: str) -> str:
    """The saved voice that speaks for `speaker` ('' is the untagged text: the default voice)."""
    mapped = project.speakers.get(speaker, {}).get("voice") if speaker else None
    return mapped or speaker or project.default_voice


def build_job(project: Project, segment: Segment, voices: VoiceLibrary, settings: Settings,
              seed: int | None = None) -> SegmentJob:
    """The job of `segment` (with `seed` instead of its own, when given). InputError when its voice is
    gone (deleted or renamed since the project was made)."""
    p = project.params
    options = project.speakers.get(segment.speaker, {}) if segment.speaker else {}
    voice = voices.get(voice_for(project, segment.speaker))
    speed = segment.speed or options.get("speed") or p.get("speed", 1.0)
    speed = min(max(speed, RANGES["speed"][0]), RANGES["speed"][1])
    if seed is None:
        seed = next((s for s in (segment.seed, options.get("seed")) if s is not None), None)
    if seed is None:
        base = p.get("seed")
        seed = (base + segment.position) % (MAX_SEED + 1) if base is not None else random.randint(0, MAX_SEED)
    cross_fade = p.get("cross_fade", GenerationParams.cross_fade)
    if project.timed and segment.cue_start is not None and segment.cue_end is not None:
        speed, _fits = fit_speed(voice.reference(), segment.text, segment.cue_end - segment.cue_start, speed,
                                 max(speed, settings.dub_max_speed), cross_fade)
    params = GenerationParams(speed=speed, nfe_step=p.get("nfe_step", 32), cfg_strength=p.get("cfg_strength", 2.0),
                              cross_fade=cross_fade, seed=seed, remove_silence=False,
                              max_takes=p.get("max_takes", 0), normalize_loudness=p.get("normalize_loudness", False))
    return SegmentJob(project.id, segment.id, segment.text, voice.name, params, project.language)


def planned_seconds(reference: PreparedReference, text: str, speed: float, cross_fade: float) -> float:
    """How long F5-TTS's speech of `text` will be (its duration rule, chunk by chunk, cross-faded)."""
    info = probe_audio(reference.audio_path)
    samples = int(round((info.duration or reference.duration) * info.sample_rate))
    chunks = plan_chunks(samples, info.sample_rate, reference.text, text, speed)
    spans = chunk_spans(samples, info.sample_rate, reference.text, chunks, speed, cross_fade)
    return spans[-1][2] if spans else 0.0


def fit_speed(reference: PreparedReference, text: str, cue_seconds: float, speed: float, max_speed: float,
              cross_fade: float) -> tuple[float, bool]:
    """The speed (≥ `speed`, ≤ `max_speed`) at which the speech fits `cue_seconds`, and whether it does."""
    max_speed = min(max_speed, RANGES["speed"][1])
    planned = planned_seconds(reference, text, speed, cross_fade)
    rounds = 0
    while planned > cue_seconds and speed < max_speed and rounds < FIT_ROUNDS:
        speed = min(max_speed, speed * planned / cue_seconds * 1.02)  # chunking moves with the speed: a margin
        planned = planned_seconds(reference, text, speed, cross_fade)
        rounds += 1
    return round(speed, 3), planned <= cue_seconds
