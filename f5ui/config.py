"""Settings: every option is declared once, as a field of `Settings` (type, default, variable,
documentation, CLI flag), read from the environment and optionally overridden by a CLI flag.
`SETTINGS` is derived from those fields; the README table, `--help` and the tests read it."""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_CKPT = "hf://SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors"


def parse_bool(value: str | None) -> bool:
    """How every on/off variable is read (ours and HF_HUB_OFFLINE alike)."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def write_problem(folder: Path) -> str:
    """Why `folder` cannot be written ('' when it can): create it and write a probe file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
        return ""
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"


def _json_object(value: str) -> dict:
    value = value.strip()
    if not value:
        return {}
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError("must be a JSON object, e.g. '{\"depth\": 22}'")
    return parsed


@dataclass(frozen=True)
class Setting:
    """One option as documented: the README table, `--help` and the environment reader use these."""

    name: str  # attribute on Settings
    env: str  # environment variable
    default: Any
    doc: str
    parse: Callable[[str], Any]
    cli: str | None = None  # CLI flag, for the common ones


def setting(env: str, default: Any, doc: str, cli: str | None = None, parse: Callable[[str], Any] | None = None) -> Any:
    """A Settings field with its variable, documentation and parser (from the default's type unless given)."""
    reader = parse or {bool: parse_bool, int: int, float: float, str: str, dict: _json_object}[type(default)]
    meta = {"env": env, "doc": doc, "cli": cli, "parse": reader}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Settings:
    """Every option, declared once: its type, default, variable, documentation and CLI flag."""

    host: str = setting("F5UI_HOST", "127.0.0.1", "Interface to listen on (0.0.0.0 in containers).", "--host")
    port: int = setting("F5UI_PORT", 7860, "HTTP port.", "--port")
    model: str = setting("F5UI_MODEL", "F5TTS_v1_Base", "Name of the f5-tts model config (a yaml under "
                         "f5_tts/configs) that gives the architecture.", "--model")
    ckpt: str = setting("F5UI_CKPT", DEFAULT_CKPT, "Checkpoint: a local .safetensors/.pt path or an hf:// URL "
                        "(downloaded once into the HF cache).", "--ckpt")
    vocab: str = setting("F5UI_VOCAB", "", "Vocab file of the checkpoint; empty uses the vocab shipped with f5-tts "
                         "(Emilia ZH/EN).", "--vocab")
    vocoder: str = setting("F5UI_VOCODER", "", "Local vocos directory (config.yaml + pytorch_model.bin); empty "
                           "downloads charactr/vocos-mel-24khz.", "--vocoder")
    model_arch: dict = setting("F5UI_MODEL_ARCH", {}, "JSON object overriding fields of the config's architecture, "
                               "for checkpoints of another size.")
    device: str = setting("F5UI_DEVICE", "auto", "auto (cuda → mps → cpu), cuda, cuda:N, mps or cpu.", "--device")
    precision: str = setting("F5UI_PRECISION", "auto", "Model precision: auto (f5-tts's choice: fp16 on CUDA GPUs of "
                             "compute capability 7+, else fp32), fp32, fp16 or bf16 (CUDA; falls back to fp16 where "
                             "unsupported). The vocoder stays fp32.", "--precision")
    compile: bool = setting("F5UI_COMPILE", False, "torch.compile the transformer (CUDA; the first chunks compile, "
                            "later ones run faster).")
    data_dir: str = setting("F5UI_DATA_DIR", "", "Where outputs, caches, voices and logs are written; empty: "
                            "<volume>/f5ui on the first writable one of F5UI_VOLUMES, else ./f5ui_data.", "--data-dir")
    volumes: str = setting("F5UI_VOLUMES", "/runpod-volume,/workspace,/data", "Persistent volumes looked for, in "
                           "order, when F5UI_DATA_DIR is empty (RunPod serverless, RunPod pods, Hugging Face "
                           "persistent storage).")
    storage: str = setting("F5UI_STORAGE", "", "How the data dir was chosen; set at start by f5ui itself (shown "
                           "in the status panel).")
    storage_note: str = setting("F5UI_STORAGE_NOTE", "", "A warning about the data dir, set at start by f5ui "
                                "itself: no persistent volume found, or one not writable.")
    preload: bool = setting("F5UI_PRELOAD", True, "Start loading the model in the background at launch (off: load "
                            "on the first request).")
    max_chars: int = setting("F5UI_MAX_CHARS", 5000, "Longest text to generate, in characters; longer text is "
                             "refused with a message.")
    ref_cache_size: int = setting("F5UI_REF_CACHE_SIZE", 32, "How many preprocessed reference voices are kept in "
                                  "memory (least recently used are dropped).")
    concurrency: int = setting("F5UI_CONCURRENCY", 1, "Generations that may run at once (they share one model; "
                               "keep 1 on a single GPU). Every surface (UI, API, /v1) shares these slots.")
    max_queue: int = setting("F5UI_MAX_QUEUE", 64, "Requests that may wait for a slot; more are refused as busy.")
    max_wait_seconds: float = setting("F5UI_MAX_WAIT_SECONDS", 600.0, "Longest a request waits for a free slot "
                                      "before it is refused as busy, in seconds.")
    aligners: str = setting("F5UI_ALIGNERS", "whisperx,google,sphinx,estimate", "Word-timing backends to try, in "
                            "order (comma list of whisperx, google, sphinx, estimate); the first that succeeds is "
                            "used, estimate is always the last resort.")
    language: str = setting("F5UI_LANGUAGE", "en", "Language of the texts (ISO 639-1), for word alignment.")
    whisperx_model: str = setting("F5UI_WHISPERX_MODEL", "", "WhisperX alignment model: a wav2vec2 CTC name or local "
                                  "folder; empty uses WhisperX's default for the language (downloaded once into the "
                                  "data dir).")
    google_credentials: str = setting("F5UI_GOOGLE_CREDENTIALS", "", "Google Cloud credentials JSON for "
                                      "Speech-to-Text word times; empty uses GOOGLE_APPLICATION_CREDENTIALS; neither "
                                      "set turns the Google aligner off.")
    google_endpoint: str = setting("F5UI_GOOGLE_ENDPOINT", "", "Speech-to-Text endpoint host:port; empty uses "
                                   "Google's. Prefix insecure:// for a plaintext gRPC server (local test servers), "
                                   "which needs no credentials.")
    check: bool = setting("F5UI_CHECK", True, "Check every take: which words were spoken, missing, repeated or "
                          "garbled, speaker similarity and loudness (the quality report).")
    max_takes: int = setting("F5UI_MAX_TAKES", 0, "Takes of a chunk the check flags, at most, before the best is "
                             "kept; 0: 3 on a GPU, 1 on the CPU (1 turns regeneration off).", "--max-takes")
    check_asr: str = setting("F5UI_CHECK_ASR", "", "faster-whisper model for the check to also flag words said as "
                             "other words: a size (large-v3-turbo, fetched once into the data dir) or a local "
                             "CTranslate2 folder; empty: off.")
    similarity_model: str = setting("F5UI_SIMILARITY_MODEL", "", "Speaker-verification model for the similarity "
                                    "figure: a transformers x-vector model (microsoft/wavlm-base-plus-sv) or its "
                                    "folder; empty, or one that cannot load: resemblyzer.")
    loudness_target: float = setting("F5UI_LOUDNESS_TARGET", -16.0, "Integrated loudness (LUFS) a take is "
                                     "normalized to when asked.")
    max_align_seconds: float = setting("F5UI_MAX_ALIGN_SECONDS", 600.0, "Longest audio accepted for word alignment, "
                                       "in seconds; longer audio is refused with a message.")
    decoder_processes: int = setting("F5UI_DECODER_PROCESSES", 2, "Worker processes for the CPU-bound decoders "
                                     "(the word check, pocketsphinx alignment), which hold up every other request "
                                     "while they run in the server's process: one checks the take being generated, "
                                     "one serves a /check or /align meanwhile (about 150 MB each). 0 decodes in the "
                                     "server's process (for debugging: requests then wait for every decode).")
    decode_deadline: float = setting("F5UI_DECODE_DEADLINE", 0.5, "Seconds of decoding a word check or an "
                                     "alignment may spend per second of its audio (at least "
                                     "F5UI_DECODE_DEADLINE_FLOOR); past it, it answers with what it has and says so "
                                     "(words not reached: unchecked, or timed by the estimate). About 0.1 is used.")
    decode_deadline_floor: float = setting("F5UI_DECODE_DEADLINE_FLOOR", 20.0, "Seconds of decoding any word check "
                                           "or alignment may spend, however short its audio.")
    max_upload_mb: float = setting("F5UI_MAX_UPLOAD_MB", 50.0, "Largest upload, in MB: what one request carries, "
                                   "all its files together; larger uploads are refused (HTTP 413).")
    max_upload_files: int = setting("F5UI_MAX_UPLOAD_FILES", 8, "Files one upload request may carry; more are "
                                    "refused (HTTP 413).")
    upload_folder_mb: float = setting("F5UI_UPLOAD_FOLDER_MB", 2048.0, "Most the upload folder holds, in MB; the "
                                      "oldest files there are deleted to make room for a new upload.")
    retention_hours: float = setting("F5UI_RETENTION_HOURS", 24.0, "Generated files (audio, subtitles) and uploads "
                                     "older than this are deleted, in hours; 0 keeps them forever.")
    export_folder_mb: float = setting("F5UI_EXPORT_FOLDER_MB", 2048.0, "Most local exports (<data dir>/exports, "
                                      "without a bucket) may take together, in MB; an export that would pass it is "
                                      "refused with a message.")
    export_retention_hours: float = setting("F5UI_EXPORT_RETENTION_HOURS", 72.0, "Local exports older than this are "
                                            "deleted, in hours; 0 keeps them until F5UI_EXPORT_FOLDER_MB is reached.")
    header_timeout: float = setting("F5UI_HEADER_TIMEOUT", 10.0, "Seconds a request's headers may take to arrive, "
                                    "and its body may stall; slower connections are closed (HTTP 408).")
    max_connections: int = setting("F5UI_MAX_CONNECTIONS", 512, "Connections the server keeps open at once; more "
                                   "are refused (closed, or HTTP 503).")
    s3_bucket: str = setting("F5UI_S3_BUCKET", "", "S3 bucket for exports and voice sync; empty writes exports to "
                             "<data dir>/exports and offers them as downloads.")
    s3_prefix: str = setting("F5UI_S3_PREFIX", "f5ui", "Key prefix in the bucket: exports go to "
                             "{prefix}/{yyyy}/{mm}/{dd}/{id}/, voices to {prefix}/voices/.")
    s3_endpoint_url: str = setting("F5UI_S3_ENDPOINT_URL", "", "S3-compatible endpoint URL (MinIO, Cloudflare R2, "
                                   "Backblaze B2, RunPod); empty uses AWS.")
    s3_region: str = setting("F5UI_S3_REGION", "", "Region of the bucket; empty uses AWS_REGION or the AWS profile.")
    s3_addressing: str = setting("F5UI_S3_ADDRESSING", "auto", "auto (path-style with a custom endpoint, "
                                 "virtual-hosted on AWS), path or virtual.")
    s3_url_expiry: int = setting("F5UI_S3_URL_EXPIRY", 86400, "Seconds a presigned download link stays valid "
                                 "(at most 604800: 7 days).")
    s3_multipart_mb: float = setting("F5UI_S3_MULTIPART_MB", 16.0, "Files larger than this many MB are uploaded in "
                                     "parts (boto3's transfer manager).")
    s3_timeout: float = setting("F5UI_S3_TIMEOUT", 10.0, "Seconds to wait for the S3 endpoint to connect or answer; "
                                "a request gives up after 2 tries.")
    predownload: bool = setting("F5UI_PREDOWNLOAD", False, "Fetch the model into the HF cache at start, with "
                                "progress in the log: the app does it beside its server (/health answers "
                                "meanwhile), the worker's start script before the worker.")
    download_timeout: float = setting("F5UI_DOWNLOAD_TIMEOUT", 1800.0, "Seconds the F5UI_PREDOWNLOAD fetch may "
                                      "take before it is stopped (the app serves regardless).")
    worker_stream: bool = setting("F5UI_WORKER_STREAM", False, "Serverless worker: stream each job's audio in "
                                  "pieces as it is generated (a generator handler), then the result.")
    fetch_timeout: float = setting("F5UI_FETCH_TIMEOUT", 30.0, "Serverless worker: seconds to download a job's "
                                   "ref_audio URL.")
    api_key: str = setting("F5UI_API_KEY", "", "When set, every route but /health and /login needs it: "
                           "'Authorization: Bearer <key>' (the /v1 API, the Gradio API, uploads, /diagnostics), or "
                           "signing in with it once per browser session (the page). Whoever holds it is an admin.")
    users: str = setting("F5UI_USERS", "", "A file of user logins for the page, one name:role:hash line each (role "
                         "admin or user; python -m f5ui.cli user add NAME writes one). Users generate, align, check "
                         "and export; only admins save, rename, delete or sync voices. Read again when it changes.")
    public_demo: bool = setting("F5UI_PUBLIC_DEMO", False, "Visitors who are not signed in may open the page and "
                                "generate with the saved voices (no uploads, alignment, checks, exports, diagnostics "
                                "or library changes). Off, with a key or users set: they see the sign-in form.")
    session_hours: float = setting("F5UI_SESSION_HOURS", 12.0, "How long a browser stays signed in, in hours (the "
                                   "session also ends with the browser, or when the key or the password changes).")
    max_voices: int = setting("F5UI_MAX_VOICES", 200, "Most voices the library keeps; saving (or syncing in) "
                              "another is refused with a message.")
    max_voices_mb: float = setting("F5UI_MAX_VOICES_MB", 500.0, "Most disk the voice library may use, in MB; a "
                                   "save that would pass it is refused with a message.")
    project_max_chars: int = setting("F5UI_PROJECT_MAX_CHARS", 2_000_000, "Longest project (book or script), in "
                                     "characters of text; a novel is about 500,000. Longer files are refused.")
    project_max_chapters: int = setting("F5UI_PROJECT_MAX_CHAPTERS", 500, "Most chapters (headings, EPUB table-of-"
                                        "contents entries) a project may have; more are refused.")
    project_segment_chars: int = setting("F5UI_PROJECT_SEGMENT_CHARS", 300, "Longest segment of a project, in "
                                         "characters: paragraphs are split into groups of sentences up to this.")
    project_max_unpacked_mb: float = setting("F5UI_PROJECT_MAX_UNPACKED_MB", 200.0, "Largest size an uploaded "
                                             "EPUB may unpack to, in MB; larger archives are refused unread.")
    dub_max_speed: float = setting("F5UI_DUB_MAX_SPEED", 1.6, "Subtitle (.srt/.vtt) projects: the fastest a cue's "
                                   "speech is sped up to fit its cue; cues that still do not fit are listed.")
    project_autoresume: bool = setting("F5UI_PROJECT_AUTORESUME", True, "At start, continue the project runs that "
                                       "were running when the server stopped (at their first unfinished segment).")

    @property
    def data_path(self) -> Path:
        """The data dir; empty F5UI_DATA_DIR means ./f5ui_data until f5ui.hosting.apply() chose a volume."""
        return Path(self.data_dir or "./f5ui_data").expanduser().resolve()

    @property
    def upload_dir(self) -> Path:
        """Where uploads land, and the only files a request may name: <data dir>/uploads, this server's own
        folder. The server points GRADIO_TEMP_DIR here whatever it was set to: a broad folder there
        (/tmp, a home) would make every file in it usable by a request."""
        return self.writable_dir("uploads")

    def writable_dir(self, name: str) -> Path:
        """A sub-folder of the data dir; falls back to a temp dir if the data dir is unwritable."""
        for base in (self.data_path, Path(tempfile.gettempdir()) / "f5ui_data"):
            path = base / name
            problem = write_problem(path)
            if not problem:
                return path
            log.warning("Data dir %s is not writable (%s); using a temp dir", base, problem)
        raise OSError("No writable folder for outputs")


