"""User settings: shipped defaults, a TOML file, ``AVR_*`` variables, the command line.

Every setting has one dotted key (``query.top``). Four layers supply values; a later
layer wins over an earlier one:

1. the defaults shipped here (:data:`KEYS`);
2. the user's TOML file, :func:`user_config_path` (``$AVR_CONFIG``, else
   ``$XDG_CONFIG_HOME/avr-studio/config.toml``, else ``~/.config/avr-studio/config.toml``);
   a dotted key ``a.b`` is key ``b`` of table ``[a]``; a missing file is fine;
3. the environment: key ``a.b`` is read from ``AVR_A_B`` (``device`` from ``AVR_DEVICE``,
   ``models.dir`` from ``AVR_MODELS_DIR``); an empty variable counts as not set;
4. the command line (:meth:`Config.with_overrides`).

Every value is checked whichever layer it comes from, and a bad one is a
:class:`ConfigError` whose one-line message names the key and where the value came from
(the file, the variable or the command line), so the user knows what to fix.

This module imports only the standard library: reading the settings must never cost
the import of torch, OpenCV, PyAV or Qt.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from avr_gui.core.errors import InputError

#: Variable that names the user file outright (tests, several setups side by side).
CONFIG_ENV = "AVR_CONFIG"
#: Folder under the user's configuration folder, and the file in it.
APP_DIR = "avr-studio"
FILE_NAME = "config.toml"

DEFAULT_SOURCE = "default"
COMMAND_LINE = "command line"

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
# Table names of the file ("features", "query", ...); top-level keys have none.
_TABLES = frozenset(k.split(".")[0] for k in KEYS if "." in k)


def _unknown(key: str, where: str | None) -> ConfigError:
    near = difflib.get_close_matches(key, KEYS, n=1)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    place = f" in {where}" if where else ""
    return ConfigError(f"config: unknown key '{key}'{place}{hint}", key, where)


def _setting_of(key: str, where: str | None) -> Setting:
    setting = KEYS.get(key)
    if setting is None:
        raise _unknown(key, where)
    return setting


def _validated(setting: Setting, value: object, where: str, what: str) -> object:
    """``value`` as the setting's type, normalized and checked.

    ``where`` is the value's source (for :attr:`ConfigError.where`); ``what`` names the
    value and its source in messages: ``"query.top in <file>"``,
    ``"AVR_QUERY_TOP (query.top)"``, ``"query.top (command line)"``.
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


def _parsed(setting: Setting, text: str, where: str, what: str) -> object:
    """A string (environment, command line) parsed as the setting's type and checked."""
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
    return _validated(setting, value, where, what)


def _show(value: object) -> str:
    """A value as a message shows it: strings quoted, floats without noise."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    return repr(value)


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the user's settings file is (it need not exist).

    Parameters
    ----------
    environ : mapping of str to str, optional
        Environment to read; default ``os.environ``.

    Returns
    -------
    pathlib.Path
        ``$AVR_CONFIG`` if set (``~`` expanded), else
        ``$XDG_CONFIG_HOME/avr-studio/config.toml``, else
        ``~/.config/avr-studio/config.toml``.
    """
    env = os.environ if environ is None else environ
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    xdg = env.get("XDG_CONFIG_HOME", "")
    # The XDG spec says a relative (or empty) value is to be ignored.
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP_DIR / FILE_NAME
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".config" / APP_DIR / FILE_NAME


