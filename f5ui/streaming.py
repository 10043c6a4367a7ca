"""Audio while it is generated: a call that reports pieces through a callback, turned into an
iterator of pieces and then its result, for every surface that streams (the UI, /generate_stream,
/v1/audio/speech with stream_format, the serverless worker).

The call runs in a worker thread. When the consumer stops early (a closed browser tab, a client
that hangs up), the next piece raises `Cancelled` inside the call, so the generation stops at the
next chunk and gives its model slot back instead of finishing for no one."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

log = logging.getLogger(__name__)

T = TypeVar("T")
OnAudio = Callable[[np.ndarray, int], None]


class Cancelled(BaseException):
    """The consumer of a stream went away. A BaseException (as asyncio's CancelledError): handlers
    that turn errors into messages let it through, so the generation just stops."""


@dataclass
class Piece:
    samples: np.ndarray  # float, mono
    sample_rate: int
    index: int  # 0, 1, ... in order
    start: float  # seconds into the take


@dataclass
class Done(Generic[T]):
    result: T


class Stream(Generic[T]):
    """The pieces of a running call, then Done(result). `cancel()` may be called from any thread,
    even while another one waits in `next()`: the call stops at its next piece (a consumer that
    hands the iterator to a thread, as the stream encoder does, cannot close a running generator)."""

    def __init__(self, call: Callable[[OnAudio], T], name: str) -> None:
        self._stop = threading.Event()
        self._items = _run(call, name, self._stop)

    def __iter__(self) -> Stream[T]:
        return self

    def __next__(self) -> Piece | Done[T]:
        return next(self._items)

    def cancel(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.cancel()
        self._items.close()


class Sink:
    """What a streamed call is given as its `on_audio`: takes each piece, and raises Cancelled in the
    call once the consumer went away. `stopped()` lets the call ask before it starts more work (the
    engine asks before it starts generating the next chunk)."""

    def __init__(self, items: queue.Queue, stop: threading.Event) -> None:
        self._items, self._stop = items, stop

    def __call__(self, samples: np.ndarray, rate: int) -> None:
        if self._stop.is_set():
            raise Cancelled("the stream's consumer went away")
        self._items.put((samples, rate))

    def stopped(self) -> bool:
        return self._stop.is_set()


def stream_call(call: Callable[[OnAudio], T], name: str = "f5ui-stream") -> Stream[T]:
    """Run `call(on_audio)` in a thread; yield each piece it reports, then Done(result). An
    exception in the call is raised here, after the pieces before it."""
    return Stream(call, name)


def _run(call: Callable[[OnAudio], T], name: str, stop: threading.Event) -> Iterator[Piece | Done[T]]:
    items: queue.Queue = queue.Queue()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = call(Sink(items, stop))
        except BaseException as exc:  # handed to the consumer
            outcome["error"] = exc
        finally:
            items.put(None)

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    index, start = 0, 0.0
    try:
        while (item := items.get()) is not None:
            samples, rate = item
            yield Piece(samples, rate, index, start)
            index, start = index + 1, start + len(samples) / rate
    finally:
        if worker.is_alive():  # the consumer left before the end
            stop.set()
            log.info("Stream closed by its consumer after %d pieces; the generation stops at the next chunk", index)
    error = outcome.get("error")
    if error is not None:
        raise error  # type: ignore[misc]
    yield Done(outcome["result"])  # type: ignore[arg-type]
