"""Export checks: boto3 (installed, then importable) and the S3 bucket (configured, then reachable
with the app's credentials). Endpoint and bucket are shown, keys never."""

from __future__ import annotations

from ..packages import PackageProbe
from ..schema import ERROR, OFF, OK, Check
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


def s3_config(ctx: Context) -> list[Check]:
    settings = ctx.settings
    if not settings.s3_bucket:
        return [Check("s3", "export", OFF, "No S3 bucket configured: exports are written to <data dir>/exports and "
                      "offered as downloads.", "Set F5UI_S3_BUCKET (plus AWS credentials, and F5UI_S3_ENDPOINT_URL "
                      "for MinIO, R2, B2 or RunPod) to export to S3.")]
    return [Check("s3", "export", OK, f"bucket {settings.s3_bucket!r} at {_endpoint(ctx)}: checking access…")]


def s3_access(ctx: Context) -> list[Check]:
    """Slow: HeadBucket with the app's credentials (bounded by F5UI_S3_TIMEOUT)."""
    if not ctx.settings.s3_bucket or not find("boto3"):
        return []
    where = f"bucket {ctx.settings.s3_bucket!r} at {_endpoint(ctx)}"
    problem = ctx.exports.check()
    if problem:
        return [Check("s3", "export", ERROR, f"{where}: {problem}.",
                      "Fix the bucket, the endpoint or the credentials; meanwhile exports fail with this reason.")]
    return [Check("s3", "export", OK, f"{where}: reachable, HeadBucket passed")]


def _endpoint(ctx: Context) -> str:
    settings = ctx.settings
    region = f", region {settings.s3_region}" if settings.s3_region else ""
    return f"{settings.s3_endpoint_url or 'AWS S3'}{region}"
