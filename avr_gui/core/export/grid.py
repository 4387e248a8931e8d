"""The query and several matches in one picture, each match re-timed to the query.

Tile 0 is the query; tile ``k`` shows, beside query frame ``i``, the frame of match
``k`` that its own time map pairs with it (the row ``i`` of
:func:`~avr_gui.core.export.framemap.frame_map`, the frame the synced player shows),
shifted by that tile's nudge in its own frames. The tiles are laid out by
:func:`grid_layout` (the player's grid uses the same plan), each fitted into a cell of
one size, centred on black.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avr_gui.core.atomic import remove_stale_temps
from avr_gui.core.errors import InputError
from avr_gui.core.export.audio import fit_audio, load_audio
from avr_gui.core.export.compose import burn_in_text, label
from avr_gui.core.export.encode import EncodeOptions
from avr_gui.core.export.framemap import TimeMap, frame_map
from avr_gui.core.export.retime import check_output
from avr_gui.core.export.writer import write_frames
from avr_gui.core.export_choices import MAX_TILES
from avr_gui.core.jobs import CancelToken, ProgressCallback, no_progress
from avr_gui.core.timecode import clip_rate
from avr_gui.core.video import FrameReader
from avr_gui.core.video._cv2 import import_cv2

cv2 = import_cv2()


def grid_shape(count: int, columns: int | None = None) -> tuple[int, int]:
    """``(columns, rows)`` of a grid of ``count`` tiles.

    Parameters
    ----------
    count : int
        Tiles (>= 1).
    columns : int, optional
        Forced number of columns (1 = one column, ``count`` = one row); default: the
        squarest grid (2 tiles side by side, 3 or 4 in 2x2, 5 or 6 in 3x2).

    Returns
    -------
    (int, int)
    """
    if count < 1:
        raise InputError("a grid needs at least one tile")
    cols = columns if columns else math.ceil(math.sqrt(count))
    cols = min(max(1, int(cols)), count)
    return cols, math.ceil(count / cols)


@dataclass(frozen=True)
class GridLayout:
    """Where each tile of a grid frame goes.

    Attributes
    ----------
    size : tuple of int
        ``(width, height)`` of the whole frame.
    cell : tuple of int
        ``(width, height)`` of one cell.
    boxes : tuple of (int, int, int, int)
        ``(x, y, width, height)`` of each tile's picture: fitted into its cell with its
        aspect kept, centred.
    columns, rows : int
    """

    size: tuple[int, int]
    cell: tuple[int, int]
    boxes: tuple[tuple[int, int, int, int], ...]
    columns: int
    rows: int


def fit_box(
    image_size: tuple[int, int], cell: tuple[int, int], x: int = 0, y: int = 0
) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` of a picture of ``image_size`` fitted, centred, in a cell at ``(x, y)``."""
    iw, ih = image_size
    cw, ch = cell
    s = min(cw / iw, ch / ih)
    w, h = max(1, min(cw, round(iw * s))), max(1, min(ch, round(ih * s)))
    return x + (cw - w) // 2, y + (ch - h) // 2, w, h


