"""Export for editors: retimed and comparison videos, audio, time maps, OTIO timelines.

The GUI and the CLI call :func:`export_video` with a :class:`FrameMap` (from
:func:`align_for_export`, from a stored map via :func:`load_map`, or built with
:func:`frame_map` from any :class:`TimeMap`, formerly ``WarpCurve``).
"""

from avr_gui.core.export.audio import fit_audio, load_audio, retime_audio
from avr_gui.core.export.compose import Layout, compose, layout, timecode
from avr_gui.core.export.encode import VIDEO_ENCODERS, AudioTrack, EncodeOptions, VideoSink
from avr_gui.core.export.errors import (
    EncoderUnavailableError,
    ExportError,
    OutputPathError,
    TimeMapFileError,
)
from avr_gui.core.export.framemap import (
    FrameMap,
    TimeMap,
    WarpCurve,
    curve_from_path,
    frame_map,
    nearest_frames,
    reverse_frames,
)
from avr_gui.core.export.otio import build_timeline, save_timeline, speed_segments
from avr_gui.core.export.pairing import align_for_export, frame_times
from avr_gui.core.export.retime import (
    AUDIO_SOURCES,
    MODES,
    ExportResult,
    check_output,
    export_video,
)
from avr_gui.core.export.timemap_io import load_map, map_to_csv, map_to_json, save_map

__all__ = [
    "AUDIO_SOURCES",
    "MODES",
    "VIDEO_ENCODERS",
    "AudioTrack",
    "EncodeOptions",
    "EncoderUnavailableError",
    "ExportError",
    "ExportResult",
    "FrameMap",
    "Layout",
    "OutputPathError",
    "TimeMap",
    "TimeMapFileError",
    "VideoSink",
    "WarpCurve",
    "align_for_export",
    "build_timeline",
    "check_output",
    "compose",
    "curve_from_path",
    "export_video",
    "fit_audio",
    "frame_map",
    "frame_times",
    "layout",
    "load_audio",
    "load_map",
    "map_to_csv",
    "map_to_json",
    "nearest_frames",
    "retime_audio",
    "reverse_frames",
    "save_map",
    "save_timeline",
    "speed_segments",
    "timecode",
]
