"""Where exports go: an S3 bucket (any S3-compatible endpoint, through boto3) with presigned
links, or a local folder when no bucket is configured. Both take the same keys
(`{prefix}/{yyyy}/{mm}/{dd}/{id}/name`), so an export looks the same in either place.

S3 errors are said plainly and never carry secrets; the client gives up in seconds
(bounded connect/read timeouts, two tries), not after minutes of retries."""

from __future__ import annotations

import logging
import math
import shutil
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..config import Settings

log = logging.getLogger(__name__)

MAX_URL_EXPIRY = 604800  # SigV4 presigned URLs live at most 7 days


class StoreError(Exception):
    """An upload, download or listing failed; the message says why, for the user (no secrets)."""


class StoreFull(StoreError):
    """What is to be written would pass the store's ceiling; nothing was written."""


@dataclass(frozen=True)
class Stored:
    key: str
    url: str  # presigned GET link (S3); "" for a local file (offered as a download instead)
    bytes: int
    content_type: str
    local_path: str = ""  # where a local store keeps it (server side only)


class Store(Protocol):
    kind: str  # "s3" | "local"

    def where(self, key: str = "") -> str: ...
    def reserve(self, size: int) -> AbstractContextManager[None]: ...
    def put(self, key: str, path: Path, content_type: str) -> Stored: ...
    def delete(self, key: str) -> None: ...
    def list(self, prefix: str) -> list[str]: ...
    def get(self, key: str, path: Path) -> Path: ...


def explain_s3_error(exc: BaseException, bucket: str, endpoint: str) -> str:
    """One sentence a user can act on, for any boto3/botocore failure."""
    from botocore import exceptions as bx

    # boto3's transfer manager wraps the real error (S3UploadFailedError from a ClientError): look inside.
    inner = exc
    while not isinstance(inner, (bx.BotoCoreError, bx.ClientError)) and (inner.__cause__ or inner.__context__):
        inner = inner.__cause__ or inner.__context__
    exc = inner if isinstance(inner, (bx.BotoCoreError, bx.ClientError)) else exc
    where = endpoint or "AWS S3"
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return ("no S3 credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) "
                "for the app")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError,
                        bx.ConnectionClosedError)):
        return f"the S3 endpoint {where} could not be reached ({type(exc).__name__}); check F5UI_S3_ENDPOINT_URL"
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("NoSuchBucket",) or (code == "404" and "HeadBucket" in str(exc)):
            return f"the bucket {bucket!r} does not exist at {where}; create it or fix F5UI_S3_BUCKET"
        if code in ("RequestTimeTooSkewed", "RequestExpired") or "skew" in str(error.get("Message", "")).lower():
            return "the server's clock is off from the S3 endpoint's; fix the system time (NTP) and retry"
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "AllAccessDisabled") \
                or status == 403:
            return (f"access to the bucket {bucket!r} was denied ({code or status}): check the access key, the secret "
                    "and the key's permissions on the bucket")
        return f"S3 answered {code or status}: {error.get('Message', '')}".strip()
    if isinstance(exc, bx.BotoCoreError):
        return f"S3 failed: {type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


