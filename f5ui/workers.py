"""Worker processes for CPU-bound work that holds Python's GIL: pocketsphinx keeps it for a whole
decode (measured: a 60 s word check froze every other thread of the server for 12 s), so no other
request, not even /health, would be answered meanwhile. A `ProcessPool` runs such work, given as
module-level functions, in `spawn`ed processes (concurrent.futures); the calling thread only waits
on a future, which releases the GIL.

The processes start on the first task, or in the background with `start()`; each runs the pool's
initializer once (to load its models). A process that dies (killed, out of memory) breaks the
executor: it is replaced and the task is tried once more; a second death fails the task with a
message. Size 0 runs the tasks in the calling process, one at a time (no isolation: for debugging
and for measuring what the pool saves). The processes stop with `shutdown_all()` (the server calls
it when it stops) or at exit. Generic: what the processes load and run is up to the caller."""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import UserFacingError

log = logging.getLogger(__name__)

T = TypeVar("T")

NOT_STARTED, STARTING, READY, IN_PROCESS, STOPPED = "not started", "starting", "ready", "in-process", "stopped"


class WorkerLost(UserFacingError):
    """A worker process died twice while running the same task."""


@dataclass(frozen=True)
class PoolState:
    """What the status panel shows of a pool."""

    name: str
    state: str  # one of the constants above
    size: int  # processes wanted (0: in-process)
    alive: int  # processes running now
    restarts: int  # times a broken pool was replaced
    tasks: int  # tasks finished
    last_loss: str = ""  # when and why a process was last lost


PARENT_CHECK_SECONDS = 1.0


def _ready() -> bool:
    """A no-op task: its answer means a process is up and ran the initializer."""
    return True


def _start_worker(initializer: Callable[[], None] | None, parent: int) -> None:
    """Runs first in every worker process: it leaves when the server does (a worker holds both ends of
    its task queue, so it would never notice; a killed server would leave it running), then the
    pool's own initializer."""
    threading.Thread(target=_leave_with, args=(parent,), name="parent-watch", daemon=True).start()
    if initializer is not None:
        initializer()


def _leave_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


class ProcessPool:
    """A pool of `size` spawned processes that each run `initializer` once, then tasks."""

    def __init__(self, name: str, size: int, initializer: Callable[[], None] | None = None) -> None:
        self.name = name
        self.size = max(0, int(size))
        self.initializer = initializer
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # guards the executor; in-process mode: one task at a time
        self._warmed = threading.Event()
        self._stopped = False
        self._restarts = 0
        self._tasks = 0
        self._last_loss = ""
        self._in_process_ready = False

    # --- running tasks ----------------------------------------------------------------------
    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker process (the caller waits, without the GIL). A process lost while
        running it is replaced and `fn` runs once more; lost again, WorkerLost is raised."""
        if self.size == 0:
            return self._run_here(fn, *args)
        for attempt in (1, 2):
            executor = self._current()
            try:
                try:
                    future = executor.submit(fn, *args)
                except BrokenProcessPool:
                    raise
                except RuntimeError:  # shut down by another thread just now (replaced): the next one takes it
                    executor = self._current()
                    future = executor.submit(fn, *args)
                result = future.result()
            except BrokenProcessPool as exc:
                self._replace(executor, exc)
                if attempt == 2:
                    raise WorkerLost(f"A {self.name} process stopped twice while working on this request (it was "
                                     "killed, or ran out of memory).",
                                     "Try again; if it keeps happening, check the server's memory and log.") from exc
                log.warning("%s: a worker process was lost; running the task again on a new one", self.name)
                continue
            with self._lock:
                self._tasks += 1
            return result
        raise AssertionError("unreachable")

    def _run_here(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if not self._in_process_ready and self.initializer is not None:
                self.initializer()
            self._in_process_ready = True
            result = fn(*args)
            self._tasks += 1
            return result

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._stopped = False
                # spawn, not fork: a forked child would inherit the server's threads' locks mid-use.
                self._executor = ProcessPoolExecutor(self.size, multiprocessing.get_context("spawn"),
                                                     initializer=_start_worker,
                                                     initargs=(self.initializer, os.getpid()))
                log.info("%s: starting %d worker process(es)", self.name, self.size)
            return self._executor

    def _replace(self, broken: ProcessPoolExecutor, exc: BaseException) -> None:
        """Drop a broken executor (once, whoever saw it break first); the next task starts a new one."""
        with self._lock:
            if self._executor is not broken:
                return  # another thread replaced it already
            self._executor = None
            self._restarts += 1
            self._warmed.clear()
            self._last_loss = f"{time.strftime('%Y-%m-%d %H:%M:%S')}: {exc}"[:300]
        broken.shutdown(wait=False, cancel_futures=True)
        log.warning("%s: worker process lost (%s); the pool is restarted", self.name, exc)
        self.start()  # the new processes load their models now, not when the next request comes

    # --- starting and stopping -------------------------------------------------------------------
    def start(self) -> None:
        """Start every process in the background (they load their models): returns at once."""
        threading.Thread(target=self.warm, name=f"{self.name}-start", daemon=True).start()

    def warm(self, timeout: float | None = None) -> bool:
        """Start every process and wait until each ran its initializer; False on a timeout."""
        if self.size == 0:
            self._run_here(_ready)
            return True
        executor = self._current()
        try:
            # One no-op per process: each submission that finds no idle process spawns one.
            futures: list[Future] = [executor.submit(_ready) for _ in range(self.size)]
            for future in futures:
                future.result(timeout)
        except BrokenProcessPool as exc:
            self._replace(executor, exc)
            return False
        except TimeoutError:
            return False
        self._warmed.set()
        return True

    def shutdown(self) -> None:
        """Stop the processes now (a task still running in one is abandoned)."""
        with self._lock:
            executor, self._executor = self._executor, None
            self._stopped = True
            self._warmed.clear()
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())  # no public accessor
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        log.info("%s: worker processes stopped", self.name)

    # --- what it is doing -------------------------------------------------------------------
    def pids(self) -> list[int]:
        """Process ids of the live workers (tests kill one to see it replaced)."""
        with self._lock:
            processes = getattr(self._executor, "_processes", None) or {}
            return sorted(p.pid for p in list(processes.values()) if p.is_alive())

    def state(self) -> PoolState:
        alive = len(self.pids())
        if self.size == 0:
            state = IN_PROCESS
        elif self._stopped:
            state = STOPPED
        elif self._executor is None:
            state = NOT_STARTED
        else:
            state = READY if self._warmed.is_set() or self._tasks else STARTING
        return PoolState(self.name, state, self.size, alive, self._restarts, self._tasks, self._last_loss)


# --- one pool per name and size in a process --------------------------------------------------------
_POOLS: dict[tuple[str, int], ProcessPool] = {}
_POOLS_LOCK = threading.Lock()


def shared_pool(name: str, size: int, initializer: Callable[[], None] | None = None) -> ProcessPool:
    """The process's pool of this name and size (made on first call; started by its first task)."""
    with _POOLS_LOCK:
        key = (name, max(0, int(size)))
        if key not in _POOLS:
            _POOLS[key] = ProcessPool(name, size, initializer)
        return _POOLS[key]


def shutdown_all() -> None:
    """Stop every pool's processes (the server calls it when it stops; also at exit)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
    for pool in pools:
        pool.shutdown()


atexit.register(shutdown_all)