@dataclass(frozen=True, eq=True)
class Config:
    """The settings in effect: a value and its source for every key in :data:`KEYS`.

    Immutable: :meth:`with_overrides` returns a new one. Build it with
    :func:`load_config`.

    Attributes
    ----------
    user_file : pathlib.Path
        The user file that was (or would have been) read.
    user_file_exists : bool
        Whether that file existed when the settings were read.
    """

    _values: Mapping[str, object] = field(repr=False)
    _sources: Mapping[str, str] = field(repr=False)
    user_file: Path
    user_file_exists: bool

    def __hash__(self) -> int:
        # The mappings are read-only views, which Python will not hash by themselves.
        return hash((tuple(self.items()), self.user_file, self.user_file_exists))

    def __getitem__(self, key: str) -> object:
        """The value of ``key``; :class:`ConfigError` for an unknown key."""
        return self._values[_setting_of(key, None).key]

    def get(self, key: str) -> object:
        """The value of ``key`` (as ``config[key]``).

        Parameters
        ----------
        key : str
            Dotted key, e.g. ``"query.top"``.

        Returns
        -------
        int, float or str
            Of the setting's type.

        Raises
        ------
        ConfigError
            ``key`` is not a known setting.
        """
        return self[key]

    def get_int(self, key: str) -> int:
        """The value of an integer setting (typed, for callers that do arithmetic)."""
        value = self[key]
        assert isinstance(value, int)
        return value

    def get_float(self, key: str) -> float:
        """The value of a float setting."""
        value = self[key]
        assert isinstance(value, float)
        return value

    def get_str(self, key: str) -> str:
        """The value of a string setting."""
        value = self[key]
        assert isinstance(value, str)
        return value

    def source(self, key: str) -> str:
        """Where the value of ``key`` came from.

        Parameters
        ----------
        key : str

        Returns
        -------
        str
            ``"default"``, ``"user file <path>"``, ``"environment AVR_X"`` or
            ``"command line"`` (or the source given to :meth:`with_overrides`).
        """
        return self._sources[_setting_of(key, None).key]

    def items(self) -> list[tuple[str, object, str]]:
        """Every setting as ``(key, value, source)``, sorted by key.

        Returns
        -------
        list of (str, object, str)
        """
        return [(k, self._values[k], self._sources[k]) for k in sorted(self._values)]

    def with_overrides(
        self, overrides: Mapping[str, object | None], source: str = COMMAND_LINE
    ) -> Config:
        """A copy with some values replaced (options given on the command line).

        Parameters
        ----------
        overrides : mapping of str to object or None
            Dotted key to value. None means "not given" and is skipped. A value may be of
            the setting's type or a string, which is parsed like an environment value.
        source : str
            What :meth:`source` reports for the replaced keys.

        Returns
        -------
        Config

        Raises
        ------
        ConfigError
            An unknown key or a bad value, naming the key and ``source``.
        """
        values = dict(self._values)
        sources = dict(self._sources)
        _apply_overrides(values, sources, overrides, source)
        return _finished(values, sources, self.user_file, self.user_file_exists)


def _apply_overrides(
    values: dict[str, object],
    sources: dict[str, str],
    overrides: Mapping[str, object | None],
    source: str,
) -> None:
    """Put the given (not None) ``overrides`` into ``values`` and ``sources``, checked."""
    for key, value in overrides.items():
        if value is None:
            continue
        setting = _setting_of(key, f"the {source}" if source == COMMAND_LINE else source)
        what = f"{key} ({source})"
        if isinstance(value, str) and setting.type is not str:
            values[key] = _parsed(setting, value, source, what)
        else:
            values[key] = _validated(setting, value, source, what)
        sources[key] = source


def _finished(
    values: dict[str, object], sources: dict[str, str], user_file: Path, exists: bool
) -> Config:
    """The merged layers as a :class:`Config`, after the checks across keys."""
    alignable, unlikely = values["verdict.alignable"], values["verdict.unlikely"]
    assert isinstance(alignable, float) and isinstance(unlikely, float)
    if not unlikely < alignable:
        raise ConfigError(
            f"config: verdict.unlikely ({unlikely:g}, {sources['verdict.unlikely']}) must be "
            f"below verdict.alignable ({alignable:g}, {sources['verdict.alignable']})",
            "verdict.unlikely",
            sources["verdict.unlikely"],
        )
    return Config(MappingProxyType(values), MappingProxyType(sources), user_file, exists)


