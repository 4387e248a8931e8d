"""Video probing and decoding (OpenCV)."""

from avr_gui.core.video.decode import SampledFrame, sample_frames

__all__ = ["SampledFrame", "sample_frames"]
