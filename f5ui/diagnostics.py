"""Startup diagnostics: what works, what does not, and how to fix it.

Fast checks (files, settings, PATH, package metadata) run before the UI serves;
slow checks (torch and the GPU, real imports of optional packages, the hub) run in
a background thread at startup and on refresh. The model check is computed live at
report time. The status panel, GET /health, GET /diagnostics, the `/diagnostics`
API and the startup log all read one report.

Secrets never enter a check: credential files are shown by path, keys with mask()."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import platform
import re
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .config import DEFAULT_CKPT, parse_bool, write_problem
from .engine.model_service import available_configs
from .packages import PackageProbe

if TYPE_CHECKING:  # the studio imports this module; avoid the cycle at run time
    from .service import Studio

log = logging.getLogger(__name__)

OK, WARN, ERROR, OFF = "ok", "warn", "error", "off"
STATUSES = (OK, WARN, ERROR, OFF)
# Display order of the groups in the panel and the JSON.
GROUPS = ("model", "system", "storage", "audio", "alignment", "network", "export")

HUB_TIMEOUT = 3.0  # seconds: a status check must not hang on a firewall that drops packets
LOW_DISK_BYTES = 1 << 30  # under 1 GiB free, outputs and caches may soon fail to write
LOW_VRAM_BYTES = 2 << 30  # F5-TTS v1 Base with vocos needs about 1.5 GiB while generating
MODEL_WAIT_FOR_PROBES = 120.0  # seconds the import probes wait for the model's own imports
MAX_TEXT = 500
VOCOS_REPO = "charactr/vocos-mel-24khz"

REQUIRED_PACKAGES = ("gradio", "fastapi", "torch", "torchaudio", "f5-tts", "vocos", "numpy", "soundfile")
OPTIONAL_PACKAGES = ("transformers", "huggingface-hub", "pydub", "whisperx", "pocketsphinx",
                     "google-cloud-speech", "boto3")
ALIGNER_PACKAGES = {"whisperx": "whisperx", "google": "google-cloud-speech", "sphinx": "pocketsphinx"}

_PEM = re.compile(r"-----BEGIN [A-Z ]*-----.*?(?:-----END [A-Z ]*-----|$)", re.S)


def mask(secret: str | None) -> str:
    """Show which secret is configured without revealing it: its first 4 characters and '…'
    (only '…' for values too short to keep 4 characters hidden safely)."""
    if not secret:
        return ""
    return f"{secret[:4]}…" if len(secret) > 8 else "…"


def _one_line(text: str) -> str:
    # A key pasted into a setting or an error message must not reach a check in clear text.
    text = _PEM.sub("[key removed]", str(text))
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


@dataclass(frozen=True)
class Check:
    """One line of the report. Anything not ok carries a concrete fix."""

    name: str
    group: str
    status: str  # ok | warn | error | off
    detail: str  # one line
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"check {self.name!r}: status must be one of {STATUSES}, not {self.status!r}")
        object.__setattr__(self, "detail", _one_line(self.detail))
        object.__setattr__(self, "fix", _one_line(self.fix))
        if self.status != OK and not self.fix:
            raise ValueError(f"check {self.name!r} is {self.status} and needs a fix hint")

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# --- helpers -------------------------------------------------------------------------

def _version(dist: str) -> str | None:
    """Installed version from package metadata (does not import the package)."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _find(module: str) -> bool:
    """Whether a module is installed, without importing it (parents are imported: namespaces, cheap)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken parent package, or a module blocked in sys.modules
        return False


def hub_offline() -> str:
    """The variable that makes the hub offline ('' when online), read now (tests and operators change it)."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if parse_bool(os.environ.get(name)):
            return name
    return ""


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, resolved the way huggingface_hub does, from the current environment."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def _cached_on_hub(repo_id: str, filename: str) -> str | None:
    """Path of a hub file in the local cache, or None (never contacts the hub)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, cache_dir=str(hf_cache_dir()))
    return found if isinstance(found, str) else None


def _split_hf_url(url: str) -> tuple[str, str]:
    """hf://owner/repo/path/in/repo → (owner/repo, path/in/repo), as cached_path reads it."""
    parts = url[len("hf://"):].split("/")
    return "/".join(parts[:2]), "/".join(parts[2:])


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def _is_under(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def _aligner_fix(name: str, reason: str, data_path: Path) -> str:
    package = ALIGNER_PACKAGES.get(name, name)
    if "cannot be imported" in reason:
        return (f"Reinstall it in the app's environment: pip install --force-reinstall {package} "
                "(meanwhile the next aligner in F5UI_ALIGNERS times the words).")
    if "punkt" in reason:  # nltk data "is not installed": check before the package case
        return f"python -m nltk.downloader -d {data_path / 'nltk_data'} punkt_tab"
    if "not installed" in reason:
        return f"pip install {package} (the pinned requirements include it); the next aligner is used meanwhile."
    if "credentials" in reason:
        return "Set F5UI_GOOGLE_CREDENTIALS (or GOOGLE_APPLICATION_CREDENTIALS) to a service-account JSON file."
    if "English" in reason:
        return "Set F5UI_LANGUAGE=en for pocketsphinx, or rely on another aligner for this language."
    if "F5UI_ALIGNERS" in reason:
        return f"Add {name} to F5UI_ALIGNERS to use it."
    return "The next aligner in F5UI_ALIGNERS is used; see the detail and the log."


# --- the checks ----------------------------------------------------------------------

class Diagnostics:
    """Checks for one studio. Thread-safe: the background thread and requests share it."""

    def __init__(self, studio: "Studio") -> None:
        self.studio = studio
        self._lock = threading.Lock()
        self._fast: list[Check] | None = None
        self._slow: dict[str, Check] = {}  # by name: a newer result replaces the older one
        self._pending: list[str] = []  # slow steps not finished in the current run
        self._thread: threading.Thread | None = None
        self.slow_runs = 0

    # --- running -------------------------------------------------------------------
    def run_fast(self, log_results: bool = True) -> list[Check]:
        """The checks that need no heavy import: run before the UI serves (milliseconds)."""
        checks: list[Check] = []
        for step in (self._python, self._packages, self._f5tts, self._model_config, self._checkpoint,
                     self._vocab, self._vocoder, self._ffmpeg, self._data_dir, self._hf_cache,
                     self._google_credentials, self._boto3_installed):
            checks.extend(self._safely(step))
        with self._lock:
            self._fast = checks
        if log_results:
            for check in checks:
                _log_check(check)
        return checks

    def run_slow(self) -> list[Check]:
        """Torch and the GPU, the aligners (with real imports), boto3 and the hub. Seconds: call
        it from a background thread (start_background) unless a caller wants to wait."""
        steps: list[tuple[str, Callable[[], list[Check]]]] = [
            ("aligners", self._aligners), ("torch", self._torch_and_gpu), ("hub", self._hub),
            ("imports", self._import_probes), ("whisperx model", self._whisperx_model),
            ("google key", self._google_key)]
        with self._lock:
            self._pending = [name for name, _ in steps]
        results: dict[str, Check] = {}
        for name, step in steps:
            checks = self._safely(step)
            with self._lock:
                self._slow.update((check.name, check) for check in checks)
                self._pending.remove(name)
            for check in checks:
                if results.get(check.name) != check:  # the import probes repeat unchanged aligner rows
                    _log_check(check)
                results[check.name] = check
        with self._lock:
            self.slow_runs += 1
        return list(results.values())

    def start_background(self) -> bool:
        """Run the slow checks in a daemon thread; False when a run is already going."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(target=self.run_slow, name="f5ui-diagnostics", daemon=True)
            self._thread.start()
            return True

    def refresh(self) -> None:
        """Fast checks again now, slow ones in the background (the panel's Refresh button)."""
        self.run_fast(log_results=False)
        self.start_background()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background run; True when none is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not (thread is not None and thread.is_alive())

    @property
    def running(self) -> bool:
        return bool(self._pending)

    def _safely(self, step: Callable[[], list[Check]]) -> list[Check]:
        # A broken check must never take the status panel (or start-up) down with it.
        name = step.__name__.strip("_").replace("_", " ")
        try:
            return step()
        except Exception as exc:
            log.exception("diagnostic check %s raised", name)
            return [Check(name, "system", WARN, f"The check itself failed: {type(exc).__name__}: {exc}",
                          "See the log for the traceback and report it.")]

    # --- reporting -----------------------------------------------------------------
    def checks(self) -> list[Check]:
        """Every check, the model's computed now, in group order. A slow result replaces the fast
        check of the same name (boto3 installed → boto3 imports)."""
        if self._fast is None:
            self.run_fast()
        merged: dict[str, Check] = {}
        with self._lock:
            for check in (self.model_check(), *(self._fast or []), *self._slow.values()):
                merged[check.name] = check
        return sorted(merged.values(), key=lambda c: GROUPS.index(c.group) if c.group in GROUPS else len(GROUPS))

    def report(self) -> dict[str, Any]:
        """The full report as JSON-able data: {generated_at, summary, ready, pending, checks}."""
        checks = self.checks()
        counts = Counter(c.status for c in checks)
        return {
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "summary": {status: counts.get(status, 0) for status in STATUSES},
            "ready": self.studio.model.state == "ready",
            "pending": list(self._pending),
            "checks": [c.as_dict() for c in checks],
        }

    def health_summary(self) -> dict[str, Any]:
        """The compact form of report() for /health: counts and the names of what is wrong."""
        report = self.report()
        names = {status: [c["name"] for c in report["checks"] if c["status"] == status] for status in (ERROR, WARN)}
        return {**report["summary"], "errors": names[ERROR], "warnings": names[WARN], "pending": report["pending"]}

    # --- model (live) ----------------------------------------------------------------
    def model_check(self) -> Check:
        status = self.studio.model.status()
        if status.state == "ready":
            return Check("model", "model", OK, f"{status.detail} (loaded in {status.load_seconds} s)")
        if status.state == "loading":
            return Check("model", "model", WARN, status.detail,
                         "Wait: requests sent now wait for the load; this panel refreshes itself.")
        if status.state == "failed":
            return Check("model", "model", ERROR, status.detail,
                         status.fix or "Check the model settings and the log, then retry the load.")
        return Check("model", "model", OFF, status.detail,
                     "It loads with the first generation; set F5UI_PRELOAD=1 to load it at start.")

    # --- fast checks -------------------------------------------------------------------
    def _python(self) -> list[Check]:
        return [Check("python", "system", OK,
                      f"Python {platform.python_version()} at {sys.executable} ({platform.system()} "
                      f"{platform.machine()})")]

    def _packages(self) -> list[Check]:
        versions = {dist: _version(dist) for dist in REQUIRED_PACKAGES + OPTIONAL_PACKAGES}
        listed = ", ".join(f"{dist} {v or 'not installed'}" for dist, v in versions.items())
        missing = [dist for dist in REQUIRED_PACKAGES if versions[dist] is None]
        if missing:
            return [Check("packages", "system", ERROR, f"Required packages missing: {', '.join(missing)}. {listed}",
                          "Install the pinned requirements: .venv/bin/pip install -r requirements.txt")]
        return [Check("packages", "system", OK, listed)]

    def _f5tts(self) -> list[Check]:
        version = _version("f5-tts")
        if version is None or not _find("f5_tts"):
            return [Check("f5-tts", "model", ERROR, "f5-tts is not installed: generation cannot run.",
                          "pip install f5-tts (or the pinned requirements.txt), then restart.")]
        return [Check("f5-tts", "model", OK, f"f5-tts {version} installed")]

    def _model_config(self) -> list[Check]:
        settings = self.studio.settings
        if not _find("f5_tts"):
            return []  # the f5-tts check already says it is missing
        configs = available_configs()  # f5_tts is a namespace package: listing its files imports nothing
        arch = f" with F5UI_MODEL_ARCH={json.dumps(settings.model_arch)}" if settings.model_arch else ""
        if settings.model not in configs:
            return [Check("model config", "model", ERROR, f"F5UI_MODEL={settings.model!r} is not an f5-tts config.",
                          f"Set F5UI_MODEL to one of: {', '.join(configs)}.")]
        return [Check("model config", "model", OK, f"{settings.model}{arch}")]

    def _checkpoint(self) -> list[Check]:
        ckpt = self.studio.settings.ckpt
        if ckpt.startswith("hf://"):
            repo, filename = _split_hf_url(ckpt)
            cached = _cached_on_hub(repo, filename)
            if cached:
                return [Check("checkpoint", "model", OK, f"{ckpt} (cached at {cached})")]
            offline = hub_offline()
            if offline:
                return [Check("checkpoint", "model", ERROR,
                              f"{ckpt} is not in the HF cache ({hf_cache_dir()}) and {offline}=1 forbids downloading it.",
                              "Start once with network access (unset HF_HUB_OFFLINE) to cache it, or set F5UI_CKPT "
                              "to a local .safetensors file.")]
            size = " (about 1.3 GB)" if ckpt == DEFAULT_CKPT else ""
            return [Check("checkpoint", "model", OK, f"{ckpt}: downloaded into the HF cache on first load{size}")]
        if "://" in ckpt:
            return [Check("checkpoint", "model", OK, f"{ckpt}: downloaded by cached_path on first load")]
        path = Path(ckpt).expanduser()
        if not path.is_file():
            return [Check("checkpoint", "model", ERROR, f"F5UI_CKPT={path} does not exist.",
                          "Set F5UI_CKPT to an existing .safetensors/.pt file, or unset it to use the hub's "
                          "F5-TTS v1 Base.")]
        return [Check("checkpoint", "model", OK, f"{path} ({path.stat().st_size / 2**20:.1f} MiB)")]

    def _vocab(self) -> list[Check]:
        vocab = self.studio.settings.vocab
        if not vocab:
            return [Check("vocab", "model", OK, "the vocab shipped with f5-tts (Emilia ZH/EN)")]
        path = Path(vocab).expanduser()
        if not path.is_file():
            return [Check("vocab", "model", ERROR, f"F5UI_VOCAB={path} does not exist.",
                          "Set F5UI_VOCAB to the vocab.txt of the checkpoint, or unset it for the shipped vocab.")]
        return [Check("vocab", "model", OK, str(path))]

    def _vocoder(self) -> list[Check]:
        vocoder = self.studio.settings.vocoder
        if not vocoder:
            cached = _cached_on_hub(VOCOS_REPO, "pytorch_model.bin")
            if cached:
                return [Check("vocoder", "model", OK, f"vocos {VOCOS_REPO} (cached)")]
            offline = hub_offline()
            if offline:
                return [Check("vocoder", "model", ERROR,
                              f"vocos {VOCOS_REPO} is not in the HF cache and {offline}=1 forbids downloading it.",
                              "Start once with network access to cache it, or set F5UI_VOCODER to a local vocos "
                              "folder (config.yaml + pytorch_model.bin).")]
            return [Check("vocoder", "model", OK, f"vocos {VOCOS_REPO}: downloaded into the HF cache on first load")]
        folder = Path(vocoder).expanduser()
        missing = [name for name in ("config.yaml", "pytorch_model.bin") if not (folder / name).is_file()]
        if missing:
            return [Check("vocoder", "model", ERROR, f"F5UI_VOCODER={folder} lacks {', '.join(missing)}.",
                          "Point F5UI_VOCODER at a vocos folder with config.yaml and pytorch_model.bin, or unset it "
                          "to download charactr/vocos-mel-24khz.")]
        return [Check("vocoder", "model", OK, f"vocos from {folder}")]

    def _ffmpeg(self) -> list[Check]:
        found = shutil.which("ffmpeg")
        if found is None:
            import soundfile  # already loaded by f5ui.audio

            # What libsndfile decodes by itself still works (MP3 only from libsndfile 1.1 on).
            native = [f for f in ("WAV", "FLAC", "OGG", "MP3") if f in soundfile.available_formats()]
            return [Check("ffmpeg", "audio", WARN,
                          f"ffmpeg is not on PATH: {', '.join(native)} references work; M4A/AAC, WebM (browser "
                          "recordings) and other formats cannot be decoded.",
                          "Install ffmpeg (apt-get install ffmpeg) and restart, or upload WAV files.")]
        return [Check("ffmpeg", "audio", OK, f"ffmpeg at {found}: every common audio format is read")]

    def _data_dir(self) -> list[Check]:
        data_path = self.studio.settings.data_path
        outputs = Path(self.studio.output_dir)
        usage = shutil.disk_usage(outputs)
        free = f"{_gib(usage.free)} free of {_gib(usage.total)}"
        if not _is_under(outputs, data_path):
            # Settings.writable_dir fell back to a temp dir: only a log line says so otherwise.
            why = write_problem(data_path) or "it was not writable at start-up"
            return [Check("data dir", "storage", WARN,
                          f"F5UI_DATA_DIR={data_path} is not writable ({why}); outputs, caches and logs go to the "
                          f"temp dir {outputs.parent}, which is lost on restart ({free}).",
                          "Point F5UI_DATA_DIR at a writable folder (a mounted volume: docker run -v "
                          "f5ui-data:/data, or the RunPod network volume) and restart.")]
        if usage.free < LOW_DISK_BYTES:
            return [Check("data dir", "storage", WARN, f"{data_path}: only {free}.",
                          "Free disk space, or point F5UI_DATA_DIR at a larger volume.")]
        return [Check("data dir", "storage", OK, f"{data_path} writable, {free}")]

    def _hf_cache(self) -> list[Check]:
        cache = hf_cache_dir()
        offline = hub_offline()
        mode = f"{offline}=1: only cached files are used" if offline else "downloads allowed"
        existing = next((p for p in (cache, *cache.parents) if p.exists()), None)
        writable = existing is not None and os.access(existing, os.W_OK)
        if not writable:
            return [Check("hf cache", "storage", WARN, f"HF cache {cache} is not writable ({mode}).",
                          "Set HF_HOME to a writable folder (on the data volume, so downloads survive restarts).")]
        free = f", {_gib(shutil.disk_usage(existing).free)} free" if existing else ""
        return [Check("hf cache", "storage", OK, f"HF cache {cache}{free} ({mode})")]

    def _google_credentials(self) -> list[Check]:
        settings = self.studio.settings
        source = "F5UI_GOOGLE_CREDENTIALS" if settings.google_credentials else "GOOGLE_APPLICATION_CREDENTIALS"
        path_text = settings.google_credentials or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", "")
        fix_set = "Set F5UI_GOOGLE_CREDENTIALS to a Google Cloud service-account JSON file (the key file)."
        if not path_text:
            return [Check("google credentials", "alignment", OFF, "No Google credentials configured.", fix_set)]
        path = Path(path_text).expanduser()
        # Only the path and the fields' names are reported: the file holds a private key.
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return [Check("google credentials", "alignment", WARN, f"{source} points at {path}, which does not exist.",
                          fix_set)]
        except (OSError, UnicodeDecodeError) as exc:
            return [Check("google credentials", "alignment", WARN, f"{path} cannot be read ({type(exc).__name__}).",
                          fix_set)]
        except json.JSONDecodeError as exc:
            return [Check("google credentials", "alignment", WARN,
                          f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}).", fix_set)]
        if not isinstance(data, dict):
            return [Check("google credentials", "alignment", WARN, f"{path} is not a JSON object.", fix_set)]
        kind = data.get("type")
        if kind != "service_account":  # the Google aligner loads service-account keys only
            return [Check("google credentials", "alignment", WARN,
                          f"{path} is not a service-account key (type={str(kind)[:40]!r}).", fix_set)]
        missing = [key for key in ("private_key", "client_email") if not data.get(key)]
        if missing:
            return [Check("google credentials", "alignment", WARN,
                          f"{path} ({kind}) lacks {', '.join(missing)}.", fix_set)]
        return [Check("google credentials", "alignment", OK, f"{kind} credentials at {path} (from {source})")]

    def _boto3_installed(self) -> list[Check]:
        version = _version("boto3")
        if version is None or not _find("boto3"):
            return [Check("boto3", "export", OFF, "boto3 is not installed: S3 export will be off.",
                          "pip install boto3 (in the pinned requirements).")]
        return [Check("boto3", "export", OK, f"boto3 {version} installed (for S3 export)")]

    # --- slow checks -------------------------------------------------------------------
    def _aligners(self) -> list[Check]:
        from .timing.chain import BACKEND_NAMES  # light: the chain module is already imported by the studio

        aligner = self.studio.aligner
        data_path = self.studio.settings.data_path
        checks = []
        for name, enabled, reason in aligner.available():
            if enabled:
                checks.append(Check(f"aligner {name}", "alignment", OK, reason))
            else:
                checks.append(Check(f"aligner {name}", "alignment", OFF, reason, _aligner_fix(name, reason, data_path)))
        for name in BACKEND_NAMES:
            if name not in aligner.order:
                reason = "not in F5UI_ALIGNERS"
                checks.append(Check(f"aligner {name}", "alignment", OFF, reason, _aligner_fix(name, reason, data_path)))
        return checks

    def _whisperx_model(self) -> list[Check]:
        """Is WhisperX's alignment model on disk, or can it be fetched? (After the import probes: it imports whisperx.)"""
        aligner = self.studio.aligner
        backend = aligner.backends["whisperx"]
        if "whisperx" not in aligner.order or importlib.util.find_spec("whisperx") is None:
            return []
        language = self.studio.settings.language
        try:
            source, detail = backend.model_source(language)
        except Exception as exc:  # noqa: BLE001 - a broken whisperx shows in its aligner row already
            return [Check("whisperx model", "alignment", OFF, f"cannot tell ({type(exc).__name__}: {exc})",
                          "See the 'aligner whisperx' row.")]
        fix_local = "set F5UI_WHISPERX_MODEL to a local wav2vec2 CTC folder"
        if source in ("local", "cached"):
            return [Check("whisperx model", "alignment", OK, detail)]
        if source == "none":
            return [Check("whisperx model", "alignment", OFF, detail, f"To align {language!r} with WhisperX, {fix_local}.")]
        offline = hub_offline()
        if offline and "Hugging Face" in detail:
            return [Check("whisperx model", "alignment", WARN, f"not cached and {offline}=1: {detail} cannot happen; "
                          "the chain falls through to the next aligner.",
                          f"Run once with network access to cache it, or {fix_local}.")]
        return [Check("whisperx model", "alignment", OK, f"not cached yet: {detail}")]

    def _google_key(self) -> list[Check]:
        """Load the service-account key for real (after the import probes): a file with the right
        fields can still hold a key that does not parse. Replaces the fast row of the same name."""
        fast = next((c for c in (self._fast or []) if c.name == "google credentials"), None)
        insecure = self.studio.settings.google_endpoint.startswith("insecure://")  # the key is not used then
        if fast is None or fast.status != OK or insecure or not _find("google.oauth2"):
            return []
        problem = self.studio.aligner.backends["google"].credentials_problem()
        if problem:
            return [Check("google credentials", "alignment", ERROR,
                          f"{fast.detail}, but the key cannot be loaded ({problem}).",
                          "Download a new JSON key for the service account (IAM → Service accounts → Keys) and "
                          "point F5UI_GOOGLE_CREDENTIALS at it.")]
        return [Check("google credentials", "alignment", OK, f"{fast.detail}; the key loads")]

    def _torch_and_gpu(self) -> list[Check]:
        try:
            import torch
        except Exception as exc:  # noqa: BLE001 - a broken torch install must show, not crash the thread
            return [Check("torch", "system", ERROR, f"torch cannot be imported ({type(exc).__name__}: {exc}).",
                          "Install the pinned requirements: .venv/bin/pip install -r requirements.txt")]
        build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU-only build"
        checks = [Check("torch", "system", OK, f"torch {torch.__version__} ({build}, {torch.get_num_threads()} CPU threads)")]
        checks.append(self._gpu(torch))
        return checks

    def _gpu(self, torch: Any) -> Check:
        requested = (self.studio.settings.device or "auto").lower()
        if torch.cuda.is_available():
            index = int(requested.split(":")[1]) if requested.startswith("cuda:") else torch.cuda.current_device()
            name = torch.cuda.get_device_name(index)
            free, total = torch.cuda.mem_get_info(index)
            detail = f"cuda:{index} {name}, {_gib(free)} free of {_gib(total)} VRAM"
            if requested == "cpu":
                return Check("gpu", "system", WARN, f"{detail}, but F5UI_DEVICE=cpu: generation runs on the CPU.",
                             "Unset F5UI_DEVICE (or set it to cuda) to generate on the GPU.")
            if free < LOW_VRAM_BYTES:
                return Check("gpu", "system", WARN, f"{detail}: under {_gib(LOW_VRAM_BYTES)} free, the model may not fit.",
                             "Stop other processes on the GPU (nvidia-smi lists them) or use a larger GPU.")
            return Check("gpu", "system", OK, detail)
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available() and requested in ("auto", "mps"):
            return Check("gpu", "system", OK, "Apple MPS")
        return Check("gpu", "system", WARN,
                     f"No CUDA GPU: generation runs on the CPU ({torch.get_num_threads()} threads), many times slower "
                     "than on a GPU (with the full model, often slower than real time).",
                     "For speed run on an NVIDIA GPU: install the NVIDIA driver and start the container with "
                     "--gpus all (RunPod: a GPU pod); nvidia-smi must list the GPU.")

    def _hub(self) -> list[Check]:
        offline = hub_offline()
        if offline:
            return [Check("hub", "network", OFF, f"{offline}=1: the Hugging Face Hub is not contacted.",
                          f"Unset {offline} to let missing models download (cached files work either way).")]
        endpoint = (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(urllib.request.Request(endpoint + "/", method="HEAD"), timeout=HUB_TIMEOUT):
                pass
        except urllib.error.HTTPError:
            pass  # any HTTP answer means the hub is reachable
        except Exception as exc:  # DNS, refused, timeout, TLS: not reachable
            reason = getattr(exc, "reason", exc)
            return [Check("hub", "network", WARN, f"{endpoint} is not reachable ({type(exc).__name__}: {reason}).",
                          "Give the machine network access (proxy: HTTPS_PROXY), or set F5UI_CKPT, F5UI_VOCAB, "
                          "F5UI_VOCODER to local files and HF_HUB_OFFLINE=1.")]
        return [Check("hub", "network", OK, f"{endpoint} reachable ({(time.perf_counter() - started) * 1000:.0f} ms)")]

    def _import_probes(self) -> list[Check]:
        # The model loader imports torch/transformers in its own thread; importing the optional
        # packages (which share those) at the same time risks an import deadlock, so wait for it first.
        if self.studio.model.state == "loading":
            self.studio.model.wait(MODEL_WAIT_FOR_PROBES)
        aligner = self.studio.aligner
        for name in aligner.order:  # disabled ones too: "cannot be imported" is the more basic reason
            probe = getattr(aligner.backends[name], "probe_import", None)
            if probe is not None:
                probe()  # availability() reports a failure from now on; run_slow logs the changed rows
        checks = self._aligners()
        problem = PackageProbe("boto3", "boto3").probe() if _find("boto3") else ""
        if problem:
            checks.append(Check("boto3", "export", OFF, f"boto3 is installed but cannot be imported ({problem}).",
                                "Reinstall it: pip install --force-reinstall boto3"))
        return checks


def _log_check(check: Check) -> None:
    level = {OK: logging.INFO, OFF: logging.INFO, WARN: logging.WARNING, ERROR: logging.ERROR}[check.status]
    fix = f" | fix: {check.fix}" if check.fix else ""
    log.log(level, "check %-18s %-5s %s%s", check.name, check.status, check.detail, fix)