def _declared() -> tuple[Setting, ...]:
    out = []
    for f in fields(Settings):
        default = f.default_factory() if f.default is MISSING else f.default  # type: ignore[misc]
        out.append(Setting(f.name, f.metadata["env"], default, f.metadata["doc"], f.metadata["parse"],
                           f.metadata["cli"]))
    return tuple(out)


SETTINGS: tuple[Setting, ...] = _declared()


def from_env(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from environment variables; bad values keep the default with a warning."""
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = environ.get(s.env)
        if raw is None or raw == "":
            continue
        try:
            values[s.name] = s.parse(raw)
        except ValueError as exc:
            log.warning("Ignoring %s=%r (%s); using the default %r", s.env, raw, exc, s.default)
    known = {s.env for s in SETTINGS}
    for key in environ:
        if key.startswith("F5UI_") and key not in known:
            log.warning("Unknown setting %s (known: %s)", key, ", ".join(sorted(known)))
    return Settings(**values)


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    for s in SETTINGS:
        if s.cli is None:
            continue
        kwargs: dict[str, Any] = {"dest": s.name, "default": None, "help": f"{s.doc} [env {s.env}]"}
        if s.parse is parse_bool:
            kwargs["action"] = "store_const"
            kwargs["const"] = True
        else:
            kwargs["type"] = s.parse
        parser.add_argument(s.cli, **kwargs)


def from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """Environment first, then CLI flags that were given."""
    settings = from_env(environ)
    for s in SETTINGS:
        value = getattr(args, s.name, None)
        if s.cli is not None and value is not None:
            setattr(settings, s.name, value)
    return settings


def markdown_table() -> str:
    """The configuration table of the README."""
    rows = ["| Variable | CLI flag | Default | Meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = json.dumps(s.default) if isinstance(s.default, dict) else f"{s.default}"
        rows.append(f"| `{s.env}` | {f'`{s.cli}`' if s.cli else ''} | `{default}` | {s.doc} |")
    return "\n".join(rows)


if __name__ == "__main__":  # regenerate the README table: python -m f5ui.config
    import sys

    sys.stdout.write(markdown_table() + "\n")
