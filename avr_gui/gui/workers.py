"""One generic worker that runs core jobs off the GUI thread, with progress and cancel.

A *job* is any callable ``fn(progress, cancel) -> result`` that follows the core's
long-work contract (:mod:`avr_gui.core.jobs`). :class:`JobRunner` runs it on a thread
pool and hands back a :class:`JobHandle` whose signals fire on the GUI thread, so slots
connected to them may touch widgets. Closing the window calls
:meth:`JobRunner.shutdown`, which cancels every job and waits for the threads.

Jobs can run in *lanes*: each lane is its own pool. The ``"library"`` lane has one
thread that never expires, so every call into the library (whose catalog may be tied
to the thread that opened it) happens on the same thread, one at a time.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore

from avr_gui.core.jobs import Cancelled, CancelToken, ProgressCallback

log = logging.getLogger(__name__)

#: A job: ``fn(progress, cancel) -> result``.
JobFn = Callable[[ProgressCallback, CancelToken], Any]

# Progress reports closer together than this are coalesced: a job that reports every
# frame would otherwise flood the GUI thread's event queue with thousands of events.
_PROGRESS_INTERVAL_S = 0.05
#: Nice value of job threads (Linux: per thread, inherited by threads they start).
WORKER_NICE = 10


def lower_thread_priority(nice: int | None = None) -> bool:
    """Give the calling thread (and the threads it starts) ``nice`` (:data:`WORKER_NICE`).

    Jobs are background work: on 2 cores, indexing or a query at the GUI thread's
    priority held it off a core for 80+ ms at a time. Linux applies nice per thread;
    elsewhere (or when not permitted) this does nothing.

    Returns
    -------
    bool
        Whether the priority was changed.
    """
    nice = WORKER_NICE if nice is None else nice
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return False
    try:
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) >= nice:
            return False
        os.setpriority(os.PRIO_PROCESS, tid, nice)
    except OSError:
        return False
    return True


class _Bridge(QtCore.QObject):
    """Signals emitted from the worker thread; queued onto the GUI thread."""

    progress = QtCore.Signal(int, int, str)
    finished = QtCore.Signal(object)
    failed = QtCore.Signal(object, str)
    cancelled = QtCore.Signal()


class JobHandle(QtCore.QObject):
    """A submitted job as the GUI sees it. All signals arrive on the GUI thread.

    Signals
    -------
    progress(done, total, message)
    finished(result)
    failed(exception, traceback_text)
    cancelled()
    ended()
        After any of the three outcomes.
    """

    progress = QtCore.Signal(int, int, str)
    finished = QtCore.Signal(object)
    failed = QtCore.Signal(object, str)
    cancelled = QtCore.Signal()
    ended = QtCore.Signal()

    def __init__(self, name: str, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        self.done = False
        # Owned by the handle on the C++ side, so it outlives every queued emission.
        self.bridge = _Bridge(self)
        # Bound methods of an object living on the GUI thread: Qt queues the calls there.
        self.bridge.progress.connect(self._on_progress)
        self.bridge.finished.connect(self._on_finished)
        self.bridge.failed.connect(self._on_failed)
        self.bridge.cancelled.connect(self._on_cancelled)

    def cancel(self) -> None:
        """Ask the job to stop at its next cancel check (it emits ``cancelled``)."""
        self.token.cancel()

    @QtCore.Slot(int, int, str)
    def _on_progress(self, done: int, total: int, message: str) -> None:
        if not self.done:
            self.progress.emit(done, total, message)

    @QtCore.Slot(object)
    def _on_finished(self, result: object) -> None:
        self._end()
        self.finished.emit(result)
        self.ended.emit()

    @QtCore.Slot(object, str)
    def _on_failed(self, exc: object, tb: str) -> None:
        self._end()
        self.failed.emit(exc, tb)
        self.ended.emit()

    @QtCore.Slot()
    def _on_cancelled(self) -> None:
        self._end()
        self.cancelled.emit()
        self.ended.emit()

    def _end(self) -> None:
        self.done = True


class _Runnable(QtCore.QRunnable):
    def __init__(self, fn: JobFn, handle: JobHandle) -> None:
        super().__init__()
        self.fn = fn
        self.bridge = handle.bridge
        self.token = handle.token
        self.setAutoDelete(True)

    def run(self) -> None:  # worker thread
        lower_thread_priority()
        last = 0.0
        bridge = self.bridge

        def progress(done: int, total: int, message: str) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= _PROGRESS_INTERVAL_S or (total and done >= total):
                last = now
                bridge.progress.emit(int(done), int(total), str(message))

        try:
            if self.token.cancelled:
                raise Cancelled("cancelled before it started")
            result = self.fn(progress, self.token)
        except Cancelled:
            bridge.cancelled.emit()
        except Exception as exc:  # reported to the GUI, which shows it to the user
            # Debug only: the GUI logs what it shows (a bug's traceback as an error).
            log.debug("job failed: %s: %s", type(exc).__name__, exc)
            bridge.failed.emit(exc, traceback.format_exc())
        else:
            bridge.finished.emit(result)


class JobRunner(QtCore.QObject):
    """Runs jobs on thread pools and tracks them so they can be cancelled and awaited.

    Parameters
    ----------
    threads : int
        Threads of the default lane.
    parent : QObject, optional
    """

    def __init__(self, threads: int = 2, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._pools: dict[str, QtCore.QThreadPool] = {}
        self._default_threads = threads
        self._active: list[JobHandle] = []
        self._closed = False

    def _pool(self, lane: str) -> QtCore.QThreadPool:
        pool = self._pools.get(lane)
        if pool is None:
            pool = QtCore.QThreadPool(self)
            if lane == "default":
                pool.setMaxThreadCount(self._default_threads)
            else:
                pool.setMaxThreadCount(1)
                pool.setExpiryTimeout(-1)  # keep the lane on one thread for its lifetime
            self._pools[lane] = pool
        return pool

    def submit(self, name: str, fn: JobFn, *, lane: str = "default") -> JobHandle:
        """Start ``fn(progress, cancel)`` on a worker thread.

        Parameters
        ----------
        name : str
            Shown to the user while the job runs.
        fn : callable
            ``fn(progress, cancel) -> result``; raises ``Cancelled`` when cancelled.
        lane : str
            ``"default"`` (a small pool) or the name of a one-thread lane that runs its
            jobs in order.

        Returns
        -------
        JobHandle
        """
        handle = JobHandle(name, self)
        if self._closed:
            handle.token.cancel()
        self._active.append(handle)
        handle.ended.connect(lambda h=handle: self._forget(h))
        self._pool(lane).start(_Runnable(fn, handle))
        return handle

    def _forget(self, handle: JobHandle) -> None:
        # Not deleted here: a finished handle is small, and deleting it while a test or
        # a slot still holds it invites use-after-free. It goes with the runner.
        if handle in self._active:
            self._active.remove(handle)

    @property
    def active(self) -> list[JobHandle]:
        """Jobs submitted and not yet ended (as far as the GUI thread has seen)."""
        return list(self._active)

    def cancel_all(self) -> None:
        """Ask every running or queued job to stop."""
        for handle in self._active:
            handle.cancel()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until every pool is idle; ``True`` if they all finished in time."""
        deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms >= 0 else None
        for pool in self._pools.values():
            left = -1 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            if not pool.waitForDone(left):
                return False
        return True

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything, refuse new work and wait for the threads.

        Returns
        -------
        bool
            Whether every thread stopped within ``timeout_ms``.
        """
        self._closed = True
        self.cancel_all()
        return self.wait(timeout_ms)
