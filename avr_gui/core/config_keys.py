"""The known settings: their keys, defaults, types and checks, and value validation.

:data:`KEYS` is the table of every setting (:class:`Setting`); :func:`validated` and
:func:`parsed` turn a value from any layer (file, environment, command line) into one
of the setting's type, or a :class:`ConfigError` whose one-line message names the key
and where the value came from. :mod:`avr_gui.core.config` merges the layers with them.

Standard library only, like :mod:`avr_gui.core.config`: reading the settings must never
cost the import of torch, OpenCV, PyAV or Qt.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from avr_gui.core.errors import InputError

_TYPE_NAMES: dict[type, str] = {int: "an integer", float: "a number", str: "a string"}
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(InputError):
    """A setting is unknown or has a value that cannot be used.

    The message is one line naming the key and where the value came from.

    Attributes
    ----------
    key : str or None
        The setting at fault (None when the whole file is, e.g. malformed TOML).
    where : str or None
        Where the value came from: a file path, ``"environment AVR_X"``, ``"command line"``.
    """

    def __init__(self, message: str, key: str | None = None, where: str | None = None) -> None:
        # One line whatever a wrapped message held: the CLI prints it as it is.
        super().__init__(" ".join(message.split()))
        self.key = key
        self.where = where

    def __reduce__(self) -> tuple[type, tuple[str, str | None, str | None]]:
        # Keeps key and where across process boundaries (worker pools).
        return (type(self), (str(self), self.key, self.where))


# A check returns None for a good value, else what is wrong ("must be at least 1").
Check = Callable[[Any], str | None]


def _between(lo: float, hi: float, *, open_lo: bool = False, open_hi: bool = False) -> Check:
    def check(value: float) -> str | None:
        above = value > lo if open_lo else value >= lo
        below = value < hi if open_hi else value <= hi
        if above and below:  # NaN fails both
            return None
        left = "(" if open_lo else "["
        right = ")" if open_hi else "]"
        return f"must be in {left}{lo:g}, {hi:g}{right}"

    return check


def _at_least(lo: int) -> Check:
    def check(value: int) -> str | None:
        return None if value >= lo else f"must be at least {lo}"

    return check


def _one_of(*choices: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in choices else "must be one of " + ", ".join(choices)

    return check


def _non_empty(value: str) -> str | None:
    return None if value else "must not be empty"


def _device(value: str) -> str | None:
    return None if _DEVICE.match(value) else "must be auto, cpu, cuda or cuda:N"


def _log_level(value: str) -> str | None:
    return None if value in LOG_LEVELS else "must be one of " + ", ".join(LOG_LEVELS)


def _strip(value: str) -> str:
    return value.strip()


def _strip_lower(value: str) -> str:
    # resolve_device has always accepted " CPU "; the log level is named either way.
    return value.strip().lower()


@dataclass(frozen=True)
class Setting:
    """One known setting.

    Attributes
    ----------
    key : str
        Dotted key, ``"query.top"``.
    default : int, float or str
        Shipped default (already valid).
    type : type
        ``int``, ``float`` or ``str``: values from the file must be of it (an int is
        accepted for a float), values from the environment are parsed as it.
    help : str
        One line for ``avr config show`` and the documentation.
    env : str
        Environment variable read for it: ``"AVR_" + key.upper().replace(".", "_")``.
    check : callable, optional
        ``check(value) -> None | str``: None when the value is good, else what is wrong.
    normalize : callable, optional
        Applied to a string value before it is checked (e.g. strip and lower-case).
    """

    key: str
    default: object
    type: type
    help: str
    env: str
    check: Check | None = field(default=None, repr=False, compare=False)
    normalize: Callable[[str], str] | None = field(default=None, repr=False, compare=False)


def env_name(key: str) -> str:
    """The environment variable of ``key``: ``"query.top"`` -> ``"AVR_QUERY_TOP"``.

    Parameters
    ----------
    key : str

    Returns
    -------
    str
    """
    return "AVR_" + key.upper().replace(".", "_")


def _setting(
    key: str,
    default: object,
    kind: type,
    help: str,
    check: Check | None = None,
    normalize: Callable[[str], str] | None = None,
) -> Setting:
    return Setting(key, default, kind, help, env_name(key), check, normalize)


_SETTINGS = (
    _setting(
        "features.encoder",
        "auto",
        str,
        "features for new libraries and for avr align/features/export",
        _non_empty,
        _strip,
    ),
    _setting(
        "features.fps",
        10.0,
        float,
        "frames per second sampled for features",
        _between(0, 120, open_lo=True),
    ),
    _setting("features.size", 224, int, "encoder input size in pixels", _between(16, 1024)),
    _setting(
        "features.pose_model",
        "shipped",
        str,
        "what performer clips are compared by without a model of the library's own: "
        "shipped (the learned pose model) or none (the hand-made pose descriptor)",
        _one_of("shipped", "none"),
        _strip_lower,
    ),
    _setting(
        "device", "auto", str, "compute device: auto, cpu, cuda or cuda:N", _device, _strip_lower
    ),
    _setting("query.top", 10, int, "matches a query returns", _at_least(1)),
    _setting(
        "query.candidates",
        50,
        int,
        "clips shortlisted by clip similarity, then aligned",
        _at_least(1),
    ),
    _setting(
        "verdict.alignable",
        0.5,
        float,
        "probability from which a match is badged alignable",
        _between(0, 1, open_lo=True, open_hi=True),
    ),
    _setting(
        "verdict.unlikely",
        0.2,
        float,
        "probability under which a match is called unlikely",
        _between(0, 1, open_lo=True, open_hi=True),
    ),
    _setting("models.dir", "", str, "model folder (empty: the per-user data folder)"),
    _setting(
        "log.level",
        "warning",
        str,
        "least severe messages logged: debug, info, warning or error",
        _log_level,
        _strip_lower,
    ),
)

#: Every known setting by its dotted key.
KEYS: dict[str, Setting] = {s.key: s for s in _SETTINGS}
#: Table names of the file ("features", "query", ...); top-level keys have none.
TABLES = frozenset(k.split(".")[0] for k in KEYS if "." in k)


def _unknown(key: str, where: str | None) -> ConfigError:
    near = difflib.get_close_matches(key, KEYS, n=1)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    place = f" in {where}" if where else ""
    return ConfigError(f"config: unknown key '{key}'{place}{hint}", key, where)


def setting_of(key: str, where: str | None) -> Setting:
    """The known setting of ``key``.

    Parameters
    ----------
    key : str
        Dotted key, e.g. ``"query.top"``.
    where : str or None
        Where the key was found, for the message (None: a lookup in code).

    Returns
    -------
    Setting

    Raises
    ------
    ConfigError
        ``key`` is not a known setting; the message suggests the nearest one.
    """
    setting = KEYS.get(key)
    if setting is None:
        raise _unknown(key, where)
    return setting


def validated(setting: Setting, value: object, where: str, what: str) -> object:
    """``value`` as the setting's type, normalized and checked.

    Parameters
    ----------
    setting : Setting
    value : object
        A value as the layer holds it (an int is accepted for a float setting).
    where : str
        The value's source, for :attr:`ConfigError.where`.
    what : str
        The value and its source as messages name them: ``"query.top in <file>"``,
        ``"AVR_QUERY_TOP (query.top)"``, ``"query.top (command line)"``.

    Returns
    -------
    int, float or str
        Of the setting's type, normalized.

    Raises
    ------
    ConfigError
        A value of the wrong type, or one the setting's check refuses.
    """
    ok_type = isinstance(value, setting.type) and not isinstance(value, bool)
    if setting.type is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok_type = float(value), True
    if not ok_type:
        raise ConfigError(
            f"config: {what} must be {_TYPE_NAMES[setting.type]}, "
            f"not {_show(value)} ({type(value).__name__})",
            setting.key,
            where,
        )
    if isinstance(value, str) and setting.normalize is not None:
        value = setting.normalize(value)
    problem = setting.check(value) if setting.check is not None else None
    if problem is not None:
        raise ConfigError(f"config: {what} {problem}, not {_show(value)}", setting.key, where)
    return value


def parsed(setting: Setting, text: str, where: str, what: str) -> object:
    """A string (environment, command line) parsed as the setting's type and checked.

    Parameters
    ----------
    setting : Setting
    text : str
    where, what : str
        As for :func:`validated`.

    Returns
    -------
    int, float or str

    Raises
    ------
    ConfigError
        ``text`` does not parse as the setting's type, or the value is refused.
    """
    value: object = text
    if setting.type is not str:
        try:
            value = setting.type(text.strip())
        except ValueError:
            raise ConfigError(
                f"config: {what} must be {_TYPE_NAMES[setting.type]}, not {_show(text)}",
                setting.key,
                where,
            ) from None
    return validated(setting, value, where, what)


def _show(value: object) -> str:
    """A value as a message shows it: strings quoted, floats without noise."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    return repr(value)