def grid_layout(
    sizes: Sequence[tuple[int, int]],
    *,
    tile_height: int | None = None,
    columns: int | None = None,
) -> GridLayout:
    """Plan a grid frame for pictures of these sizes (the query's first).

    Parameters
    ----------
    sizes : sequence of (int, int)
        ``(width, height)`` of each tile's video.
    tile_height : int, optional
        Height of a cell (default: the query's height, so the query keeps its
        resolution); a cell has the query's aspect.
    columns : int, optional
        See :func:`grid_shape`.

    Returns
    -------
    GridLayout
    """
    if not sizes:
        raise InputError("a grid needs at least one tile")
    if tile_height is not None and tile_height < 16:
        raise InputError(f"a tile must be at least 16 pixels high, got {tile_height}")
    qw, qh = sizes[0]
    ch = int(tile_height or qh)
    # Even sides: the encoder needs them, and odd cells would shift the grid by a pixel.
    ch += ch % 2
    cw = max(2, round(qw * ch / qh))
    cw += cw % 2
    cols, rows = grid_shape(len(sizes), columns)
    boxes = tuple(
        fit_box(size, (cw, ch), (k % cols) * cw, (k // cols) * ch) for k, size in enumerate(sizes)
    )
    return GridLayout((cols * cw, rows * ch), (cw, ch), boxes, cols, rows)


def tile_frames(
    time_map: TimeMap | None,
    query_times: np.ndarray,
    tile_times: np.ndarray,
    nudge: int = 0,
) -> np.ndarray:
    """The frame of one tile shown beside every query frame.

    Parameters
    ----------
    time_map : TimeMap or None
        Query seconds -> this clip's seconds; None for the query's own tile.
    query_times : numpy.ndarray, shape (N,)
        Presentation time of every query frame.
    tile_times : numpy.ndarray, shape (M,)
        Presentation time of every frame of this tile's clip.
    nudge : int
        Frames of this clip added after the time map (clipped to the clip).

    Returns
    -------
    numpy.ndarray, shape (N,), int64
        In ``0 .. M-1``.
    """
    if time_map is None:
        base = np.arange(len(query_times), dtype=np.int64)
    else:
        base = frame_map(time_map, query_times, tile_times).match_frame
    return np.clip(base + int(nudge), 0, len(tile_times) - 1)


@dataclass(frozen=True)
class GridResult:
    """What a grid export wrote.

    Attributes
    ----------
    path : pathlib.Path
    frame_count : int
        The query's frames.
    fps : float
        The query's nominal rate.
    size : tuple of int
        ``(width, height)``.
    tile_frames : numpy.ndarray, shape (tiles, frame_count), int64
        The frame of each tile's clip in every output frame (row 0: the query).
    codec : str
    audio : str
        ``"query"`` or ``"none"``.
    seconds : float
    """

    path: Path
    frame_count: int
    fps: float
    size: tuple[int, int]
    tile_frames: np.ndarray
    codec: str
    audio: str
    seconds: float


def _fit(image: np.ndarray, w: int, h: int) -> np.ndarray:
    if (image.shape[1], image.shape[0]) == (w, h):
        return image
    shrinking = w < image.shape[1]
    return cv2.resize(
        image, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    )


def export_grid(
    query: str | os.PathLike[str],
    matches: Sequence[tuple[str | os.PathLike[str], TimeMap]],
    out: str | os.PathLike[str],
    *,
    nudges: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
    burn_in: bool = False,
    tile_height: int | None = None,
    columns: int | None = None,
    audio: str = "query",
    options: EncodeOptions | None = None,
    on_warning: Callable[[str], None] | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> GridResult:
    """Write the query and ``matches`` tiled, each match re-timed to the query.

    Parameters
    ----------
    query : path-like
        Its timing, frame count and (with ``audio="query"``) sound are the output's.
    matches : sequence of (path-like, TimeMap)
        Each match's file and its query-seconds -> match-seconds map (1 to
        ``MAX_TILES - 1`` of them).
    out : path-like
        ``.mp4``, ``.m4v``, ``.mov`` or ``.mkv``; replaced only by a complete export.
    nudges : sequence of int, optional
        One per tile (the query first): frames of that clip added to what its time map
        gives (the player's per-tile nudge).
    names : sequence of str, optional
        One per tile, burned in with ``burn_in`` (default: the file names).
    burn_in : bool
        Burn each tile's name, SMPTE timecode (``HH:MM:SS:FF`` at its own rate) and
        frame number into its top left corner.
    tile_height : int, optional
        Height of a cell in pixels (default: the query's height).
    columns : int, optional
        See :func:`grid_shape`.
    audio : {"query", "none"}
    options : EncodeOptions, optional
    on_warning : callable, optional
    progress, cancel
        See :mod:`avr_gui.core.jobs`. A cancel leaves any existing ``out`` untouched
        and no partial file.

    Returns
    -------
    GridResult

    Raises
    ------
    InputError
        No match, too many, nudges or names of the wrong count, bad audio choice.
    OutputPathError, VideoError, EncoderUnavailableError, ExportError, Cancelled
    """
    t_start = time.perf_counter()
    if not 1 <= len(matches) <= MAX_TILES - 1:
        raise InputError(f"a grid takes 1 to {MAX_TILES - 1} matches, got {len(matches)}")
    if audio not in ("query", "none"):
        raise InputError(f"a grid's audio is 'query' or 'none', got {audio!r}")
    count = len(matches) + 1
    nudges = [0] * count if nudges is None else [int(n) for n in nudges]
    if len(nudges) != count:
        raise InputError(f"give one nudge per tile ({count}), got {len(nudges)}")
    if names is not None and len(names) != count:
        raise InputError(f"give one name per tile ({count}), got {len(names)}")
    warn = on_warning or (lambda message: None)
    paths = [Path(query), *(Path(p) for p, _ in matches)]
    target = check_output(out, *paths)
    remove_stale_temps(target.parent, target.name)
    names = list(names) if names is not None else [p.stem for p in paths]
    readers = []
    try:
        for p in paths:
            readers.append(FrameReader(p, on_warning=warn))
        qr = readers[0]
        times, fps = qr.times, qr.info.fps or 30.0
        maps = [None, *(tm for _, tm in matches)]
        frames_of = np.stack(
            [
                tile_frames(tm, times, r.times, nudge)
                for tm, r, nudge in zip(maps, readers, nudges, strict=True)
            ]
        )
        plan = grid_layout(
            [(r.width, r.height) for r in readers], tile_height=tile_height, columns=columns
        )
        n = len(times)
        t0 = float(times[0])
        step = float(np.median(np.diff(times))) if n > 1 else 1.0 / fps
        track, audio_used = None, "none"
        if audio == "query":
            progress(0, n, "reading audio")
            loaded = load_audio(paths[0], cancel=cancel, on_warning=warn)
            if loaded is None:
                warn(f"{paths[0].name} has no audio: the export is silent")
            else:
                track = fit_audio(loaded[0], loaded[1], t0, float(times[-1]) - t0 + step)
                audio_used = "query"
        # Each tile's timecode counts its frames at its own rate, as the players do.
        rates = [clip_rate(r.times, r.info.fps or fps) for r in readers]

        def frames() -> Iterator[np.ndarray]:
            # Runs on the prefetch thread; the readers are used there alone.
            w, h = plan.size
            for i in range(n):
                image = np.zeros((h, w, 3), np.uint8)
                for k, reader in enumerate(readers):
                    j = int(frames_of[k, i])
                    x, y, bw, bh = plan.boxes[k]
                    panel = _fit(reader.read(j), bw, bh)
                    if burn_in:
                        panel = np.ascontiguousarray(panel)
                        label(panel, burn_in_text(names[k], j, rates[k]))
                    image[y : y + bh, x : x + bw] = panel
                yield image

        codec = write_frames(
            target,
            frames(),
            plan.size,
            times,
            fps,
            audio=track,
            options=options,
            on_warning=warn,
            progress=progress,
            cancel=cancel,
        )
    finally:
        for r in readers:
            r.close()
    return GridResult(
        path=target,
        frame_count=n,
        fps=fps,
        size=plan.size,
        tile_frames=frames_of,
        codec=codec,
        audio=audio_used,
        seconds=time.perf_counter() - t_start,
    )
