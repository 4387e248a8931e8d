"""Video input: probe, decode/sample by timestamp, random access, thumbnails.

PyAV is the decoder of choice (real timestamps, display matrix, scaling fused with the
colour conversion); OpenCV is the fallback for files PyAV cannot open.
"""

from avr_gui.core.video._decoders import output_size
from avr_gui.core.video.damage import Readable, readable_duration
from avr_gui.core.video.decode import SampledFrame, WarningCallback, sample_frames
from avr_gui.core.video.prefetch import prefetch
from avr_gui.core.video.probe import VideoInfo, is_variable_rate, probe
from avr_gui.core.video.reader import FrameReader, thumbnail

__all__ = [
    "FrameReader",
    "Readable",
    "SampledFrame",
    "VideoInfo",
    "WarningCallback",
    "is_variable_rate",
    "output_size",
    "prefetch",
    "probe",
    "readable_duration",
    "sample_frames",
    "thumbnail",
]
