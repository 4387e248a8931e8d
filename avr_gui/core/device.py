"""The one place that decides which compute device the core uses.

``auto`` means CUDA when torch sees a GPU, else the CPU. The user can force a choice
with the ``device`` setting (``cpu``, ``cuda``, ``cuda:1``: the user's config file or the
``AVR_DEVICE`` environment variable, see :mod:`avr_gui.core.config`) or by passing
``device=`` explicitly. torch is imported lazily: CPU-only numeric paths never pay for it.
"""

from __future__ import annotations

import functools
import logging
import os
import sys

from avr_gui.core.config import Config, ConfigError, load_config, report_unreadable
from avr_gui.core.errors import DeviceError

log = logging.getLogger(__name__)


def _no_nvidia_driver() -> bool:
    """True when this is Linux and no NVIDIA kernel driver is loaded."""
    return sys.platform.startswith("linux") and not os.path.exists("/proc/driver/nvidia/version")


@functools.cache
def _cuda_available() -> bool:
    # Importing torch takes seconds; without a driver CUDA cannot work, so don't ask it.
    if "torch" not in sys.modules and _no_nvidia_driver():
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(
    device: str | None = None, *, config: Config | None = None, gpu_when_auto: bool = True
) -> str:
    """Turn a device request into a concrete device name.

    Parameters
    ----------
    device : str or None
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; ``None`` or ``"auto"`` defer to the
        ``device`` setting (whose own ``"auto"`` means CUDA when present, else CPU).
    config : Config, optional
        Settings to take ``device`` from (e.g. with the command line's options already
        applied); default :func:`~avr_gui.core.config.load_config` now, so a change of
        ``AVR_DEVICE`` or of the user's file takes effect at once.
    gpu_when_auto : bool
        Whether ``auto`` means CUDA when present (encoders, training) or always the CPU
        (the aligners' cost matrices: on an H200 machine their products were no faster
        on the GPU, copies included, and a command-line query that used it took 6.0 s
        instead of 1.9 s, importing torch and starting CUDA; see docs/RESULTS.md). An
        explicit ``cuda`` is honoured either way.

    Returns
    -------
    str
        ``"cpu"`` or a CUDA device name.

    Raises
    ------
    DeviceError
        If CUDA is requested but not available, or the name is unknown.

    Notes
    -----
    When the setting has to be read and cannot be (a bad ``AVR_DEVICE``, a broken config
    file), ``auto`` is used and a warning logged: the front ends report a bad
    configuration once, at start (``avr`` exits with it; the app shows it and runs on the
    shipped defaults), and a compute call must not fail later for the same reason.
    """
    request = (device or "auto").strip().lower()
    if request == "auto":
        if config is None:
            try:
                config = load_config()
            except ConfigError as exc:
                report_unreadable(log, exc, "using device 'auto'")
        request = config.get_str("device") if config is not None else "auto"
    if request == "auto":
        return "cuda" if gpu_when_auto and _cuda_available() else "cpu"
    if request == "cpu":
        return "cpu"
    if request == "cuda" or request.startswith("cuda:"):
        if not _cuda_available():
            raise DeviceError(
                f"device {request!r} was requested but no CUDA GPU is available; "
                "use 'cpu' or 'auto'"
            )
        return request
    raise DeviceError(f"unknown device {request!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'")
