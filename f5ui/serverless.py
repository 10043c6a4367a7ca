"""The RunPod serverless worker: `python -m f5ui.serverless`, on the `runpod` SDK.

One process loads the model once and serves jobs with the same Studio functions the UI calls.
Job input (every field but `text` optional):

    {"text": "...", "voice": "saved voice" | null, "ref_audio": "https://..." | "data:audio/wav;base64,...",
     "ref_text": "...", "speed": 1.0, "nfe_step": 32, "cfg_strength": 2.0, "cross_fade": 0.15, "seed": 42,
     "remove_silence": false, "word_timings": true, "aligner": "auto", "export": false, "audio_format": "mp3"}

Output: {"audio_base64" (WAV) | "links" (when exporting), "seed", "chunk_seeds", "duration", "timings",
"notices"}; a failed job gives {"error": '{"error_type", "error_message", "fix", "field"}'} (RunPod takes
the error as a string: this one is JSON), never a traceback: `error_type` "InvalidInput" with `field`
naming the input at fault, else what failed ("ModelUnavailable", "Busy", "JobFailed"). `"export": true`
needs F5UI_S3_BUCKET on the endpoint: without one the job is refused before anything is generated (a
folder on the worker's disk is no use to the caller). With F5UI_WORKER_STREAM=1 the handler is a
generator: one {"chunk", "audio_base64"} per piece of audio as it is generated, then the result. The
start-up diagnostics and the model load are the worker's fitness check: a worker that cannot serve
exits at start, with the reason in its log. `--help` lists the SDK's options before anything loads."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import hosting
from .codecs import encode
from .config import Settings, from_env
from .engine.synthesis import MAX_SEED, RANGES, validate_request
from .errors import InputError, UserFacingError
from .fetch import FetchFailed, download
from .logs import configure_logging
from .retention import Retention
from .schema import ERROR, READY, GenerationParams
from .service import EXPORT_FORMATS, Studio
from .streaming import Piece
from .text import request_text

log = logging.getLogger(__name__)

FIELDS: dict[str, tuple[type, ...]] = {
    "text": (str,), "voice": (str, type(None)), "ref_audio": (str, type(None)), "ref_text": (str, type(None)),
    "speed": (int, float), "nfe_step": (int,), "cfg_strength": (int, float), "cross_fade": (int, float),
    "seed": (int, type(None)), "remove_silence": (bool,), "word_timings": (bool,), "aligner": (str,),
    "export": (bool,), "audio_format": (str,),
}
MODEL_LOAD_TIMEOUT = 900.0  # seconds the fitness check waits for the model (a first download included)
_DATA_URI = re.compile(r"data:(audio/[\w.+-]+)?(;[\w=-]+)*;base64,", re.I)
_SUFFIX = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "audio/mp3": ".mp3",
           "audio/flac": ".flac", "audio/ogg": ".ogg", "audio/webm": ".webm", "audio/mp4": ".m4a"}


class JobError(Exception):
    def __init__(self, message: str, fix: str = "", field: str | None = None, error_type: str = "") -> None:
        super().__init__(message)
        self.message, self.fix, self.field = message, fix, field
        self.error_type = error_type or ("InvalidInput" if field else "JobFailed")

    def output(self) -> dict[str, Any]:
        """RunPod takes a job's error as a string: a JSON object, in the keys RunPod's own errors use
        (error_type, error_message), plus what to do and which field; never a traceback."""
        return {"error": json.dumps({"error_type": self.error_type, "error_message": self.message,
                                     "fix": self.fix, "field": self.field})}


def parse_input(job: Any) -> dict[str, Any]:
    """The job's input, every field type-checked; JobError naming the field otherwise."""
    data = job.get("input") if isinstance(job, dict) else None
    if not isinstance(data, dict):
        raise JobError("The job has no input object.", 'Send {"input": {"text": "...", ...}}.')
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise JobError(f"Unknown input field(s): {', '.join(unknown)}.", f"Known fields: {', '.join(FIELDS)}.",
                       unknown[0])
    data = {name: value for name, value in data.items() if value is not None}  # null: the field's default
    for name, value in data.items():
        kinds = FIELDS[name]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            wanted = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            raise JobError(f"'{name}' must be {wanted}, not {type(value).__name__}.", "Fix the field's type.", name)
    if not isinstance(data.get("text"), str) or not data["text"].strip():
        raise JobError("'text' is missing or empty.", "Send the text to speak.", "text")
    if not data.get("voice") and not data.get("ref_audio"):
        raise JobError("Neither 'voice' nor 'ref_audio' was given.",
                       "Name a saved voice, or send ref_audio (an https URL or a data: URI) with ref_text.", "voice")
    for name, (low, high, hint) in RANGES.items():
        value = data.get(name)
        # NaN and infinity fail the comparison too; a 400-digit integer is compared, never converted.
        if value is not None and not low <= value <= high:
            raise JobError(f"'{name}' = {_shown(value)} is out of range.",
                           f"Use a value from {low} to {high} ({hint}).", name)
    seed = data.get("seed")
    if seed is not None and not -1 <= seed <= MAX_SEED:
        raise JobError(f"'seed' = {_shown(seed)} is out of range.", f"Use 0 to {MAX_SEED}, or -1 for a random seed.",
                       "seed")
    return data


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


