"""Small HTTP peers on 127.0.0.1 that stand where the internet would be, and record what reached them:
a proxy that refuses every tunnel (a host without the network, observed), a hub that holds each
request until the test lets it go (a download under way), and a server that trickles its answer."""

from __future__ import annotations

import http.server
import socketserver
import threading
import time


class _Server:
    def __init__(self, handler: type) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RefusingProxy(_Server):
    """An HTTP(S) proxy that answers every request, CONNECT included, with 502: set as https_proxy, it
    makes every https download fail at once, and `requests` lists what was asked for."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                peer.requests.append(f"{self.command} {self.path}")
                self.send_response(502)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_CONNECT = do_GET = do_HEAD = do_POST = _refuse  # noqa: N815

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        super().__init__(Handler)


class HeldHub(_Server):
    """Stands for HF_ENDPOINT: every request waits until `release()`, then gets 404 (no such file)."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.pending: list[str] = []  # "PATH USER-AGENT" of each request being held
        self.seen: list[str] = []
        self._lock = threading.Lock()
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _hold(self) -> None:
                agent = f"{self.path} {self.headers.get('user-agent', '')}"
                with peer._lock:
                    peer.pending.append(agent)
                    peer.seen.append(f"{self.command} {agent}")
                peer.released.wait(900)
                with peer._lock:
                    peer.pending.remove(agent)
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD = _hold  # noqa: N815

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        super().__init__(Handler)

    def wait_for(self, test, timeout: float) -> None:  # noqa: ANN001 - a predicate on `pending`
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if test(list(self.pending)):
                    return
            time.sleep(0.2)
        raise TimeoutError(f"no such request reached the hub; seen: {self.seen}")

    def release(self) -> None:
        self.released.set()


class Trickle(socketserver.ThreadingTCPServer):
    """Sends its answer one byte every `every` seconds, headers included; records each connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, every: float, answer: bytes = b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\n"
                                                  b"Content-Length: 4\r\n\r\nRIFF") -> None:
        self.connections = 0
        peer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                peer.connections += 1
                try:
                    for byte in answer:
                        self.request.sendall(bytes([byte]))
                        time.sleep(every)
                except OSError:
                    pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