class S3Store:
    kind = "s3"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bucket = settings.s3_bucket
        self.endpoint = settings.s3_endpoint_url
        self._client: Any = None
        self._lock = threading.Lock()

    def where(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{key}" if key else f"s3://{self.bucket}"

    def reserve(self, size: int) -> AbstractContextManager[None]:
        return nullcontext()  # the bucket's size is the operator's (and the provider's) business

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                style = self.settings.s3_addressing
                if style not in ("path", "virtual"):
                    style = "path" if self.endpoint else "virtual"  # MinIO & co. need path-style
                timeout = float(self.settings.s3_timeout)
                config = Config(region_name=self.settings.s3_region or None, signature_version="s3v4",
                                s3={"addressing_style": style}, connect_timeout=timeout, read_timeout=timeout,
                                retries={"max_attempts": 2, "mode": "standard"})
                self._client = boto3.session.Session().client("s3", endpoint_url=self.endpoint or None, config=config)
            return self._client

    def _fail(self, exc: BaseException, what: str) -> StoreError:
        message = explain_s3_error(exc, self.bucket, self.endpoint)
        log.warning("S3 %s failed: %s", what, message)
        return StoreError(message)

    def check(self) -> str:
        """'' when the bucket answers HeadBucket, else why not (the status panel's background check)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return ""
        except Exception as exc:
            return explain_s3_error(exc, self.bucket, self.endpoint)

    def put(self, key: str, path: Path, content_type: str) -> Stored:
        from boto3.s3.transfer import TransferConfig

        threshold = max(5 * 2**20, int(self.settings.s3_multipart_mb * 2**20))  # S3's smallest part is 5 MiB
        transfer = TransferConfig(multipart_threshold=threshold, multipart_chunksize=threshold)
        try:
            self.client.upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": content_type},
                                    Config=transfer)
            url = self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=max(1, min(MAX_URL_EXPIRY, int(self.settings.s3_url_expiry))))
        except Exception as exc:
            raise self._fail(exc, f"upload of {key}") from exc
        return Stored(key, url, path.stat().st_size, content_type)

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise self._fail(exc, f"delete of {key}") from exc

    def list(self, prefix: str) -> list[str]:
        try:
            keys: list[str] = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []))
            return keys
        except Exception as exc:
            raise self._fail(exc, f"listing of {prefix}") from exc

    def get(self, key: str, path: Path) -> Path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.bucket, key, str(path))
            return path
        except Exception as exc:
            raise self._fail(exc, f"download of {key}") from exc


class LocalStore:
    """The same layout under a folder of the data dir; its files are offered as downloads. It names
    itself by `label` ("exports/…" in the data dir), never by the server's absolute path. What it holds
    stays under `max_bytes`: a write that would pass it is refused whole (`reserve`)."""

    kind = "local"

    def __init__(self, root: Path, label: str = "exports", max_bytes: float = math.inf) -> None:
        self.root = Path(root)
        self.label = label
        self.max_bytes = max_bytes
        self._room = threading.Lock()  # one reservation at a time, so two exports cannot both take the last room

    def used_bytes(self) -> int:
        total = 0
        for path in self.root.rglob("*") if self.root.is_dir() else ():
            try:
                total += path.stat().st_size if path.is_file() and not path.is_symlink() else 0
            except OSError:  # removed meanwhile (the retention sweep)
                continue
        return total

    @contextmanager
    def reserve(self, size: int) -> Iterator[None]:
        """Hold the room for `size` bytes while they are written; StoreFull when they would not fit."""
        with self._room:
            used = self.used_bytes()
            if used + size > self.max_bytes:
                raise StoreFull(f"the export folder is full: this export takes {size / 2**20:.1f} MB and "
                                f"{used / 2**20:.1f} of its {self.max_bytes / 2**20:.0f} MB are in use "
                                "(F5UI_EXPORT_FOLDER_MB)")
            yield

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:  # keys are made by f5ui, but never trust a join
            raise StoreError(f"refused key {key!r}")
        return path

    def where(self, key: str = "") -> str:
        return f"{self.label}/{key}" if key else self.label

    def put(self, key: str, path: Path, content_type: str) -> Stored:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            shutil.copyfile(path, partial)
            partial.replace(target)
        except OSError as exc:
            raise StoreError(f"could not write {target.name}: {exc.strerror or exc}") from exc
        return Stored(key, "", target.stat().st_size, content_type, str(target))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> list[str]:
        base = self.root
        return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()
                      and str(p.relative_to(base)).startswith(prefix))

    def get(self, key: str, path: Path) -> Path:
        shutil.copyfile(self._path(key), path)
        return path


def create_store(settings: Settings, local_root: Path) -> S3Store | LocalStore:
    """S3 when a bucket is configured, else the local folder (shown as "<data dir>/exports")."""
    if settings.s3_bucket:
        return S3Store(settings)
    return LocalStore(local_root, "<data dir>/exports", max(0.0, settings.export_folder_mb) * 2**20)
