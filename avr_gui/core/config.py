"""User settings: shipped defaults, a TOML file, ``AVR_*`` variables, the command line.

Every setting has one dotted key (``query.top``). Four layers supply values; a later
layer wins over an earlier one:

1. the shipped defaults (:data:`KEYS`, defined in :mod:`avr_gui.core.config_keys`);
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
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

# The settings table and value checks live in config_keys; the names callers import
# from here (KEYS, ConfigError, Setting, ...) are re-exported so their paths stay.
from avr_gui.core.config_keys import (
    KEYS,
    LOG_LEVELS,
    TABLES,
    Check,
    ConfigError,
    Setting,
    env_name,
    parsed,
    setting_of,
    validated,
)

#: Variable that names the user file outright (tests, several setups side by side).
CONFIG_ENV = "AVR_CONFIG"
#: Folder under the user's configuration folder, and the file in it.
APP_DIR = "avr-studio"
FILE_NAME = "config.toml"

DEFAULT_SOURCE = "default"
COMMAND_LINE = "command line"

__all__ = [
    "APP_DIR",
    "COMMAND_LINE",
    "CONFIG_ENV",
    "DEFAULT_SOURCE",
    "FILE_NAME",
    "KEYS",
    "LOG_LEVELS",
    "Check",
    "Config",
    "ConfigError",
    "Setting",
    "env_name",
    "format_config",
    "load_config",
    "user_config_path",
]


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
        return self._values[setting_of(key, None).key]

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
        return self._sources[setting_of(key, None).key]

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
        setting = setting_of(key, f"the {source}" if source == COMMAND_LINE else source)
        what = f"{key} ({source})"
        if isinstance(value, str) and setting.type is not str:
            values[key] = parsed(setting, value, source, what)
        else:
            values[key] = validated(setting, value, source, what)
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
            if name not in TABLES:
                if name in KEYS:
                    raise ConfigError(
                        f"config: '{name}' is a setting, not a table: write {name} = ... "
                        f"in {where}",
                        name,
                        where,
                    )
                near = difflib.get_close_matches(name, TABLES, n=1)
                hint = f"; did you mean [{near[0]}]?" if near else ""
                raise ConfigError(f"config: unknown table [{name}] in {where}{hint}", name, where)
            for sub, inner in value.items():
                key = f"{name}.{sub}"
                if isinstance(inner, dict):
                    raise ConfigError(f"config: unknown table [{key}] in {where}", key, where)
                flat[key] = inner
        elif name in TABLES:
            raise ConfigError(
                f"config: '{name}' is a table: write its keys under [{name}] in {where}",
                name,
                where,
            )
        else:
            flat[name] = value
    for key in flat:
        setting_of(key, where)
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
            values[key] = validated(KEYS[key], value, where, f"{key} in {where}")
            sources[key] = f"user file {path}"

    for key, setting in KEYS.items():
        text = env.get(setting.env)
        # An empty variable means "not set", as AVR_DEVICE= and AVR_MODELS_DIR= always did.
        if text is None or not text.strip():
            continue
        where = f"environment {setting.env}"
        values[key] = parsed(setting, text, where, f"{setting.env} ({key})")
        sources[key] = where

    # Overrides go in before the checks across keys: only the final pair must agree.
    _apply_overrides(values, sources, overrides or {}, COMMAND_LINE)
    return _finished(values, sources, path, table is not None)


#: Messages already logged by :func:`report_unreadable` in this process.
_REPORTED: set[str] = set()


def report_unreadable(log: logging.Logger, error: ConfigError, fallback: str) -> None:
    """Log once per process that the settings cannot be read, and what is used instead.

    A compute call that needs a setting falls back rather than fail (the front ends
    report a bad configuration once, at start); without this the same warning would be
    written at every call (each alignment resolves its device).

    Parameters
    ----------
    log : logging.Logger
        The caller's logger.
    error : ConfigError
        Why the settings cannot be read.
    fallback : str
        What is used instead, e.g. ``"using device 'auto'"``.
    """
    message = f"{error}; {fallback}"
    if message in _REPORTED:
        return
    _REPORTED.add(message)  # a race may log it twice: harmless
    log.warning("%s", message)


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
