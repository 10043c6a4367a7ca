"""Clients that hung up. A take runs for someone; when that someone is gone (a closed tab, a client
that dropped the connection), the take stops at its next chunk and a request still waiting for a
model slot leaves the wait. The server notices the hang-up (f5ui.hangup_watch) and records it here;
the studio asks a `Gone` check, which every surface passes in the same way.

A hang-up is known by a key: a Gradio session hash or event id (the key of the event stream the
client listened on), or the one request itself (`Hangup`, a per-request flag)."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .schema import Progress
from .streaming import Cancelled

log = logging.getLogger(__name__)

Gone = Callable[[], bool]  # True once the client a piece of work is for has hung up

MAX_KEYS = 10000  # hang-ups remembered; the oldest are forgotten first (memory stays bounded)


class Hangup:
    """One request's flag: set (from the event loop) when its client hangs up, read from any thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


class Hangups:
    """Hang-ups by key, with when they happened. A check made by `watch(key)` answers True for a hang-up
    after the check was made, so a browser session that hung up once and came back keeps working; a key
    that names one event only (`for_good`: the event id of /gradio_api/call/) is gone whenever it hung
    up, even before its event left Gradio's queue."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self._hung_up: OrderedDict[str, tuple[float, bool]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_keys = max_keys

    def hung_up(self, key: str, for_good: bool = False) -> None:
        with self._lock:
            self._hung_up[key] = (time.monotonic(), for_good)
            self._hung_up.move_to_end(key)
            while len(self._hung_up) > self.max_keys:
                self._hung_up.popitem(last=False)

    def since(self, key: str, started: float) -> bool:
        with self._lock:
            when, for_good = self._hung_up.get(key, (float("-inf"), False))
        return for_good or when >= started

    def watch(self, key: str | None) -> Gone:
        """The check for work started now on behalf of `key` (never gone when there is no key)."""
        if not key:
            return lambda: False
        started = time.monotonic()
        return lambda: self.since(key, started)


class StopWhenGone:
    """A take's progress callback that also stops the take (Cancelled) once its client has hung up:
    every chunk reports progress before it starts, so a take stops at the next chunk."""

    def __init__(self, gone: Gone | None, progress: Progress) -> None:
        self.gone, self.progress = gone, progress
        self.last, self.refused = "the start", ""

    def __call__(self, fraction: float, desc: str) -> None:
        if self.gone is not None and self.gone():
            self.refused = desc
            raise Cancelled(f"the client hung up before {desc!r}")
        self.last = desc or self.last
        self.progress(fraction, desc)

    @contextmanager
    def logged(self) -> Iterator[None]:
        """Say in the log where a take stopped for a hang-up (the tests and operators read it)."""
        try:
            yield
        except Cancelled:
            if self.gone is not None and self.gone():
                where = f"before “{self.refused}”" if self.refused else f"during “{self.last}”"
                log.info("Generation stopped %s: the client hung up", where)
            raise
