"""The feature-encoder registry: names, descriptions, and encoders built on demand.

Each entry names its factory and its availability check as ``"module:function"``
strings, resolved with :mod:`importlib` on first use. Listing the backends, or importing
this module, therefore loads neither the encoders (OpenCV, torch, onnxruntime) nor the
pose pipeline (PyAV, ai-edge-litert); and the encoder modules may import this one (to
re-export its names) without an import cycle.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from avr_gui.core.errors import InputError
from avr_gui.core.features.base import Encoder, WeightsError

_ENCODERS = "avr_gui.core.features.encoders"
_POSE = "avr_gui.core.features.pose.backends"


def resolve(target: str) -> Callable[..., Any]:
    """The callable named by a ``"package.module:function"`` string, imported now.

    Parameters
    ----------
    target : str

    Returns
    -------
    callable
    """
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class Backend:
    """A registry entry: how to build an encoder and whether it can run here.

    Attributes
    ----------
    name : str
        Registry name (``--backend``).
    description : str
        One line for listings.
    target : str
        ``"module:function"`` building the encoder from ``weights``, ``device`` and the
        backend's options.
    needs_file : bool
        The backend runs the user's own model file (``--weights``).
    check : str, optional
        ``"module:function"`` that raises :class:`ImportError` or :class:`WeightsError`
        (with the reason) when the backend cannot run on this machine.
    file_hint : str
        What :meth:`availability` says of a usable backend that needs a file.
    """

    name: str
    description: str
    target: str
    needs_file: bool = False
    check: str | None = None
    file_hint: str = "needs a model file (--weights)"

    @property
    def factory(self) -> Callable[..., Encoder]:
        """The function that builds this encoder (its module is imported now)."""
        return resolve(self.target)

    def availability(self) -> tuple[bool, str]:
        """``(usable, reason)`` on this machine.

        Returns
        -------
        tuple of (bool, str)
            Whether the backend can run, and why not or what it still needs.
        """
        try:
            if self.check is not None:
                resolve(self.check)()
        except (ImportError, WeightsError) as exc:
            return False, str(exc)
        return True, self.file_hint if self.needs_file else "ready"


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend(
            "thumb16",
            "16x16 grey thumbnail, no weights (fast fallback)",
            f"{_ENCODERS}:make_thumbnail",
        ),
        Backend(
            "effnet-lite0",
            "EfficientNet-Lite0, ImageNet weights (packaged), global average pooling; "
            "ONNX Runtime on the CPU, torch on CUDA",
            f"{_ENCODERS}:make_efficientnet",
            check=f"{_ENCODERS}:check_efficientnet",
        ),
        Backend(
            "torchscript",
            "your TorchScript model file",
            f"{_ENCODERS}:make_torchscript",
            needs_file=True,
            check=f"{_ENCODERS}:check_torchscript",
        ),
        Backend(
            "onnx",
            "your ONNX model file (onnxruntime)",
            f"{_ENCODERS}:make_onnx",
            needs_file=True,
            check=f"{_ENCODERS}:check_onnx",
        ),
        Backend(
            "auto",
            "automatic (default): body pose where a person performs, appearance for the rest",
            f"{_POSE}:make_auto",
            check=f"{_POSE}:check_fused",
        ),
        Backend(
            "pose-blazepose",
            "BlazePose body pose (33 landmarks), appearance-free; `avr models install pose`",
            f"{_POSE}:make_blazepose",
            check=f"{_POSE}:check_blazepose",
        ),
        Backend(
            "pose-movenet",
            "your MoveNet SinglePose .tflite (17 keypoints), appearance-free",
            f"{_POSE}:make_movenet",
            needs_file=True,
            check=f"{_POSE}:check_litert",
            file_hint="needs a MoveNet SinglePose .tflite (--weights)",
        ),
        Backend(
            "pose-fused",
            "BlazePose pose + EfficientNet-Lite0 appearance, weighted cosine fusion",
            f"{_POSE}:make_fused",
            check=f"{_POSE}:check_fused",
        ),
    )
}

#: Backends built on the body-pose pipeline (their features carry pose columns).
POSE_BACKEND_NAMES: tuple[str, ...] = tuple(
    n for n, b in BACKENDS.items() if b.target.startswith(_POSE)
)

#: The encoder of new libraries: ``auto`` (pose where a person performs, appearance
#: elsewhere) when the pose models are installed, else :data:`APPEARANCE_BACKEND`
#: (:func:`default_backend` decides).
DEFAULT_BACKEND = "auto"
#: Appearance-only features: the fallback without pose models.
APPEARANCE_BACKEND = "effnet-lite0"


def backend_names() -> tuple[str, ...]:
    """Names of every registered backend, in listing order (nothing heavy is imported)."""
    return tuple(BACKENDS)


def describe(name: str) -> str:
    """One-line description of a backend.

    Parameters
    ----------
    name : str
        A registry name.

    Returns
    -------
    str

    Raises
    ------
    InputError
        For an unknown name.
    """
    return _backend(name).description


def _backend(name: str) -> Backend:
    backend = BACKENDS.get(name)
    if backend is None:
        raise InputError(f"unknown feature backend {name!r}: choose one of {', '.join(BACKENDS)}")
    return backend


def default_backend(on_fallback: Callable[[str], None] | None = None) -> str:
    """The encoder a new library gets on this machine.

    Parameters
    ----------
    on_fallback : callable, optional
        Told, in one line, why ``auto`` is not usable and what to do about it.

    Returns
    -------
    str
        ``"auto"``, or ``"effnet-lite0"`` when the pose models (or their runtime) are
        missing.
    """
    ok, why = BACKENDS[DEFAULT_BACKEND].availability()
    if ok:
        return DEFAULT_BACKEND
    if on_fallback is not None:
        on_fallback(
            f"body pose is off ({why}); using appearance features. "
            "Run `avr models install pose` and re-index for pose-aware search"
        )
    return APPEARANCE_BACKEND


def get_encoder(
    name: str | None = None,
    *,
    weights: str | os.PathLike[str] | None = None,
    device: str | None = None,
    on_fallback: Callable[[str], None] | None = None,
    **options: object,
) -> Encoder:
    """Build an encoder by registry name.

    Parameters
    ----------
    name : str, optional
        A key of :data:`BACKENDS`; None: :func:`default_backend`.
    weights : path-like, optional
        Model or state-dict file for backends that take one.
    device : str, optional
    on_fallback : callable, optional
        If given and ``weights`` fails to load for ``effnet-lite0``, it is called with
        the reason and the packaged weights are used instead; otherwise the error is
        raised.
    **options
        Backend options (``size``, ``pooling``).

    Returns
    -------
    Encoder
    """
    if name is None:
        name = default_backend()
    backend = _backend(name)
    kwargs: dict[str, object] = dict(options)
    if backend.name != "thumb16":
        kwargs.update(weights=weights, device=device)
    factory = backend.factory
    try:
        return factory(**kwargs)
    except WeightsError as exc:
        if on_fallback is None or weights is None or backend.name != "effnet-lite0":
            raise
        on_fallback(f"{exc}; using the packaged ImageNet weights instead")
        kwargs["weights"] = None
        return factory(**kwargs)
