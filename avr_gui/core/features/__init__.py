"""Frame features: encoders behind one interface, and feature sequences with timestamps."""

from avr_gui.core.features.encoders import (
    BACKENDS,
    DEFAULT_BACKEND,
    Encoder,
    WeightsError,
    get_encoder,
)
from avr_gui.core.features.sequence import (
    FeatureSequence,
    encode_video,
    load_sequence,
    save_sequence,
)
from avr_gui.core.features.thumbnail import thumbnail_features

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "Encoder",
    "FeatureSequence",
    "WeightsError",
    "encode_video",
    "get_encoder",
    "load_sequence",
    "save_sequence",
    "thumbnail_features",
]
