"""``avr config show`` and ``avr config path``: the settings in effect and their file."""

from __future__ import annotations

import argparse

from avr_gui.cli.options import add_json_option, command_config
from avr_gui.cli.output import print_json


def cmd_config_show(args: argparse.Namespace) -> int:
    """``avr config show [--json]``: every setting, its value and where it comes from.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit status.
    """
    from avr_gui.core.config import format_config

    config = command_config({})
    if args.json:
        payload: dict[str, object] = {
            key: {"value": value, "source": source} for key, value, source in config.items()
        }
        payload["user_file"] = str(config.user_file)
        print_json(payload, ensure_ascii=False)
    else:
        print(format_config(config), end="")
    return 0


def cmd_config_path(args: argparse.Namespace) -> int:
    """``avr config path``: the user's settings file (it need not exist).

    Reads no settings, so it works while the file is broken: that is when it is needed.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit status.
    """
    from avr_gui.core.config import user_config_path

    print(user_config_path())
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``avr config show`` and ``avr config path``.

    Parameters
    ----------
    sub : argparse._SubParsersAction
    """
    co = sub.add_parser(
        "config",
        help="show the settings in effect, or where the settings file is",
        description="Settings come from the shipped defaults, the user file (`avr config "
        "path`; TOML, e.g. [query] top = 20), AVR_* environment variables (AVR_QUERY_TOP) "
        "and the command line, each over the one before.",
    )
    csub = co.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = csub.add_parser("show", help="every setting, its value and its source")
    add_json_option(show)
    show.set_defaults(func=cmd_config_show)
    path = csub.add_parser("path", help="the user's settings file")
    # The file's path must be printable while the file is broken.
    path.set_defaults(func=cmd_config_path, reads_config=False)
