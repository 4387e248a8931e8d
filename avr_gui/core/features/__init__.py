"""Frame features: encoders behind one interface, and feature sequences with timestamps."""

from avr_gui.core.features.compact import (
    ClipStandardizer,
    Projection,
    clip_vector,
    from_storage,
    to_storage,
)
from avr_gui.core.features.encoders import (
    APPEARANCE_BACKEND,
    BACKENDS,
    DEFAULT_BACKEND,
    Encoder,
    WeightsError,
    default_backend,
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
