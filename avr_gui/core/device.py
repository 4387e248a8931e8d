"""The one place that decides which compute device the core uses.

``auto`` means CUDA when torch sees a GPU, else the CPU. The user can force a choice
with the ``AVR_DEVICE`` environment variable (``cpu``, ``cuda``, ``cuda:1``) or by passing
``device=`` explicitly. torch is imported lazily: CPU-only numeric paths never pay for it.
"""

from __future__ import annotations

import functools
import os
import sys

from avr_gui.core.errors import DeviceError


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


def resolve_device(device: str | None = None) -> str:
    """Turn a device request into a concrete device name.

    Parameters
    ----------
    device : str or None
        ``None`` or ``"auto"`` (use ``AVR_DEVICE`` if set, else CUDA when present, else
        CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    str
        ``"cpu"`` or a CUDA device name.

    Raises
    ------
    DeviceError
        If CUDA is requested but not available, or the name is unknown.
    """
    request = (device or os.environ.get("AVR_DEVICE") or "auto").strip().lower()
    if request == "auto":
        return "cuda" if _cuda_available() else "cpu"
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
