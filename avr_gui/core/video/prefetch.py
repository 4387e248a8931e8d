"""Run an iterator ahead of its consumer on a background thread, through a bounded queue.

Decoding releases the GIL (FFmpeg, swscale, OpenCV), so a decoder thread working a few
frames ahead overlaps with a consumer that encodes features or draws frames.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

from avr_gui.core.errors import InputError

T = TypeVar("T")

#: Name of every prefetch thread (tests count them to prove none is left behind).
THREAD_NAME = "avr-prefetch"

_ITEM, _DONE, _ERROR = 0, 1, 2
# How often a producer blocked on a full queue re-checks whether the consumer left.
_POLL_S = 0.05


def prefetch(iterable: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Iterate ``iterable`` on a background thread, at most ``depth`` items ahead.

    The source iterator runs entirely on the background thread (it is also closed
    there, so a generator's ``finally`` releases its resources on the thread that
    used them). An exception raised by the source is re-raised to the consumer at the
    point in the sequence where it happened. When the consumer stops early — ``break``,
    an exception, ``close()`` or garbage collection of the returned generator — the
    thread is told to stop, the source is closed and the thread is joined, so no
    thread outlives the iteration.

    Parameters
    ----------
    iterable : iterable
        Source of items. It should not block indefinitely: a stop request is seen
        between items.
    depth : int
        Capacity of the queue between the threads (>= 1). Memory held ahead of the
        consumer is at most ``depth + 1`` items.

    Returns
    -------
    iterator
        The same items in the same order.

    Raises
    ------
    InputError
        If ``depth`` is not a positive integer (raised at call time).
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise InputError(f"prefetch depth must be a positive whole number, got {depth!r}")
    return _prefetch(iter(iterable), depth)


def _prefetch(source: Iterator[T], depth: int) -> Iterator[T]:
    q: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(message: tuple[int, object]) -> bool:
        while not stop.is_set():
            try:
                q.put(message, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put((_ITEM, item)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((_ERROR, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                # A failing close must not mask what the consumer was already handed.
                with contextlib.suppress(Exception):
                    close()

    thread = threading.Thread(target=produce, name=THREAD_NAME, daemon=True)
    thread.start()
    try:
        while True:
            kind, payload = q.get()
            if kind == _ITEM:
                yield payload  # type: ignore[misc]
            elif kind == _DONE:
                return
            else:
                raise payload  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
