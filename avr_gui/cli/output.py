"""One-line messages on stderr, JSON on stdout, and the CLI's logging setup."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from typing import TextIO

#: Format of the CLI's log records: ``avr: warning: message``.
LOG_FORMAT = "avr: %(levelname)s: %(message)s"


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines too) made one space.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    return " ".join(text.split())


def warn(message: str) -> None:
    """Print ``avr: warning: MESSAGE`` on stderr.

    Parameters
    ----------
    message : str
    """
    print(f"avr: warning: {message}", file=sys.stderr)


def note(message: str) -> None:
    """Print ``avr: note: MESSAGE`` on stderr.

    Parameters
    ----------
    message : str
    """
    print(f"avr: note: {message}", file=sys.stderr)


def error(message: str) -> None:
    """Print ``avr: error: MESSAGE`` (one line) on stderr.

    Parameters
    ----------
    message : str
    """
    print(f"avr: error: {one_line(message)}", file=sys.stderr)


def print_json(payload: object, *, indent: int | None = 2, ensure_ascii: bool = True) -> None:
    """Print ``payload`` as JSON on stdout, then a newline.

    Parameters
    ----------
    payload : object
    indent : int or None
        None: one line.
    ensure_ascii : bool
        As :func:`json.dump`.
    """
    json.dump(payload, sys.stdout, indent=indent, ensure_ascii=ensure_ascii)
    print()


@contextlib.contextmanager
def warnings_as_notes() -> Iterator[None]:
    """Show Python warnings as ``avr: note: MESSAGE`` lines, each message once.

    Python's own format (file, line number, category, source line) is noise to a user
    of the command; the filters stay as they are, so ``-W`` still works.
    """
    import warnings

    shown: set[str] = set()

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        text = one_line(str(message)) or category.__name__
        if text not in shown:
            shown.add(text)
            note(text)

    # showwarning is module state, so the decoder's prefetch thread is covered too.
    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


class _LowerLevelFormatter(logging.Formatter):
    """``avr: warning: ...``: the level in lower case, as the CLI's other lines."""

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)  # the record is shared: copy it
        record.levelname = record.levelname.lower()
        return super().format(record)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is at each record (pytest swaps it per test)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always the current sys.stderr


def log_level(config_level: str, verbose: int, quiet: bool) -> int:
    """The logging level of a run: ``-q``, else ``-v`` (info) / ``-vv`` (debug), else
    the ``log.level`` setting.

    Parameters
    ----------
    config_level : str
        ``debug``, ``info``, ``warning`` or ``error``.
    verbose : int
        How many ``-v`` were given.
    quiet : bool
        ``-q`` given.

    Returns
    -------
    int
        A :mod:`logging` level.
    """
    if quiet:
        return logging.ERROR
    if verbose >= 2:
        return logging.DEBUG
    if verbose == 1:
        return logging.INFO
    return logging.getLevelNamesMapping().get(config_level.upper(), logging.WARNING)


@contextlib.contextmanager
def cli_logging(level: int) -> Iterator[None]:
    """Log records of ``level`` and above to stderr as ``avr: LEVEL: message``.

    Only the command's entry point calls this (libraries never configure logging). The
    handler and the root level are put back on exit, so calling :func:`avr_gui.cli.main`
    in a process (tests, the app bundle's launcher) leaves logging as it found it.

    Parameters
    ----------
    level : int
    """
    root = logging.getLogger()
    handler = _StderrHandler()
    handler.setFormatter(_LowerLevelFormatter(LOG_FORMAT))
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
