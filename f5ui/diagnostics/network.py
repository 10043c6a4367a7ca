"""Network checks: whether the Hugging Face Hub answers (never contacted when offline)."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request

from ..hub import hub_offline
from ..schema import OFF, OK, WARN, Check
from .context import Context

HUB_TIMEOUT = 3.0  # seconds: a status check must not hang on a firewall that drops packets


def hub(ctx: Context) -> list[Check]:
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
