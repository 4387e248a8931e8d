"""The settings a workspace starts with: the user's, or the shipped defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from avr_gui.core.config import Config, ConfigError, load_config


def settings_or_defaults(**kwargs: Any) -> tuple[Config, ConfigError | None]:
    """The user's settings, or the shipped defaults when they cannot be read.

    Parameters
    ----------
    **kwargs
        Passed to :func:`~avr_gui.core.config.load_config`.

    Returns
    -------
    config : Config
    error : ConfigError or None
        Why the shipped defaults are used instead (the caller tells the user).
    """
    try:
        return load_config(**kwargs), None
    except ConfigError as exc:
        # No file and no environment: the shipped defaults, which always validate.
        return load_config(user_file=Path(os.devnull), environ={}), exc
