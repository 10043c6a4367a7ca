"""The Hugging Face Hub as f5ui sees it: offline or not, where its cache is, whether a file is
cached (never contacting it), and whether an error means "the hub could not be reached"."""

from __future__ import annotations

import os
from pathlib import Path

from .config import parse_bool

# Words in the errors of huggingface_hub, cached_path, requests and urllib3 when the hub cannot be
# reached or is forbidden (HF_HUB_OFFLINE): the model loader and the reference transcriber say so.
_UNREACHABLE = ("offline", "connection", "resolve", "localentrynotfound", "max retries", "timed out",
                "couldn't connect", "cannot find the requested files", "network")


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


def cached_file(repo_id: str, filename: str, cache_dir: str | Path | None = None) -> str | None:
    """Path of a hub file in the local cache, or None (never contacts the hub)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, cache_dir=str(cache_dir or hf_cache_dir()))
    return found if isinstance(found, str) else None


def split_hf_url(url: str) -> tuple[str, str]:
    """hf://owner/repo/path/in/repo → (owner/repo, path/in/repo), as cached_path reads it."""
    parts = url[len("hf://"):].split("/")
    return "/".join(parts[:2]), "/".join(parts[2:])


def is_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the hub (or the network) could not be reached, or was not allowed to be."""
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(marker in text for marker in _UNREACHABLE)
