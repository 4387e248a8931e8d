"""Frame features: encoders behind one interface, and feature sequences with timestamps.

Importing this package is cheap: the registry and the encoder interface load now; the
rest (OpenCV, PyAV, torch behind the encoders and sequences) on first use of a name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from avr_gui.core.features.base import Encoder, WeightsError
from avr_gui.core.features.registry import (
    APPEARANCE_BACKEND,
    BACKENDS,
    DEFAULT_BACKEND,
    default_backend,
    get_encoder,
)
from avr_gui.core.lazy import lazy_exports

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


# Heavy re-exports load on first use, so importing the package stays light.
__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
