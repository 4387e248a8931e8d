"""One long-lived thread pool for the alignment kernels (they release the GIL).

A query aligns its candidates in three or four batches (coarse pass, full pass, the
shown matches); a fresh pool per batch started and joined its threads every time, a few
milliseconds per query on a busy two-core machine. The pool here is made once and kept.
A batch submitted from one of its own threads (a kernel task that aligns in turn) runs
inline instead, so nested use can never wait on itself.

On two cores or fewer there is no pool: the batches run on the calling thread. There
the cost matrices' BLAS already keeps both cores busy, and the kernel tasks are short
and hand the GIL back and forth with the caller; side by side, library queries ran
5-20 % faster inline (docs/RESULTS.md, issue 16).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_PREFIX = "avr-align"
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


#: Machines with at most this many usable cores run kernel batches inline.
INLINE_CORES = 2


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_workers() -> int:
    """Threads of the shared pool: the usable cores, at most 8; 1 (inline) on
    :data:`INLINE_CORES` cores or fewer."""
    cores = usable_cores()
    return 1 if cores <= INLINE_CORES else min(8, cores)


class _Inline:
    """The subset of an executor's interface the aligners use, run on the caller."""

    @staticmethod
    def map(fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return iter([fn(x) for x in items])


def _shared() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=default_workers(), thread_name_prefix=_PREFIX)
        return _pool


@contextmanager
def kernel_pool(workers: int | None = None) -> Iterator[ThreadPoolExecutor | _Inline]:
    """An executor for a batch of kernel calls.

    Parameters
    ----------
    workers : int, optional
        ``None``: :func:`default_workers`. That count: the shared pool. Another count: a
        private pool of that many threads for this batch. 1: run on the caller.

    Yields
    ------
    executor
        Has ``map(fn, items)``; results in the order of ``items``.
    """
    if workers is None:
        workers = default_workers()
    if workers == 1 or threading.current_thread().name.startswith(_PREFIX):
        yield _Inline()
    elif workers == default_workers():
        yield _shared()
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=_PREFIX) as pool:
            yield pool
