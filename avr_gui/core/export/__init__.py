"""Export for editors: retimed and comparison videos, audio, time maps, OTIO timelines.

A grid of the query and several matches, each re-timed to the query, is
:func:`export_grid`. The GUI and the CLI call :func:`export_video` with a :class:`FrameMap` (from
:func:`align_for_export`, from a stored map via :func:`load_map`, or built with
:func:`frame_map` from any :class:`TimeMap`, formerly ``WarpCurve``).
"""

from avr_gui.core.export.audio import fit_audio, load_audio, retime_audio
from avr_gui.core.export.compose import (
    ARRANGEMENTS,
    SCALES,
    Layout,
    compose,
    layout,
    timecode,
)
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
from avr_gui.core.export.grid import (
    MAX_TILES,
    GridLayout,
    GridResult,
    export_grid,
    grid_layout,
    grid_shape,
    tile_frames,
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
    "ARRANGEMENTS",
    "AUDIO_SOURCES",
    "MAX_TILES",
    "MODES",
    "SCALES",
    "VIDEO_ENCODERS",
    "AudioTrack",
    "EncodeOptions",
    "EncoderUnavailableError",
    "ExportError",
    "ExportResult",
    "FrameMap",
    "GridLayout",
    "GridResult",
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
    "export_grid",
    "export_video",
    "fit_audio",
    "frame_map",
    "frame_times",
    "grid_layout",
    "grid_shape",
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
    "tile_frames",
    "timecode",
]
