"""The model service: F5-TTS and its vocoder, loaded once per process by f5-tts's
own loaders, in a background thread so the UI answers while it loads.

States: idle → loading → ready | failed. A failure keeps its reason and a fix;
the next request (or an explicit retry) loads again. Only one load runs at a time."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import Busy, ModelUnavailable
from ..hangups import Gone
from ..hub import is_unreachable
from ..schema import FAILED, IDLE, LOADING, READY, ModelState, ServiceStatus
from ..streaming import Cancelled
from .chunk_inference import ReferenceTensors

log = logging.getLogger(__name__)

VOCOS_REPO = "charactr/vocos-mel-24khz"  # what load_vocoder("vocos") downloads without a local folder
SLOT_POLL = 0.1  # seconds between looks at whether a waiting request's client is still there


@dataclass
class LoadedModel:
    model: Any  # f5_tts.model.CFM
    vocoder: Any  # vocos.Vocos
    device: str
    device_info: str
    ckpt_path: str
    load_seconds: float
    precision: str = "fp32"  # of the transformer; the vocoder is fp32
    compiled: bool = False
    references: ReferenceTensors = field(default_factory=ReferenceTensors)  # prepared once per voice


def available_configs() -> list[str]:
    from importlib.resources import files

    return sorted(p.name[:-5] for p in files("f5_tts").joinpath("configs").iterdir() if p.name.endswith(".yaml"))


def _explain(exc: BaseException, settings: Settings) -> tuple[str, str]:
    """Turn a load exception into (problem, fix) a person can act on."""
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    unreachable = is_unreachable(exc)
    if isinstance(exc, ImportError):
        return (f"f5-tts could not be imported ({text}).",
                "Install the pinned requirements: .venv/bin/pip install -r requirements.txt")
    if "size mismatch" in lowered or "missing key" in lowered or "unexpected key" in lowered:
        return (f"The checkpoint {settings.ckpt} does not fit the architecture of model config "
                f"{settings.model!r} (with F5UI_MODEL_ARCH={json.dumps(settings.model_arch)}).",
                "Set F5UI_MODEL to the config the checkpoint was trained with, or F5UI_MODEL_ARCH to its sizes.")
    if isinstance(exc, _UnknownConfig):
        return str(exc), f"Set F5UI_MODEL to one of: {', '.join(available_configs())}."
    if isinstance(exc, FileNotFoundError) and not unreachable:
        return (f"A model file was not found: {exc}.",
                "Check F5UI_CKPT, F5UI_VOCAB and F5UI_VOCODER point at existing files "
                "(F5UI_VOCODER is a folder with config.yaml and pytorch_model.bin).")
    if unreachable:
        return (f"The model could not be downloaded from the Hugging Face Hub ({text[:300]}).",
                "Give the machine network access once (the files are then cached), or set F5UI_CKPT, "
                "F5UI_VOCAB and F5UI_VOCODER to local files.")
    return (f"The model failed to load: {text[:500]}",
            "Check the model settings (F5UI_MODEL, F5UI_CKPT, F5UI_VOCAB, F5UI_VOCODER) and the log for details.")


class _UnknownConfig(ValueError):
    pass


def _model_config(settings: Settings) -> tuple[Any, dict]:
    """The backbone class and architecture, from the f5-tts config plus F5UI_MODEL_ARCH overrides."""
    from importlib.resources import files

    from hydra.utils import get_class
    from omegaconf import OmegaConf

    path = files("f5_tts").joinpath(f"configs/{settings.model}.yaml")
    if not path.is_file():
        raise _UnknownConfig(f"There is no f5-tts model config named {settings.model!r}.")
    cfg = OmegaConf.load(str(path))
    arch = OmegaConf.to_container(cfg.model.arch, resolve=True)
    arch.update(settings.model_arch)
    return get_class(f"f5_tts.model.{cfg.model.backbone}"), arch


def _resolve_ckpt(ckpt: str) -> str:
    if ckpt.startswith("hf://"):
        from cached_path import cached_path  # the resolver f5-tts itself uses for hf:// URLs

        return str(cached_path(ckpt))
    path = Path(ckpt).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path}")
    return str(path)


def _load(settings: Settings, report: Callable[[str], None]) -> LoadedModel:
    started = time.perf_counter()
    report("importing f5-tts")
    from f5_tts.infer.utils_infer import load_model, load_vocoder

    from ..device import describe_device, resolve_device

    device = resolve_device(settings.device)
    model_cls, arch = _model_config(settings)
    if settings.vocab and not Path(settings.vocab).expanduser().is_file():
        raise FileNotFoundError(f"vocab file {settings.vocab}")
    if settings.vocoder and not (Path(settings.vocoder).expanduser() / "config.yaml").is_file():
        raise FileNotFoundError(f"vocoder folder {settings.vocoder} (needs config.yaml and pytorch_model.bin)")
    report("fetching checkpoint")
    ckpt_path = _resolve_ckpt(settings.ckpt)
    report("loading vocoder")
    vocoder = load_vocoder(
        "vocos", is_local=bool(settings.vocoder), local_path=str(Path(settings.vocoder).expanduser()), device=device
    )
    report("loading F5-TTS weights")
    model = load_model(model_cls, arch, ckpt_path, mel_spec_type="vocos",
                       vocab_file=str(Path(settings.vocab).expanduser()) if settings.vocab else "", device=device)
    precision = apply_precision(model, settings.precision, device)
    compiled = False
    if settings.compile:
        import torch

        report("compiling the transformer")
        model.transformer = torch.compile(model.transformer, dynamic=True)  # lazy: compiles on first use
        compiled = True
    info = describe_device(device) + f", {precision}" + (", compiled" if compiled else "")
    return LoadedModel(model, vocoder, device, info, ckpt_path, time.perf_counter() - started, precision, compiled)


PRECISIONS = ("auto", "fp32", "fp16", "bf16")


def apply_precision(model: Any, wanted: str, device: str) -> str:
    """Cast the transformer to the configured precision. f5-tts loaded the model in its own choice
    (auto keeps it, exactly as f5-tts runs); otherwise the mel front end is kept in fp32 (cuFFT has
    no bf16), and the vocoder is fp32 either way. Returns the precision in use."""
    import torch

    names = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}
    current = names.get(next(model.parameters()).dtype, "fp32")
    wanted = (wanted or "auto").lower()
    if wanted not in PRECISIONS:
        raise ValueError(f"F5UI_PRECISION={wanted!r}: use one of {', '.join(PRECISIONS)}")
    if wanted == "auto" or wanted == current:
        return current
    if wanted in ("fp16", "bf16") and not device.startswith("cuda"):
        log.warning("F5UI_PRECISION=%s needs a CUDA GPU; keeping %s on %s", wanted, current, device)
        return current
    if wanted == "bf16" and not torch.cuda.is_bf16_supported():
        log.warning("This GPU has no bf16; using fp16")
        wanted = "fp16"
    model.transformer.to({"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[wanted])
    model.mel_spec.float()
    return wanted


class ModelService:
    """One per process. `ensure_loading()` is cheap and idempotent; `get()` waits for the model."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()  # guards state changes
        self._ready = threading.Event()
        self._loaded: LoadedModel | None = None
        self._state: ModelState = IDLE
        self._stage = ""
        self._problem = ""
        self._fix = ""
        self._thread: threading.Thread | None = None
        self.load_count = 0  # how many loads were started; the tests assert it stays 1
        # One generation at a time per model: torch modules are not re-entrant across threads on one GPU.
        self.inference_lock = threading.Lock()
        # The slots every surface (UI, API, /v1, serverless) shares: F5UI_CONCURRENCY of them, with at most
        # F5UI_MAX_QUEUE requests waiting, each at most F5UI_MAX_WAIT_SECONDS. Background work (a project's
        # run) takes a slot only when no request is waiting, so a request waits at most for the piece of
        # background work under way, never for the whole run.
        self._free = max(1, settings.concurrency)
        self._slot_change = threading.Condition()
        self._waiting = 0  # requests waiting (background work does not count)

    # --- state -------------------------------------------------------------
    @property
    def state(self) -> ModelState:
        return self._state

    def status(self) -> ServiceStatus:
        with self._lock:
            if self._state == READY and self._loaded:
                return ServiceStatus(READY, f"F5-TTS {self.settings.model} ready on {self._loaded.device_info}",
                                     device=self._loaded.device, load_seconds=round(self._loaded.load_seconds, 2))
            if self._state == LOADING:
                return ServiceStatus(LOADING, f"Loading F5-TTS {self.settings.model}: {self._stage}…")
            if self._state == FAILED:
                return ServiceStatus(FAILED, self._problem, self._fix)
            return ServiceStatus(IDLE, "The model loads on the first request.")

    # --- loading -----------------------------------------------------------
    def ensure_loading(self) -> None:
        """Start a background load unless one is running or the model is ready."""
        with self._lock:
            if self._state in (LOADING, READY):
                return
            self._state, self._stage, self._problem, self._fix = LOADING, "starting", "", ""
            self._ready.clear()
            self.load_count += 1
            self._thread = threading.Thread(target=self._run_load, name="f5ui-model-load", daemon=True)
            self._thread.start()

    def _set_stage(self, stage: str) -> None:
        self._stage = stage
        log.info("model load: %s", stage)

    def _run_load(self) -> None:
        try:
            loaded = _load(self.settings, self._set_stage)
        except BaseException as exc:  # keep serving whatever went wrong; the reason is shown to users
            problem, fix = _explain(exc, self.settings)
            expected = isinstance(exc, (OSError, ValueError))  # a bad path or setting: the message says it all
            log.error("Model load failed: %s | fix: %s", problem, fix, exc_info=not expected)
            with self._lock:
                self._state, self._problem, self._fix = FAILED, problem, fix
            self._ready.set()
            return
        log.info("Model ready in %.1f s on %s", loaded.load_seconds, loaded.device_info)
        with self._lock:
            self._loaded, self._state = loaded, READY
        self._ready.set()

    def get(self, timeout: float | None = None, on_wait: Callable[[str], None] | None = None) -> LoadedModel:
        """The loaded model; starts (or retries) a load if needed and waits for it."""
        if self._state == FAILED:
            log.info("Model previously failed to load; trying again")
        self.ensure_loading()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready.wait(0.5):
            if on_wait is not None:
                on_wait(self.status().detail)
            if deadline is not None and time.monotonic() > deadline:
                raise ModelUnavailable("The model is still loading.", "Try again in a minute.")
        with self._lock:
            if self._state == READY and self._loaded is not None:
                return self._loaded
            raise ModelUnavailable(self._problem, self._fix)

    @property
    def waiting(self) -> int:
        """Requests waiting for a model slot now."""
        return self._waiting

    @contextmanager
    def slot(self, background: threading.Event | None = None, gone: Gone | None = None) -> Iterator[None]:
        """Hold one of the model's slots for a generation; Busy when the queue or the wait is too long.
        With `background` (the work's stop flag) the slot is taken at a lower priority: only while no
        request waits, with no deadline, and Cancelled is raised once the flag is set. A request whose
        client hangs up while it waits (`gone`) leaves the wait (Cancelled)."""
        if background is not None:
            self._take_in_background(background)
        else:
            self._take(gone)
        try:
            yield
        finally:
            with self._slot_change:
                self._free += 1
                self._slot_change.notify_all()

    def _take(self, gone: Gone | None = None) -> None:
        with self._slot_change:
            if self._waiting >= max(1, self.settings.max_queue):
                raise Busy(f"The server is busy: {self._waiting} requests are already waiting for the model.",
                           "Try again in a minute.")
            self._waiting += 1
            try:
                acquired = self._wait_for_free(max(0.0, self.settings.max_wait_seconds), gone)
                if acquired:
                    self._free -= 1
            finally:
                self._waiting -= 1
                self._slot_change.notify_all()  # background work may go on once no request waits
        if not acquired:
            raise Busy(f"The server is busy: no model slot came free within {self.settings.max_wait_seconds:.0f} s.",
                       "Try again in a minute, or raise F5UI_CONCURRENCY on a larger GPU.")

    def _wait_for_free(self, timeout: float, gone: Gone | None) -> bool:
        """Under `_slot_change`: whether a slot came free in time; Cancelled once `gone()` (looked at every
        SLOT_POLL s: a hang-up does not notify the condition)."""
        if gone is None:
            return self._slot_change.wait_for(lambda: self._free > 0, timeout=timeout)
        deadline = time.monotonic() + timeout
        while self._free <= 0:
            if gone():
                raise Cancelled("the client hung up while waiting for a model slot")
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._slot_change.wait(timeout=min(SLOT_POLL, left))
        return True

    def _take_in_background(self, stop: threading.Event) -> None:
        with self._slot_change:
            # Woken by every release and every request that stops waiting; the timeout only notices `stop`.
            while not (self._free > 0 and self._waiting == 0):
                if stop.is_set():
                    raise Cancelled("background work stopped while waiting for the model")
                self._slot_change.wait(timeout=0.25)
            if stop.is_set():
                raise Cancelled("background work stopped while waiting for the model")
            self._free -= 1

    def wait(self, timeout: float | None = None) -> ServiceStatus:
        """Block until the current load finishes (no new load is started)."""
        if self._state == LOADING:
            self._ready.wait(timeout)
        return self.status()
