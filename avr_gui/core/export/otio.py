"""The time map as an OpenTimelineIO timeline an editor can import.

Tracks, all at the query's frame rate and starting at 0:

* ``V1 query`` — the query file, whole, at normal speed.
* ``V2 match (speed segments)`` — the match file cut into pieces of constant speed that
  follow the time map to within half a match frame: each piece is a clip whose
  ``source_range`` starts at the match time it shows first and lasts as long as it
  plays on the timeline, carrying a ``LinearTimeWarp`` (its speed: match seconds per
  timeline second) or a ``FreezeFrame`` (a hold). The editor can re-edit these.
* ``V3 match (rendered)`` — when a retimed export was written, that file at normal
  speed: frame-exact, whatever the editor does with speed effects.

``timeline.metadata["avr"]`` holds the source paths and the per-frame match frames.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import opentimelineio as otio

from avr_gui.core.atomic import remove_stale_temps, write_text
from avr_gui.core.export.errors import OutputPathError
from avr_gui.core.export.framemap import FrameMap


def speed_segments(y: np.ndarray, tolerance: float) -> list[tuple[int, int]]:
    """Split a monotone curve into runs that straight lines follow within a tolerance.

    Parameters
    ----------
    y : array_like, shape (N,)
        Value at each integer position (here: match time in frames per query frame).
    tolerance : float
        Largest allowed distance of a point from its run's line.

    Returns
    -------
    list of (int, int)
        ``(start, end)`` positions, ``end`` exclusive; consecutive and covering
        ``0 .. N``. The line of a run goes through ``y[start]`` and ``y[end]`` (or, for
        the last run, ``y[N - 1]``).
    """
    v = np.asarray(y, dtype=np.float64)
    n = v.size
    runs: list[tuple[int, int]] = []
    start = 0
    while start < n - 1:
        end = start + 1
        # Greedy: grow the run while a line through its end points stays close to all.
        while end + 1 < n:
            cand = end + 1
            k = np.arange(start, cand + 1)
            line = v[start] + (v[cand] - v[start]) * (k - start) / (cand - start)
            if np.abs(line - v[start : cand + 1]).max() > tolerance:
                break
            end = cand
        runs.append((start, end))
        start = end
    if not runs or runs[-1][1] < n:
        # The final point belongs to the last run (its lines end there).
        if runs:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((0, n))
    return runs


def _reference(
    path: str | os.PathLike[str], frames: int, rate: float
) -> otio.schema.ExternalReference:
    p = Path(path).resolve()
    return otio.schema.ExternalReference(
        target_url=p.as_uri(),
        available_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate)
        ),
    )


def build_timeline(
    fmap: FrameMap,
    query_path: str | os.PathLike[str],
    match_path: str | os.PathLike[str],
    *,
    query_fps: float,
    match_fps: float,
    match_frames: int,
    rendered_path: str | os.PathLike[str] | None = None,
    name: str = "AVR alignment",
) -> otio.schema.Timeline:
    """An OTIO timeline of the query and the match retimed to it.

    Parameters
    ----------
    fmap : FrameMap
        One row per query frame.
    query_path, match_path : path-like
    query_fps, match_fps : float
        Frame rates of the two files.
    match_frames : int
        Frame count of the match file.
    rendered_path : path-like, optional
        A retimed export of the match (query timing) to add as its own track.
    name : str

    Returns
    -------
    opentimelineio.schema.Timeline
    """
    n = len(fmap)
    qrate, mrate = float(query_fps), float(match_fps)
    tl = otio.schema.Timeline(name=name)
    tl.global_start_time = otio.opentime.RationalTime(0, qrate)
    length = otio.opentime.RationalTime(n, qrate)
    whole = otio.opentime.TimeRange(otio.opentime.RationalTime(0, qrate), length)

    v1 = otio.schema.Track(name="V1 query", kind=otio.schema.TrackKind.Video)
    v1.append(
        otio.schema.Clip(
            name=Path(query_path).name,
            media_reference=_reference(query_path, n, qrate),
            source_range=whole,
        )
    )
    tl.tracks.append(v1)

    v2 = otio.schema.Track(name="V2 match (speed segments)", kind=otio.schema.TrackKind.Video)
    # Match position in match frames (fractional: the time, not the rounded frame).
    y = fmap.match_time * mrate
    for k, (a, b) in enumerate(speed_segments(y, tolerance=0.5)):
        last = min(b, n - 1)
        span = (last - a) / qrate
        speed = (y[last] - y[a]) / mrate / span if span > 0 else 1.0
        clip = otio.schema.Clip(
            name=f"{Path(match_path).name} #{k + 1}",
            media_reference=_reference(match_path, match_frames, mrate),
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(float(y[a]), mrate),
                otio.opentime.RationalTime(b - a, qrate),
            ),
        )
        if speed <= 1e-9:
            clip.effects.append(otio.schema.FreezeFrame())
        elif abs(speed - 1.0) > 1e-6:
            clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=float(speed)))
        v2.append(clip)
    tl.tracks.append(v2)

    if rendered_path is not None:
        v3 = otio.schema.Track(name="V3 match (rendered)", kind=otio.schema.TrackKind.Video)
        v3.append(
            otio.schema.Clip(
                name=Path(rendered_path).name,
                media_reference=_reference(rendered_path, n, qrate),
                source_range=whole,
            )
        )
        tl.tracks.append(v3)
    tl.metadata["avr"] = {
        "query": str(query_path),
        "match": str(match_path),
        "match_frame": [int(v) for v in fmap.match_frame],
    }
    return tl


def save_timeline(path: str | os.PathLike[str], timeline: otio.schema.Timeline) -> None:
    """Write a timeline as ``.otio`` (OTIO JSON) atomically."""
    p = Path(path)
    if p.suffix.lower() != ".otio":
        raise OutputPathError(f"{p}: a timeline file must end in .otio")
    # A killed earlier save of this timeline left its temporary file: remove it first.
    remove_stale_temps(p.parent if str(p.parent) else ".", p.name)
    write_text(p, otio.adapters.write_to_string(timeline, "otio_json"))
