"""Frame features: encoders behind one interface, and feature sequences with timestamps.

Importing this package is cheap: the registry and the encoder interface load now; the
rest (OpenCV, PyAV, torch behind the encoders and sequences) on first use of a name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from avr_gui.core.features.base import Encoder, WeightsError
from avr_gui.core.features.registry import (
    APPEARANCE_BACKEND,
    BACKENDS,
    DEFAULT_BACKEND,
    default_backend,
    get_encoder,
)

if TYPE_CHECKING:
    from avr_gui.core.features.compact import (
        ClipStandardizer,
        Projection,
        clip_vector,
        from_storage,
        to_storage,
    )
    from avr_gui.core.features.sequence import (
        FeatureSequence,
        encode_video,
        load_sequence,
        save_sequence,
    )
    from avr_gui.core.features.thumbnail import thumbnail_features

# Name -> module that defines it, imported on first access (module __getattr__, PEP 562).
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ("ClipStandardizer", "Projection", "clip_vector", "from_storage", "to_storage"),
        "avr_gui.core.features.compact",
    ),
    **dict.fromkeys(
        ("FeatureSequence", "encode_video", "load_sequence", "save_sequence"),
        "avr_gui.core.features.sequence",
    ),
    "thumbnail_features": "avr_gui.core.features.thumbnail",
}

__all__ = [
    "APPEARANCE_BACKEND",
    "BACKENDS",
    "DEFAULT_BACKEND",
    "ClipStandardizer",
    "Encoder",
    "FeatureSequence",
    "Projection",
    "WeightsError",
    "clip_vector",
    "default_backend",
    "encode_video",
    "from_storage",
    "get_encoder",
    "load_sequence",
    "save_sequence",
    "thumbnail_features",
    "to_storage",
]


def __getattr__(name: str) -> object:
    """A re-exported name, imported from its module on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


def __dir__() -> list[str]:
    """Every public name, the lazy ones included (for completion and ``dir()``)."""
    return sorted({*globals(), *_LAZY})
