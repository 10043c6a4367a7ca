"""Settings: every option is declared once here, read from the environment, and
optionally overridden by a CLI flag. The README table, `--help` and a test that
fails on an undocumented setting all read `SETTINGS`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

DEFAULT_CKPT = "hf://SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors"


@dataclass(frozen=True)
class Setting:
    name: str  # attribute on Settings
    env: str  # environment variable
    default: Any
    doc: str
    parse: Callable[[str], Any] = str
    cli: str | None = None  # CLI flag, for the common ones


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


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "F5UI_HOST", "127.0.0.1", "Interface to listen on (0.0.0.0 in containers).", str, "--host"),
    Setting("port", "F5UI_PORT", 7860, "HTTP port.", int, "--port"),
    Setting("model", "F5UI_MODEL", "F5TTS_v1_Base",
            "Name of the f5-tts model config (a yaml under f5_tts/configs) that gives the architecture.", str, "--model"),
    Setting("ckpt", "F5UI_CKPT", DEFAULT_CKPT,
            "Checkpoint: a local .safetensors/.pt path or an hf:// URL (downloaded once into the HF cache).", str, "--ckpt"),
    Setting("vocab", "F5UI_VOCAB", "",
            "Vocab file of the checkpoint; empty uses the vocab shipped with f5-tts (Emilia ZH/EN).", str, "--vocab"),
    Setting("vocoder", "F5UI_VOCODER", "",
            "Local vocos directory (config.yaml + pytorch_model.bin); empty downloads charactr/vocos-mel-24khz.",
            str, "--vocoder"),
    Setting("model_arch", "F5UI_MODEL_ARCH", {},
            "JSON object overriding fields of the config's architecture, for checkpoints of another size.",
            _json_object),
    Setting("device", "F5UI_DEVICE", "auto", "auto (cuda → mps → cpu), cuda, cuda:N, mps or cpu.", str, "--device"),
    Setting("data_dir", "F5UI_DATA_DIR", "./f5ui_data",
            "Where outputs, caches and logs are written (point it at a network volume on RunPod).", str, "--data-dir"),
    Setting("preload", "F5UI_PRELOAD", True,
            "Start loading the model in the background at launch (off: load on the first request).", parse_bool),
    Setting("max_chars", "F5UI_MAX_CHARS", 5000,
            "Longest text to generate, in characters; longer text is refused with a message.", int),
    Setting("ref_cache_size", "F5UI_REF_CACHE_SIZE", 32,
            "How many preprocessed reference voices are kept in memory (least recently used are dropped).", int),
    Setting("concurrency", "F5UI_CONCURRENCY", 1,
            "Generations that may run at once (they share one model; keep 1 on a single GPU).", int),
    Setting("aligners", "F5UI_ALIGNERS", "whisperx,google,sphinx,estimate",
            "Word-timing backends to try, in order (comma list of whisperx, google, sphinx, estimate); "
            "the first that succeeds is used, estimate is always the last resort.", str),
    Setting("language", "F5UI_LANGUAGE", "en",
            "Language of the texts (ISO 639-1), for word alignment.", str),
    Setting("whisperx_model", "F5UI_WHISPERX_MODEL", "",
            "WhisperX alignment model: a wav2vec2 CTC name or local folder; empty uses WhisperX's default "
            "for the language (downloaded once into the data dir).", str),
    Setting("google_credentials", "F5UI_GOOGLE_CREDENTIALS", "",
            "Google Cloud credentials JSON for Speech-to-Text word times; empty uses "
            "GOOGLE_APPLICATION_CREDENTIALS; neither set turns the Google aligner off.", str),
    Setting("google_endpoint", "F5UI_GOOGLE_ENDPOINT", "",
            "Speech-to-Text endpoint host:port; empty uses Google's. Prefix insecure:// for a plaintext gRPC "
            "server (local test servers), which needs no credentials.", str),
    Setting("max_align_seconds", "F5UI_MAX_ALIGN_SECONDS", 600.0,
            "Longest audio accepted for word alignment, in seconds; longer audio is refused with a message.",
            float),
    Setting("max_upload_mb", "F5UI_MAX_UPLOAD_MB", 50.0,
            "Largest file a request may upload, in MB; larger uploads are refused (HTTP 413).", float),
    Setting("retention_hours", "F5UI_RETENTION_HOURS", 24.0,
            "Generated files (audio, subtitles) and uploads older than this are deleted, in hours; 0 keeps "
            "them forever.", float),
)


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 7860
    model: str = "F5TTS_v1_Base"
    ckpt: str = DEFAULT_CKPT
    vocab: str = ""
    vocoder: str = ""
    model_arch: dict = field(default_factory=dict)
    device: str = "auto"
    data_dir: str = "./f5ui_data"
    preload: bool = True
    max_chars: int = 5000
    ref_cache_size: int = 32
    concurrency: int = 1
    aligners: str = "whisperx,google,sphinx,estimate"
    language: str = "en"
    whisperx_model: str = ""
    google_credentials: str = ""
    google_endpoint: str = ""
    max_align_seconds: float = 600.0
    max_upload_mb: float = 50.0
    retention_hours: float = 24.0

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()

    @property
    def upload_dir(self) -> Path:
        """Where uploads land: GRADIO_TEMP_DIR when the operator set it, else <data dir>/uploads. The
        server exports it as GRADIO_TEMP_DIR, so Gradio and the request file check agree."""
        configured = os.environ.get("GRADIO_TEMP_DIR")
        return Path(configured).expanduser().resolve() if configured else self.writable_dir("uploads")

    def writable_dir(self, name: str) -> Path:
        """A sub-folder of the data dir; falls back to a temp dir if the data dir is unwritable."""
        for base in (self.data_path, Path(tempfile.gettempdir()) / "f5ui_data"):
            path = base / name
            problem = write_problem(path)
            if not problem:
                return path
            log.warning("Data dir %s is not writable (%s); using a temp dir", base, problem)
        raise OSError("No writable folder for outputs")


def _check_declarations() -> None:
    declared = {s.name for s in SETTINGS}
    attrs = {f.name for f in fields(Settings)}
    if declared != attrs:  # a programming error: keep the two lists in step
        raise RuntimeError(f"SETTINGS and Settings differ: {sorted(declared ^ attrs)}")


_check_declarations()


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
