"""Export checks: boto3 for S3 export (installed, then importable)."""

from __future__ import annotations

from ..packages import PackageProbe
from ..schema import OFF, OK, Check
from .context import Context, find, version


def boto3_installed(ctx: Context) -> list[Check]:
    installed = version("boto3")
    if installed is None or not find("boto3"):
        return [Check("boto3", "export", OFF, "boto3 is not installed: S3 export will be off.",
                      "pip install boto3 (in the pinned requirements).")]
    return [Check("boto3", "export", OK, f"boto3 {installed} installed (for S3 export)")]


def boto3_imports(ctx: Context) -> list[Check]:
    """Slow: the real import (replaces the row above when it fails)."""
    problem = PackageProbe("boto3", "boto3").probe() if find("boto3") else ""
    if problem:
        return [Check("boto3", "export", OFF, f"boto3 is installed but cannot be imported ({problem}).",
                      "Reinstall it: pip install --force-reinstall boto3")]
    return []
