"""Where f5ui runs and where its state persists: RunPod (serverless or pod), a Hugging Face Space,
a container, or a plain machine. One implementation, used by the app (`app.py`) and by the
container's start script (`python -m f5ui.hosting exports`).

The data dir is F5UI_DATA_DIR when set; else `<volume>/f5ui` on the first writable one of
F5UI_VOLUMES (RunPod serverless `/runpod-volume`, RunPod pods `/workspace`, Hugging Face
persistent storage `/data`); else `./f5ui_data`, with a warning that a container loses it. The
caches (Hugging Face, torch, nltk, Gradio uploads) are pointed inside it, so weights download once
per volume, unless the operator set them."""

from __future__ import annotations

import logging
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from .config import Settings, write_problem

log = logging.getLogger(__name__)

VOLUME_NAMES = {"/runpod-volume": "RunPod network volume (serverless)", "/workspace": "RunPod pod volume",
                "/data": "Hugging Face persistent storage / container volume"}
LOCAL = "./f5ui_data"
LAYOUT = ("hf", "torch", "models", "nltk_data", "voices", "exports", "outputs", "uploads", "cache", "logs")


@dataclass(frozen=True)
class Storage:
    path: Path
    source: str  # how it was chosen, for the log and the status panel
    persistent: bool
    note: str = ""  # a warning to show ("" when all is well)


def in_container() -> bool:
    return Path("/.dockerenv").exists() or any(os.environ.get(v) for v in ("SPACE_ID", "RUNPOD_POD_ID",
                                                                           "RUNPOD_ENDPOINT_ID"))


def choose_storage(settings: Settings) -> Storage:
    if settings.data_dir:
        return Storage(Path(settings.data_dir).expanduser().resolve(), "F5UI_DATA_DIR", True)
    skipped = []
    for volume in (v.strip() for v in settings.volumes.split(",") if v.strip()):
        root = Path(volume)
        name = VOLUME_NAMES.get(volume, "volume")
        if not root.is_dir():
            continue
        problem = write_problem(root / "f5ui")
        if problem:
            skipped.append(f"{volume} is not writable ({problem})")
            continue
        if not os.path.ismount(root):  # a folder of the image, not a mounted volume: lost with the container
            skipped.append(f"{volume} is not a mounted volume, so what is kept there is lost when the container is "
                           "replaced")
        return Storage((root / "f5ui").resolve(), f"{name} at {volume}", True, "; ".join(skipped))
    looked = ", ".join(v.strip() for v in settings.volumes.split(",") if v.strip())
    note = "; ".join(skipped)
    if in_container() or skipped:
        note = "; ".join(filter(None, [note, f"no writable persistent volume found (looked for {looked}): data is "
                                              f"kept in {LOCAL}, which is lost when the container is replaced"]))
    return Storage(Path(LOCAL).resolve(), "local folder", False, note)


def environment(settings: Settings) -> dict[str, str]:
    """The variables that point f5ui and its libraries at the chosen storage (the operator's own
    settings win), plus the listening address platforms expect."""
    storage = choose_storage(settings)
    data = storage.path
    env = {"F5UI_DATA_DIR": str(data), "F5UI_STORAGE": storage.source, "F5UI_STORAGE_NOTE": storage.note}
    if os.environ.get("F5UI_STORAGE"):  # chosen already (by scripts/start.sh): keep its reasons
        env.update(F5UI_STORAGE=os.environ["F5UI_STORAGE"], F5UI_STORAGE_NOTE=os.environ.get("F5UI_STORAGE_NOTE", ""))
    # writable_dir falls back to a temp dir when the data dir cannot be written (the panel says so).
    where = Settings(data_dir=str(data))
    defaults = {"HF_HOME": where.writable_dir("hf"), "TORCH_HOME": where.writable_dir("torch"),
                "NLTK_DATA": where.writable_dir("nltk_data"), "GRADIO_TEMP_DIR": where.writable_dir("uploads")}
    env.update({k: str(v) for k, v in defaults.items() if not os.environ.get(k)})
    env.update(listening_address())
    return env


def listening_address() -> dict[str, str]:
    """F5UI_HOST / F5UI_PORT from Gradio's own variables where ours are not set: Spaces and other
    Gradio hosts say where to listen with GRADIO_SERVER_NAME / GRADIO_SERVER_PORT."""
    found = {}
    if not os.environ.get("F5UI_HOST"):
        if os.environ.get("GRADIO_SERVER_NAME"):
            found["F5UI_HOST"] = os.environ["GRADIO_SERVER_NAME"]
        elif os.environ.get("SPACE_ID"):
            found["F5UI_HOST"] = "0.0.0.0"  # a Space reaches the app from outside the container
    if not os.environ.get("F5UI_PORT") and os.environ.get("GRADIO_SERVER_PORT"):
        found["F5UI_PORT"] = os.environ["GRADIO_SERVER_PORT"]
    return found


def apply(settings: Settings) -> Settings:
    """Put `environment()` into this process before the libraries that read it are imported."""
    for key, value in environment(settings).items():
        os.environ[key] = value
    settings.data_dir = os.environ["F5UI_DATA_DIR"]
    settings.storage = os.environ.get("F5UI_STORAGE", "")
    settings.storage_note = os.environ.get("F5UI_STORAGE_NOTE", "")
    # Only where the command line left the defaults (a --host/--port flag wins).
    if os.environ.get("F5UI_HOST") and settings.host == Settings().host:
        settings.host = os.environ["F5UI_HOST"]
    if os.environ.get("F5UI_PORT") and settings.port == Settings().port:
        try:
            settings.port = int(os.environ["F5UI_PORT"])
        except ValueError:
            log.warning("Ignoring the port %r (not a number); listening on %d", os.environ["F5UI_PORT"], settings.port)
    return settings


def main(argv: list[str]) -> int:
    """`python -m f5ui.hosting exports`: shell `export` lines for the start script; `layout`: the
    folders it lays out in the data dir."""
    if argv[:1] == ["layout"]:
        sys.stdout.write(" ".join(LAYOUT) + "\n")
        return 0
    if argv[:1] != ["exports"]:
        sys.stderr.write("usage: python -m f5ui.hosting exports|layout\n")
        return 2
    from .config import from_env

    for key, value in environment(from_env()).items():
        sys.stdout.write(f"export {key}={shlex.quote(value)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
