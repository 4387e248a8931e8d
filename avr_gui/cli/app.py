"""The ``avr`` command line: thin over the core, ``--json`` for machines.

Each command group lives in its own module of this package and adds itself to the
parser with ``register(subparsers)``; this module builds the parser, sets up logging
and turns every expected failure into one line on stderr and an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from avr_gui import __version__
from avr_gui.cli.output import cli_logging, error, log_level, warnings_as_notes
from avr_gui.core.errors import AvrError

#: Modules of the command groups, in the order ``avr --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "avr_gui.cli.align",
    "avr_gui.cli.evaluate",
    "avr_gui.cli.demo",
    "avr_gui.cli.library",
    "avr_gui.cli.learn",
    "avr_gui.cli.export",
    "avr_gui.cli.models",
    "avr_gui.cli.config",
)

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``avr`` with every subcommand.

    Returns
    -------
    argparse.ArgumentParser
    """
    ap = argparse.ArgumentParser(
        prog="avr",
        description="AVR Studio: find, rank and time-align videos whose action matches a query.",
    )
    ap.add_argument("--version", action="version", version=f"AVR Studio {__version__}")
    loud = ap.add_mutually_exclusive_group()
    loud.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log what the command does (-vv: debug details); default from config log.level",
    )
    loud.add_argument(
        "-q", "--quiet", action="store_true", help="only errors: no progress, no log messages"
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return ap


def missing_folder(exc: OSError) -> Path | None:
    """The folder that does not exist when ``exc`` is about a file inside it.

    Parameters
    ----------
    exc : OSError

    Returns
    -------
    pathlib.Path or None
    """
    name = exc.filename
    if not isinstance(exc, FileNotFoundError) or not isinstance(name, str | bytes) or not name:
        return None
    folder = Path(os.fsdecode(name)).parent
    return None if folder.exists() else folder


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``avr``; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0, 1 (an unexpected system error), 2 (bad input, settings or arguments) or 130
        (interrupted).
    """
    with warnings_as_notes():
        parser = build_parser()
        args = parser.parse_args(argv)
        return run(args)


def _level(args: argparse.Namespace) -> int:
    """The run's logging level; reads the settings unless the command must not."""
    setting = "warning"
    if getattr(args, "reads_config", True) and not (args.verbose or args.quiet):
        from avr_gui.core.config import load_config

        setting = load_config().get_str("log.level")
    return log_level(setting, args.verbose, args.quiet)


def run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand; every expected failure is one line on stderr.

    Parameters
    ----------
    args : argparse.Namespace
        As :func:`build_parser` parsed them.

    Returns
    -------
    int
        The exit status.
    """
    try:
        with cli_logging(_level(args)):
            log.debug("command %s", args.command)
            return int(args.func(args))
    except AvrError as exc:  # ConfigError included: a bad setting is bad input
        error(str(exc))
        return 2
    except BrokenPipeError:
        # The reader went away (`avr ... | head`): not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        folder = missing_folder(exc)
        if folder is not None:
            # Writers go through a temporary file beside the target: name the folder the
            # user gave, not that file.
            error(f"{folder}: no such folder")
            return 2
        print(f"avr: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("avr: interrupted", file=sys.stderr)
        return 130
