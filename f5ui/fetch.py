"""Download a file a request names by URL (the worker's `ref_audio`), as little trusted as the request.

- Only public addresses: the host is resolved first and every loopback, private, link-local, shared,
  reserved or multicast address is refused before any connection, whatever spelling named it
  (`localhost`, `0x7f000001`, `[::ffff:127.0.0.1]`). The connection goes to the address that was
  checked (TLS still verifies the certificate for the host name), so a second DNS answer cannot
  switch it to an internal one. Redirects are not followed; `user:pass@` URLs are refused.
- One deadline for everything: connect, TLS, headers and body. A watchdog shuts the socket when it
  passes, so a server sending one byte at a time cannot hold the caller longer.
- One error for every failure, so an answer never tells which internal hosts or ports exist; the
  reason goes to the log for the operator."""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


class FetchFailed(Exception):
    """The download did not happen; `reason` is for the log, never for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooLarge(FetchFailed):
    pass


def allowed_address(address: str) -> bool:
    """Whether a resolved address may be connected to: public unicast only."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> str:
    """The first address of `host`, if every address it resolves to is public (a name that also points
    inside is refused, whichever answer a later lookup would give)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchFailed(f"{host} does not resolve ({exc})") from None
    addresses = [info[4][0] for info in found]
    refused = [a for a in addresses if not allowed_address(a)]
    if not addresses or refused:
        raise FetchFailed(f"{host} resolves to a non-public address ({', '.join(refused) or 'none'})")
    return addresses[0]


def download(url: str, max_bytes: int, timeout: float) -> tuple[bytes, str]:
    """(body, content type) of a 200 answer, within `timeout` seconds in all and `max_bytes`; FetchFailed
    (TooLarge past the size) otherwise."""
    deadline = time.monotonic() + timeout
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise FetchFailed(f"not an http(s) URL: {scheme or 'no scheme'}")
    if parts.username is not None or parts.password is not None:
        raise FetchFailed("the URL carries credentials (user:pass@)")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise FetchFailed(f"bad port ({exc})") from None
    address = resolve(parts.hostname, port)
    expired = threading.Event()
    handle: list[socket.socket] = []  # a duplicate of the connection's socket, for the watchdog

    def expire() -> None:
        expired.set()
        for sock in handle:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes whatever read (TLS handshake, headers, body) waits
            except OSError:
                pass

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
    watchdog.daemon = True
    watchdog.start()
    connection: http.client.HTTPConnection | None = None
    sock: socket.socket | None = None
    try:
        sock = socket.create_connection((address, port), timeout=max(0.001, deadline - time.monotonic()))
        handle.append(sock.dup())  # shutting a duplicate down shuts the connection, TLS or not
        if expired.is_set():
            raise TimeoutError
        if scheme == "https":  # to the checked address, verified for the host name
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
            connection = http.client.HTTPSConnection(parts.hostname, port)
        else:
            connection = http.client.HTTPConnection(parts.hostname, port)
        connection.sock = sock  # already connected: http.client does not resolve the name again
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path, headers={"User-Agent": "f5ui", "Accept": "audio/*, */*"})
        answer = connection.getresponse()
        if answer.status != 200:
            raise FetchFailed(f"HTTP {answer.status} (redirects are not followed)")
        declared = answer.getheader("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(f"{declared} bytes announced")
        body = bytearray()
        while block := answer.read1(1 << 16):
            body += block
            if len(body) > max_bytes:
                raise TooLarge(f"more than {max_bytes} bytes")
            if expired.is_set():
                raise TimeoutError
        if expired.is_set() or time.monotonic() > deadline:
            raise TimeoutError
        return bytes(body), (answer.getheader("content-type") or "").split(";")[0].strip().lower()
    except FetchFailed:
        raise
    except Exception as exc:  # refused, reset, TLS, a broken answer, the deadline: all "not downloaded"
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise FetchFailed(f"took longer than {timeout:g} s") from None
        raise FetchFailed(f"{type(exc).__name__}: {exc}") from None
    finally:
        watchdog.cancel()
        if connection is not None:
            connection.close()
        elif sock is not None:
            sock.close()
        for duplicate in handle:
            duplicate.close()
