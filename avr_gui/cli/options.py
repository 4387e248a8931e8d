"""Options several ``avr`` commands share, and the settings behind their defaults.

Every default an option has comes from the user's settings
(:mod:`avr_gui.core.config`): the parser's default is None ("not given"), and the
command resolves it with :func:`command_config`, where a value given on the command
line wins over the environment, the user file and the shipped default.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from avr_gui.cli.output import warn
from avr_gui.cli.progress import ProgressPrinter
from avr_gui.core.config import DEFAULT_SOURCE, KEYS, Config, load_config

if TYPE_CHECKING:
    from avr_gui.core.features.encoders import Encoder

#: Files that hold features already: no encoder is needed for them.
FEATURE_SUFFIXES = (".npy", ".npz")
#: Value of ``device`` and ``features.encoder`` that lets the program choose.
AUTO = "auto"


def command_config(overrides: Mapping[str, object | None]) -> Config:
    """The settings in effect for a command: ``overrides`` (its options) over the rest.

    Parameters
    ----------
    overrides : mapping of str to object or None
        Setting key to the option's value; None where the option was not given.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        A bad user file, environment variable or option value (one line).
    """
    return load_config(overrides=overrides)


def is_default(config: Config, key: str) -> bool:
    """Whether ``key`` has its shipped default (nobody set it).

    Parameters
    ----------
    config : Config
    key : str

    Returns
    -------
    bool
    """
    return config.source(key) == DEFAULT_SOURCE


def default_help(key: str) -> str:
    """``(default from config: VALUE)`` for an option's help, with the shipped value.

    The value is the shipped one (the help is built before any setting is read); `avr
    config show` tells the one in effect.

    Parameters
    ----------
    key : str
        The setting the option stands for.

    Returns
    -------
    str
    """
    value = KEYS[key].default
    return f"(default from config {key}: {value if value != '' else 'unset'})"


def device_of(config: Config) -> str | None:
    """The ``device`` setting as the core takes it: None for ``auto``.

    ``auto`` goes to the core as None so that it still looks at ``AVR_DEVICE`` and
    the GPU itself.

    Parameters
    ----------
    config : Config

    Returns
    -------
    str or None
    """
    device = config.get_str("device")
    return None if device == AUTO else device


def size_of(config: Config) -> int | None:
    """The encoder input size, or None when nobody set ``features.size``.

    Each encoder has its own native size; passing the shipped default to all would
    change the features (and the version) of encoders that differ from it.

    Parameters
    ----------
    config : Config

    Returns
    -------
    int or None
    """
    return None if is_default(config, "features.size") else config.get_int("features.size")


def encoder_setting(config: Config, fallback: str | None) -> str | None:
    """The encoder a command uses: the setting, or ``fallback`` when nobody set it.

    Parameters
    ----------
    config : Config
    fallback : str or None
        The command's own choice when ``features.encoder`` has its shipped default
        (a pair of clips: appearance features; a library: its own encoder).

    Returns
    -------
    str or None
    """
    if is_default(config, "features.encoder"):
        return fallback
    return config.get_str("features.encoder")


def add_json_option(p: argparse.ArgumentParser, help: str = "print one JSON object") -> None:
    """``--json``.

    Parameters
    ----------
    p : argparse.ArgumentParser
    help : str
    """
    p.add_argument("--json", action="store_true", help=help)


def add_device_option(p: argparse.ArgumentParser) -> None:
    """``--device`` (setting ``device``).

    Parameters
    ----------
    p : argparse.ArgumentParser
    """
    p.add_argument(
        "--device",
        default=None,
        help=f"auto, cpu or cuda {default_help('device')}",
    )


def add_fps_option(p: argparse.ArgumentParser, help: str) -> None:
    """``--fps`` (setting ``features.fps``).

    Parameters
    ----------
    p : argparse.ArgumentParser
    help : str
        What the rate is for; the default is appended.
    """
    p.add_argument("--fps", type=float, default=None, help=f"{help} {default_help('features.fps')}")


def add_encoder_option(p: argparse.ArgumentParser, help: str) -> None:
    """``--encoder`` (setting ``features.encoder``), with the older ``--backend``.

    ``--backend`` stays a hidden alias so that scripts keep working; the new name
    says what it chooses ("backend" also names the video decoder).

    Parameters
    ----------
    p : argparse.ArgumentParser
    help : str
    """
    p.add_argument("--encoder", dest="backend", default=None, metavar="NAME", help=help)
    p.add_argument("--backend", dest="backend", default=None, help=argparse.SUPPRESS)


def add_weights_option(p: argparse.ArgumentParser, help: str) -> None:
    """``--weights FILE``.

    Parameters
    ----------
    p : argparse.ArgumentParser
    help : str
    """
    p.add_argument("--weights", default=None, metavar="FILE", help=help)


def add_encoder_options(p: argparse.ArgumentParser) -> None:
    """``--encoder``, ``--weights`` and ``--size``: the frame encoder of a pair of clips.

    Parameters
    ----------
    p : argparse.ArgumentParser
    """
    from avr_gui.core.features.encoders import APPEARANCE_BACKEND

    add_encoder_option(
        p,
        "frame encoder for videos (default from config features.encoder: auto, which is "
        f"{APPEARANCE_BACKEND} for a pair of clips; see `avr features --list`)",
    )
    add_weights_option(
        p,
        "your weights: a state dict for effnet-lite0, or the model file for torchscript / onnx",
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="encoder input size in pixels (default from config features.size when set there, "
        "else the encoder's own)",
    )


def encoder_config(
    args: argparse.Namespace, more: Mapping[str, object | None] | None = None
) -> Config:
    """The settings of a command with the encoder options, ``more`` overrides added.

    Parameters
    ----------
    args : argparse.Namespace
        With ``backend`` and ``device``, and ``size`` and ``fps`` where the command has them.
    more : mapping of str to object or None, optional
        The command's other options by setting key.

    Returns
    -------
    Config
    """
    overrides: dict[str, object | None] = {
        "features.encoder": args.backend,
        "features.size": getattr(args, "size", None),
        "features.fps": getattr(args, "fps", None),
        "device": args.device,
    }
    overrides.update(more or {})
    return command_config(overrides)


def encoder_for(args: argparse.Namespace, config: Config, paths: Sequence[str]) -> Encoder | None:
    """The encoder a command on a pair of clips needs, or None when every input is a
    feature array.

    Parameters
    ----------
    args : argparse.Namespace
        ``backend`` (already resolved) and ``weights``.
    config : Config
        For ``features.size`` and ``device``.
    paths : sequence of str
        The inputs.

    Returns
    -------
    Encoder or None
    """
    if all(Path(p).suffix.lower() in FEATURE_SUFFIXES for p in paths):
        return None
    from avr_gui.core.features import get_encoder

    size = size_of(config)
    options = {"size": size} if size else {}
    return get_encoder(
        args.backend, weights=args.weights, device=device_of(config), on_fallback=warn, **options
    )


def progress_for(args: argparse.Namespace, *, every_message: bool = False) -> ProgressPrinter:
    """The progress printer of a command: off under ``--json`` and ``-q``.

    Parameters
    ----------
    args : argparse.Namespace
    every_message : bool
        As :class:`~avr_gui.cli.progress.ProgressPrinter`.

    Returns
    -------
    ProgressPrinter
    """
    enabled = not getattr(args, "json", False) and not getattr(args, "quiet", False)
    return ProgressPrinter(enabled, every_message=every_message)