FETCH_FAILED = "'ref_audio' could not be downloaded."


def fetch_reference(source: str, folder: Path, max_bytes: int, timeout: float) -> Path:
    """The reference audio of a job, saved in the upload folder: an https URL or a base64 data: URI."""
    folder.mkdir(parents=True, exist_ok=True)
    match = _DATA_URI.match(source)
    if match:
        if (len(source) - match.end()) * 3 // 4 > max_bytes:  # before decoding: the decoded size, bounded
            raise JobError(f"'ref_audio' is larger than {max_bytes / 2**20:.0f} MB.", "Send a shorter clip.",
                           "ref_audio")
        try:
            raw = base64.b64decode(source[match.end():], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise JobError("'ref_audio' is a data: URI whose base64 does not decode.", "Encode the file again.",
                           "ref_audio") from exc
        suffix = _SUFFIX.get((match.group(1) or "").lower(), ".wav")
    elif source.lower().startswith("https://"):
        raw, suffix = _fetch(source, max_bytes, timeout)
    else:
        raise JobError("'ref_audio' must be an https:// URL or a data: URI.",
                       "Upload the file somewhere reachable over https, or inline it as base64.", "ref_audio")
    if len(raw) > max_bytes:
        raise JobError(f"'ref_audio' is larger than {max_bytes / 2**20:.0f} MB.", "Send a shorter clip.", "ref_audio")
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(raw)
    return path


def _fetch(url: str, max_bytes: int, timeout: float) -> tuple[bytes, str]:
    """The URL's body and file suffix (f5ui.fetch: public addresses only, one deadline, no redirects).
    Every failure gets the same answer, so none tells which internal hosts or ports exist."""
    try:
        raw, kind = download(url, max_bytes, timeout)
    except FetchFailed as exc:
        log.info("ref_audio not downloaded: %s", exc.reason)
        raise JobError(FETCH_FAILED, f"Use a public https URL that answers 200 with at most "
                       f"{max_bytes / 2**20:.0f} MB within {timeout:g} s, without redirects or user:pass@ (a "
                       "presigned URL works), or inline the audio as a data: URI.", "ref_audio") from None
    suffix = _SUFFIX.get(kind) or (Path(url.split("?", 1)[0]).suffix.lower()[:6] or ".wav")
    return raw, suffix


class Worker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.studio = Studio(settings)  # requests may name uploads only: fetched references go there
        self.jobs_dir = settings.upload_dir / "jobs"

    # --- the fitness check ---------------------------------------------------------------------
    def fitness(self) -> None:
        """Raise (and so stop the worker at start) when it could not serve a single job."""
        from .diagnostics import diagnostics_for

        studio = self.studio
        diagnostics = diagnostics_for(studio)
        fatal = [c for c in diagnostics.run_fast() if c.status == ERROR and c.group == "model"]
        if fatal:
            raise RuntimeError("; ".join(f"{c.name}: {c.detail} Fix: {c.fix}" for c in fatal))
        studio.model.ensure_loading()
        status = studio.model.wait(MODEL_LOAD_TIMEOUT)
        if status.state != READY:
            raise RuntimeError(f"the model is not ready: {status.detail} {status.fix}".strip())
        log.info("Fitness check passed: %s", status.detail)

    # --- jobs ----------------------------------------------------------------------------------
    def _request(self, job: Any) -> tuple[dict[str, Any], Path | None, GenerationParams]:
        """The job's input and parameters, all checked before anything is fetched or generated."""
        data = parse_input(job)
        seed = data.get("seed")
        params = GenerationParams(speed=float(data.get("speed", 1.0)), nfe_step=int(data.get("nfe_step", 32)),
                                  cfg_strength=float(data.get("cfg_strength", 2.0)),
                                  cross_fade=float(data.get("cross_fade", 0.15)),
                                  seed=None if seed is None or seed < 0 else seed,
                                  remove_silence=bool(data.get("remove_silence", False)))
        try:
            validate_request(data["text"], params, self.settings.max_chars, data.get("ref_text") or "")
        except InputError as exc:  # the ranges were checked above: what is left is about the texts
            raise JobError(exc.problem, exc.fix, "ref_text" if "reference text" in exc.problem else "text") from None
        if data.get("export"):
            if self.studio.exports.kind != "s3":  # a folder on the worker's disk would be no use to the caller
                raise JobError("'export' needs an S3 bucket, and this endpoint has none (F5UI_S3_BUCKET).",
                               "Leave export off to get the audio in the answer (audio_base64), or set "
                               "F5UI_S3_BUCKET and the AWS credentials on the endpoint.", "export")
            if data.get("audio_format", "mp3") not in EXPORT_FORMATS:
                raise JobError(f"Unknown audio_format {data['audio_format']!r}.",
                               f"Use one of: {', '.join(EXPORT_FORMATS)}.", "audio_format")
        if data.get("voice"):
            try:
                self.studio.voices.get(data["voice"])
            except InputError as exc:
                raise JobError(exc.problem, exc.fix, "voice") from None
        ref = None
        if data.get("ref_audio") and not data.get("voice"):
            ref = fetch_reference(data["ref_audio"], self.jobs_dir, int(self.settings.max_upload_mb * 2**20),
                                  self.settings.fetch_timeout)
        return data, ref, params

    @staticmethod
    def _arguments(data: dict[str, Any], ref: Path | None, params: GenerationParams) -> tuple[tuple, dict]:
        """`Studio.generate`'s arguments for a job."""
        aligner = data.get("aligner", "auto")
        return ((ref, request_text(data.get("ref_text"), "ref_text"), data["text"], params),
                {"word_timings": bool(data.get("word_timings", True)),
                 "aligner": None if aligner in ("", "auto") else aligner, "voice": data.get("voice") or None})

    def _output(self, data: dict[str, Any], result) -> dict[str, Any]:  # noqa: ANN001
        timing = result.timing.alignment.to_dict() if result.timing else None
        out: dict[str, Any] = {"seed": result.seed, "chunk_seeds": result.chunk_seeds,
                               "duration": round(result.duration, 3), "timings": timing, "notices": result.notices}
        if data.get("export"):
            exported = self.studio.export_result(result, data.get("audio_format", "mp3"))
            out.update(location=exported.location, links=[{"name": f.name, "url": f.url} for f in exported.files])
        else:
            out["audio_base64"] = base64.b64encode(Path(result.audio_path).read_bytes()).decode()
        return out

    def handle(self, job: Any) -> dict[str, Any]:
        ref = None
        try:
            data, ref, params = self._request(job)
            args, options = self._arguments(data, ref, params)
            return self._output(data, self.studio.generate(*args, **options))
        except Exception as exc:
            return _error_output(exc, ref)
        finally:
            if ref is not None:
                ref.unlink(missing_ok=True)

    def handle_stream(self, job: Any) -> Iterator[dict[str, Any]]:
        """Pieces of audio while the take is generated, then the result (as `handle`'s)."""
        ref = None
        try:
            data, ref, params = self._request(job)
            args, options = self._arguments(data, ref, params)
            for item in self.studio.generate_stream(*args, **options):
                if isinstance(item, Piece):
                    wav = encode(item.samples, item.sample_rate, "wav")
                    yield {"chunk": item.index, "sample_rate": item.sample_rate,
                           "audio_base64": base64.b64encode(wav).decode()}
                else:
                    yield {"done": True, **self._output(data, item.result)}
        except Exception as exc:
            yield _error_output(exc, ref)
        finally:
            if ref is not None:
                ref.unlink(missing_ok=True)


def _error_output(exc: Exception, ref: Path | None = None) -> dict[str, Any]:
    """Any failure of a job as its error object: what to fix for the caller's mistakes, never a traceback.
    The reference the worker fetched is the caller's `ref_audio`: an error about that file says so, and
    never shows the worker's own name for it."""
    if isinstance(exc, JobError):
        return exc.output()
    if isinstance(exc, UserFacingError):
        problem, fix, field = exc.problem, exc.fix, None
        if ref is not None and ref.name in f"{problem} {fix}":
            problem, fix, field = (s.replace(f"'{ref.name}'", "'ref_audio'").replace(ref.name, "ref_audio")
                                   for s in (problem, fix, "ref_audio"))
        if isinstance(exc, InputError):
            return JobError(problem, fix, field, "InvalidInput").output()
        kind = type(exc).__name__
        return JobError(problem, fix, field, "JobFailed" if kind == "UserFacingError" else kind).output()
    log.error("Job failed", exc_info=exc)
    return JobError(f"The job failed: {type(exc).__name__}.", "See the worker's log.").output()


def main() -> None:
    # Read by the SDK when it is imported: at DEBUG it would log every job's audio.
    os.environ.setdefault("RUNPOD_DEBUG_LEVEL", "INFO")
    import runpod

    # The SDK parses its options only when it starts serving: ask it now, so --help (and a bad option)
    # answers at once instead of after the model load.
    runpod.serverless.parser.description = ("f5ui's RunPod serverless worker (python -m f5ui.serverless): one job "
                                            "in, cloned speech out. Settings are F5UI_* variables (README).")
    runpod.serverless.parser.parse_known_args()
    settings = hosting.apply(from_env())  # the network volume and the caches on it
    configure_logging(settings.writable_dir("logs"))
    worker = Worker(settings)
    # Every job leaves its take in outputs/ on the volume: swept as the app sweeps them (F5UI_RETENTION_HOURS).
    Retention([worker.studio.output_dir, settings.upload_dir], settings.retention_hours).start()
    handler = worker.handle_stream if settings.worker_stream else worker.handle
    on_runpod = os.environ.get("RUNPOD_WEBHOOK_GET_JOB") is not None
    if on_runpod:
        runpod.serverless.register_fitness_check(worker.fitness)  # the SDK runs it before taking jobs
    else:  # the SDK's local modes skip fitness checks: run it here, so a broken worker fails the same way
        try:
            worker.fitness()
        except Exception as exc:
            log.error("Fitness check failed, the worker cannot serve: %s", exc)
            sys.exit(1)
    runpod.serverless.start({"handler": handler, "return_aggregate_stream": True})


if __name__ == "__main__":
    main()
