"""Alignment checks: each word aligner (from the chain's one registry: can it run, why not, the
fix), the WhisperX model, and the Google credentials (by path and fields, never contents)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..hub import hub_offline
from ..schema import ERROR, LOADING, OFF, OK, WARN, Check
from ..timing.registry import BACKEND_NAMES
from .context import Context, find

MODEL_WAIT_FOR_PROBES = 120.0  # seconds the import probes wait for the model's own imports
CREDENTIALS_FIX = "Set F5UI_GOOGLE_CREDENTIALS to a Google Cloud service-account JSON file (the key file)."


def aligners(ctx: Context) -> list[Check]:
    """One row per backend: those in F5UI_ALIGNERS in chain order, then the others."""
    chain = ctx.aligner
    names = [*chain.order, *(name for name in BACKEND_NAMES if name not in chain.order)]
    checks = []
    for name in names:
        available = chain.availability(name)
        if available.ok:
            checks.append(Check(f"aligner {name}", "alignment", OK, available.reason))
        else:
            checks.append(Check(f"aligner {name}", "alignment", OFF, available.reason, available.fix))
    return checks


def import_probes(ctx: Context) -> list[Check]:
    """Import each configured aligner's package for real, then the rows again (a package that is
    installed but broken shows from now on)."""
    # The model loader imports torch/transformers in its own thread; importing the optional
    # packages (which share those) at the same time risks an import deadlock, so wait for it first.
    if ctx.model.state == LOADING:
        ctx.model.wait(MODEL_WAIT_FOR_PROBES)
    for name in ctx.aligner.order:  # disabled ones too: "cannot be imported" is the more basic reason
        probe = getattr(ctx.aligner.backends[name], "probe_import", None)
        if probe is not None:
            probe()
    return aligners(ctx)


def whisperx_model(ctx: Context) -> list[Check]:
    """Is WhisperX's alignment model on disk, or can it be fetched? (After the import probes: it imports whisperx.)"""
    if "whisperx" not in ctx.aligner.order or not find("whisperx"):
        return []
    language = ctx.settings.language
    try:
        source, detail = ctx.aligner.backends["whisperx"].model_source(language)
    except Exception as exc:  # a broken whisperx shows in its aligner row already
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


def google_credentials(ctx: Context) -> list[Check]:
    """The key file by path and field names only: it holds a private key."""
    settings = ctx.settings
    source = "F5UI_GOOGLE_CREDENTIALS" if settings.google_credentials else "GOOGLE_APPLICATION_CREDENTIALS"
    path_text = settings.google_credentials or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", "")
    if not path_text:
        return [Check("google credentials", "alignment", OFF, "No Google credentials configured.", CREDENTIALS_FIX)]
    path = Path(path_text).expanduser()

    def warn(detail: str) -> list[Check]:
        return [Check("google credentials", "alignment", WARN, detail, CREDENTIALS_FIX)]

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return warn(f"{source} points at {path}, which does not exist.")
    except (OSError, UnicodeDecodeError) as exc:
        return warn(f"{path} cannot be read ({type(exc).__name__}).")
    except json.JSONDecodeError as exc:
        return warn(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}).")
    if not isinstance(data, dict):
        return warn(f"{path} is not a JSON object.")
    kind = data.get("type")
    if kind != "service_account":  # the Google aligner loads service-account keys only
        return warn(f"{path} is not a service-account key (type={str(kind)[:40]!r}).")
    missing = [key for key in ("private_key", "client_email") if not data.get(key)]
    if missing:
        return warn(f"{path} ({kind}) lacks {', '.join(missing)}.")
    return [Check("google credentials", "alignment", OK, f"{kind} credentials at {path} (from {source})")]


def google_key(ctx: Context) -> list[Check]:
    """Slow: load the service-account key for real; a file with the right fields can still hold a
    key that does not parse. Replaces the row above (same name)."""
    fields = google_credentials(ctx)[0]
    insecure = ctx.settings.google_endpoint.startswith("insecure://")  # the key is not used then
    if fields.status != OK or insecure or not find("google.oauth2"):
        return []
    problem = ctx.aligner.backends["google"].credentials_problem()
    if problem:
        return [Check("google credentials", "alignment", ERROR, f"{fields.detail}, but the key cannot be loaded "
                      f"({problem}).", "Download a new JSON key for the service account (IAM → Service accounts → "
                      "Keys) and point F5UI_GOOGLE_CREDENTIALS at it.")]
    return [Check("google credentials", "alignment", OK, f"{fields.detail}; the key loads")]
