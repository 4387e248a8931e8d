"""Frame features: encoders behind one interface, and feature sequences with timestamps."""

from avr_gui.core.features.sequence import FeatureSequence, load_sequence
from avr_gui.core.features.thumbnail import thumbnail_features

__all__ = ["FeatureSequence", "load_sequence", "thumbnail_features"]
