"""Runs projects in the background, not tied to any browser tab: one project at a time per model
slot (F5UI_CONCURRENCY workers), segment by segment in the book's order, each through a maker
(makers.py: where a segment is generated). Pause and cancel stop at the next chunk; the segment under
way stays pending and the run goes on from there when started again.

Resumable: a segment's audio is written whole under its final name first, then the segment is marked
made and its take recorded in one transaction. A process killed at any instant leaves each segment
either pending (made again) or done (never made again); a file without its row is swept at start.
A project is run by one process at a time (a lease in the database, let go when its holder dies)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import ModelUnavailable, UserFacingError
from ..streaming import Cancelled
from .files import SEGMENTS, ProjectFiles
from .makers import SegmentJob, SegmentMaker, SegmentOutput
from .records import DONE, FLAGGED, Project, Segment
from .store import ProjectStore, Take

log = logging.getLogger(__name__)

LEASE_STALE_S = 900.0  # a lease whose holder (on another machine) has not beaten for this long is taken over
HOST = socket.gethostname()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class Claims:
    """Segments being made right now, by a run or by a person's regenerate: never both at once."""

    def __init__(self) -> None:
        self._held: set[int] = set()
        self._lock = threading.Lock()

    def held(self) -> set[int]:
        with self._lock:
            return set(self._held)

    @contextmanager
    def hold(self, segment_id: int) -> Iterator[bool]:
        with self._lock:
            free = segment_id not in self._held
            self._held.add(segment_id)
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._held.discard(segment_id)


@dataclass
class Handle:
    """A run under way: what pause and cancel set, and what the status shows."""

    project_id: str
    stop: threading.Event = field(default_factory=threading.Event)
    cancelled: bool = False
    again: bool = False  # started again while it was stopping: queued again once it has stopped
    current: int | None = None  # segment being made
    started: float = field(default_factory=time.time)
    made: int = 0


