"""The one progress printer of the ``avr`` command.

On a terminal it draws a bar that rewrites itself (``\\r``): the message, done/total,
the percentage and the time left. Anywhere else (``avr index ... 2>log``, a pipe, a CI
log) a carriage return would pile up into one endless line, so it writes one plain
line every few seconds instead, and the last state once the work is over; a run too
short to print anything stays silent, so quick commands leave no noise in a log.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

#: Seconds between two plain lines when stderr is not a terminal.
PLAIN_INTERVAL_S = 5.0
#: Seconds between two redraws of the bar (a terminal redrawn per frame is slow).
BAR_INTERVAL_S = 0.1
#: Characters of the bar itself, and of the message before it.
BAR_WIDTH = 20
MESSAGE_WIDTH = 40


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def format_duration(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a number of seconds.

    Parameters
    ----------
    seconds : float

    Returns
    -------
    str
    """
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _shorten(message: str, width: int) -> str:
    # Messages are often file paths: their end (the name) says the most.
    return message if len(message) <= width else "…" + message[-(width - 1) :]


class ProgressPrinter:
    """A progress callback (``(done, total, message)``) that prints to a stream.

    Parameters
    ----------
    enabled : bool
        False: print nothing (``--json``, ``-q``).
    stream : text stream, optional
        Where to print; default ``sys.stderr`` as it is when each line is printed.
    clock : callable, optional
        Seconds, monotonic; default :func:`time.monotonic` (tests pass a fake one).
    interval : float, optional
        Seconds between plain lines; default :data:`PLAIN_INTERVAL_S`.
    every_message : bool
        Print each new message as its own line, whatever the stream (for a few long
        steps, such as a model install, rather than a count).
    """

    def __init__(
        self,
        enabled: bool = True,
        *,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = None,
        every_message: bool = False,
    ) -> None:
        self.enabled = enabled
        self._stream = stream
        self._clock = clock
        self._interval = PLAIN_INTERVAL_S if interval is None else interval
        self._every_message = every_message
        self._start = clock()
        self._last_print: float | None = None
        self._last_message: str | None = None
        self._pending: str | None = None  # the latest plain line not printed yet
        self._printed = False
        self._bar_open = False

    @property
    def stream(self) -> TextIO:
        """The stream printed to."""
        return self._stream if self._stream is not None else sys.stderr

    @property
    def is_bar(self) -> bool:
        """Whether the stream is a terminal (a bar), else plain lines."""
        return _is_terminal(self.stream)

    def __call__(self, done: int, total: int, message: str) -> None:
        """Report ``done`` of ``total`` steps (``total`` 0: unknown) and what is done."""
        if not self.enabled:
            return
        now = self._clock()
        if self._every_message:
            if message != self._last_message:
                self._last_message = message
                self._write_line(message)
            return
        final = total > 0 and done >= total
        if self.is_bar:
            due = self._last_print is None or now - self._last_print >= BAR_INTERVAL_S
            if due or final:
                self._draw_bar(done, total, message, now)
            return
        line = self._plain_line(done, total, message, now)
        since = now - (self._start if self._last_print is None else self._last_print)
        if since >= self._interval or (final and self._printed):
            self._write_line(line)
            self._last_print = now
            self._pending = None
        else:
            self._pending = line

    def finish(self) -> None:
        """End the progress output: close the bar's line, or print the last state.

        A plain log that showed progress gets the state the work ended in, so it never
        ends mid-way; a run that printed nothing stays silent.
        """
        if not self.enabled:
            return
        if self._bar_open:
            print(file=self.stream, flush=True)
            self._bar_open = False
        elif self._printed and self._pending is not None:
            self._write_line(self._pending)
        self._pending = None

    def _eta(self, done: int, total: int, now: float) -> str:
        elapsed = now - self._start
        if total <= 0 or done <= 0 or done >= total:
            return ""
        return f" ETA {format_duration(elapsed / done * (total - done))}"

    def _plain_line(self, done: int, total: int, message: str, now: float) -> str:
        if total > 0:
            count = f"{done}/{total} ({100 * done / total:.0f}%)"
        else:
            count = f"{done}"
        elapsed = format_duration(now - self._start)
        return f"{message}: {count}, {elapsed} elapsed{self._eta(done, total, now)}"

    def _draw_bar(self, done: int, total: int, message: str, now: float) -> None:
        if total > 0:
            filled = min(BAR_WIDTH, int(BAR_WIDTH * done / total))
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            count = f" [{bar}] {done}/{total} {100 * done / total:3.0f}%"
        else:
            count = f" {done}"
        text = f"{_shorten(message, MESSAGE_WIDTH)}{count}{self._eta(done, total, now)}"
        # \x1b[K clears what a longer earlier line left at the end.
        print(f"\r\x1b[K{text}", end="", file=self.stream, flush=True)
        self._bar_open = True
        self._printed = True
        self._last_print = now

    def _write_line(self, line: str) -> None:
        if self._bar_open:  # a line never starts in the middle of the bar
            print(file=self.stream)
            self._bar_open = False
        print(line, file=self.stream, flush=True)
        self._printed = True