def _read_file(path: Path) -> dict[str, Any] | None:
    """The parsed TOML of ``path``; None when there is no such file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"config: {path} is a folder, not a settings file") from None
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config: {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends "(at line N, column M)".
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from None


def _flatten(table: Mapping[str, Any], where: str) -> dict[str, object]:
    """The file's values by dotted key; unknown keys and tables are errors."""
    flat: dict[str, object] = {}
    for name, value in table.items():
        if isinstance(value, dict):
            if name not in _TABLES:
                if name in KEYS:
                    raise ConfigError(
                        f"config: '{name}' is a setting, not a table: write {name} = ... "
                        f"in {where}",
                        name,
                        where,
                    )
                near = difflib.get_close_matches(name, _TABLES, n=1)
                hint = f"; did you mean [{near[0]}]?" if near else ""
                raise ConfigError(f"config: unknown table [{name}] in {where}{hint}", name, where)
            for sub, inner in value.items():
                key = f"{name}.{sub}"
                if isinstance(inner, dict):
                    raise ConfigError(f"config: unknown table [{key}] in {where}", key, where)
                flat[key] = inner
        elif name in _TABLES:
            raise ConfigError(
                f"config: '{name}' is a table: write its keys under [{name}] in {where}",
                name,
                where,
            )
        else:
            flat[name] = value
    for key in flat:
        _setting_of(key, where)
    return flat


def load_config(
    *,
    user_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object | None] | None = None,
) -> Config:
    """Read the settings in effect: defaults < user file < environment < overrides.

    Nothing is cached: each call reads the file and the environment as they are now
    (a small file; this costs tens of microseconds).

    Parameters
    ----------
    user_file : pathlib.Path, optional
        TOML file to read; default :func:`user_config_path` of ``environ``. A missing
        file is the same as an empty one.
    environ : mapping of str to str, optional
        Environment; default ``os.environ``. Only the variables of :data:`KEYS` (and
        ``AVR_CONFIG``, ``XDG_CONFIG_HOME``, ``HOME`` for the file) are read; other
        ``AVR_*`` variables are ignored.
    overrides : mapping of str to object or None, optional
        Command-line values (None: option not given); see :meth:`Config.with_overrides`.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        An unknown key or table in the file, a malformed file, a value of the wrong
        type or out of range in any layer, or verdict.unlikely not below
        verdict.alignable. The message is one line naming the key and its source.
    """
    env = os.environ if environ is None else environ
    path = user_config_path(env) if user_file is None else Path(user_file)
    values: dict[str, object] = {k: s.default for k, s in KEYS.items()}
    sources = dict.fromkeys(KEYS, DEFAULT_SOURCE)

    table = _read_file(path)
    if table is not None:
        where = str(path)
        for key, value in _flatten(table, where).items():
            values[key] = _validated(KEYS[key], value, where, f"{key} in {where}")
            sources[key] = f"user file {path}"

    for key, setting in KEYS.items():
        text = env.get(setting.env)
        # An empty variable means "not set", as AVR_DEVICE= and AVR_MODELS_DIR= always did.
        if text is None or not text.strip():
            continue
        where = f"environment {setting.env}"
        values[key] = _parsed(setting, text, where, f"{setting.env} ({key})")
        sources[key] = where

    # Overrides go in before the checks across keys: only the final pair must agree.
    _apply_overrides(values, sources, overrides or {}, COMMAND_LINE)
    return _finished(values, sources, path, table is not None)


def _toml_value(value: object) -> str:
    """A value written as TOML would hold it."""
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def format_config(config: Config) -> str:
    """The settings in effect as ``avr config show`` prints them.

    Parameters
    ----------
    config : Config

    Returns
    -------
    str
        One line per key, ``key = value  (source)`` with TOML values, sorted by key;
        then a line naming the user file and whether it exists. Ends with a newline.
    """
    lines = [f"{key} = {_toml_value(value)}  ({source})" for key, value, source in config.items()]
    state = "exists" if config.user_file_exists else "not found"
    lines.append(f"user file: {config.user_file} ({state})")
    return "\n".join(lines) + "\n"