class Runner:
    def __init__(self, store: ProjectStore, files: ProjectFiles, maker: SegmentMaker,
                 job_for: Callable[[Project, Segment], SegmentJob], workers: int = 1) -> None:
        self.store, self.files, self.maker, self.job_for = store, files, maker, job_for
        self.workers = max(1, workers)
        self.claims = Claims()
        self.token = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._queue: deque[str] = deque()
        self._running: dict[str, Handle] = {}
        self._lock = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False

    # --- control -------------------------------------------------------------------------------
    def start(self, project_id: str) -> None:
        """Queue the project's run (nothing happens when it is queued or running already)."""
        with self._lock:
            if project_id in self._queue:
                return
            if project_id in self._running:
                handle = self._running[project_id]
                handle.again = handle.stop.is_set()  # paused a moment ago: go on once the pause has landed
                handle.cancelled = False
                return
            self.store.reset_failed(project_id)
            self.store.update_project(project_id, state="queued", message="")
            self._queue.append(project_id)
            while len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name=f"project-runner-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._lock.notify_all()

    def stop(self, project_id: str, cancel: bool = False) -> None:
        """Pause (or cancel) the run: at once when queued, at the next chunk when running."""
        with self._lock:
            if project_id in self._queue:
                self._queue.remove(project_id)
                self.store.update_project(project_id, state="cancelled" if cancel else "paused", message="")
                return
            handle = self._running.get(project_id)
            if handle is not None:
                handle.cancelled = handle.cancelled or cancel
                handle.stop.set()
                return
        project = self.store.project(project_id)
        if project.state in ("queued", "running"):  # left over from a process that stopped
            self.store.update_project(project_id, state="cancelled" if cancel else "paused")

    def handle(self, project_id: str) -> Handle | None:
        with self._lock:
            return self._running.get(project_id)

    def wait(self, project_id: str, timeout: float | None = None) -> bool:
        """Block until the project is neither queued nor running; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while project_id in self._queue or project_id in self._running:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._lock.wait(timeout=left)
        return True

    def close(self) -> None:
        """Stop every run at its next chunk (their projects stay 'running', so the next start resumes them)."""
        with self._lock:
            self._closed = True
            for handle in self._running.values():
                handle.stop.set()
            self._lock.notify_all()

    # --- the work --------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                project_id = self._queue.popleft()
                handle = self._running[project_id] = Handle(project_id)
            try:
                self._run(handle)
            except Exception:  # a bug or a broken disk: the run stops with a reason, the worker lives on
                log.exception("Project %s: the run failed", project_id)
                self._set_state(handle, "paused", "The run stopped on an unexpected error; see the server log.")
            finally:
                with self._lock:
                    self._running.pop(project_id, None)
                    self._lock.notify_all()
                if handle.again and not self._closed:
                    self.start(project_id)

    def _run(self, handle: Handle) -> None:
        project_id = handle.project_id
        lease, beat = self.store.lease(project_id)
        if not self.store.claim(project_id, self.token, [lease] if self.lease_is_stale(lease, beat) else []):
            self._set_state(handle, "paused", "Another f5ui process is running this project.")
            return
        try:
            self.store.update_project(project_id, state="running", message="")
            log.info("Project %s: run started", project_id)
            while not handle.stop.is_set():
                segment = self.store.next_pending(project_id, skip=self.claims.held())
                if segment is None:
                    break
                with self.claims.hold(segment.id) as free:
                    if free and not self._make(handle, segment):
                        return
            if self._closed:
                return  # the process is stopping: the project stays "running", and the next start resumes it
            if handle.stop.is_set():
                self._set_state(handle, "cancelled" if handle.cancelled else "paused", "")
            else:
                failed = self.store.counts(project_id)["segments"]["failed"]
                self._set_state(handle, "done", f"{failed} segment(s) failed: regenerate them, or run again to "
                                "retry them." if failed else "")
        finally:
            self.store.release(project_id, self.token)

    def _make(self, handle: Handle, segment: Segment) -> bool:
        """Make one segment and store it; False when the run must stop (the model is unavailable)."""
        handle.current = segment.id
        try:
            job = self.job_for(self.store.project(segment.project_id), segment)
            started, clock = time.time(), time.perf_counter()
            output = self.maker.make(job, handle.stop)
            self.store_output(segment, output, Take(self.maker.name, started, time.perf_counter() - clock,
                                                    output.duration, output.seed))
            handle.made += 1
            self.store.beat(segment.project_id, self.token)
        except Cancelled:
            return True  # the loop sees the stop flag
        except ModelUnavailable as error:
            self._set_state(handle, "paused", f"The model is not available: {error}")
            return False
        except UserFacingError as error:
            self.store.fail(segment, str(error))
        finally:
            handle.current = None
        return True

    def store_output(self, segment: Segment, output: SegmentOutput, take: Take) -> bool:
        """The made segment in place: its file first, then its row and take in one transaction. False
        (and no file kept) when the segment was edited or locked while it was being made."""
        name = f"{segment.id}-{uuid.uuid4().hex[:12]}.wav"
        self.files.place(output.audio, segment.project_id, SEGMENTS, name, move=True)
        status = FLAGGED if output.flagged else DONE
        stored = self.store.finish(segment, status, name, output.duration, output.seed, output.chunk_seeds,
                                   output.quality, output.timings, take)
        if not stored:
            self.files.path(segment.project_id, SEGMENTS, name).unlink(missing_ok=True)
        elif segment.audio and segment.audio != name:  # a regenerated segment's old take
            self.files.path(segment.project_id, SEGMENTS, segment.audio).unlink(missing_ok=True)
        return stored

    def _set_state(self, handle: Handle, state: str, message: str) -> None:
        self.store.update_project(handle.project_id, state=state, message=message)
        log.info("Project %s: %s%s (%d segment(s) made in this run)", handle.project_id, state,
                 f" ({message})" if message else "", handle.made)

    def lease_is_stale(self, lease: str, beat: float) -> bool:
        """Whether a lease's holder is gone: a dead process of this machine, or silent for too long."""
        if not lease or lease == self.token:
            return True
        host, _, rest = lease.partition(":")
        pid_text = rest.partition(":")[0]
        if host == HOST and pid_text.isdigit():
            return int(pid_text) == os.getpid() or not _alive(int(pid_text))
        return time.time() - beat > LEASE_STALE_S
