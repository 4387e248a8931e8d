"""Align two video files for an export: features on sampled frames, DTW, a frame map."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from avr_gui.core.align import Alignment, AlignmentOptions
from avr_gui.core.align.shown import shown_alignment
from avr_gui.core.export.framemap import FrameMap, TimeMap, frame_map
from avr_gui.core.features.encoders import Encoder
from avr_gui.core.features.layout import alignment_columns, alignment_view
from avr_gui.core.features.sequence import FeatureSequence, encode_video
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.video import FrameReader


def frame_times(path: str | os.PathLike[str]) -> np.ndarray:
    """Presentation time of every frame of a video.

    Returns
    -------
    numpy.ndarray, shape (N,), float64
        Seconds from the video stream's start, increasing.
    """
    with FrameReader(path) as reader:
        return reader.times.copy()


def align_for_export(
    query: str | os.PathLike[str],
    match: str | os.PathLike[str],
    encoder: Encoder,
    *,
    fps: float = 10.0,
    options: AlignmentOptions | None = None,
    on_warning: Callable[[str], None] | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[FrameMap, TimeMap, Alignment]:
    """Align ``match`` to ``query`` and map every query frame to a match frame.

    Parameters
    ----------
    query, match : path-like
        Video files.
    encoder : Encoder
        Frame encoder (``get_encoder(...)``).
    fps : float
        Sampling rate of the alignment.
    options : AlignmentOptions, optional
    on_warning : callable, optional
    progress, cancel
        See :mod:`avr_gui.core.jobs`.

    Returns
    -------
    (FrameMap, TimeMap, Alignment)
        The per-frame map (one row per query frame), the query -> match time map
        on the sampled frames, and the alignment itself (DRAQ, path on sampled frames).
    """
    q = encode_video(
        query, encoder, fps=fps, on_warning=on_warning, progress=progress, cancel=cancel
    )
    check(cancel)
    m = encode_video(
        match, encoder, fps=fps, on_warning=on_warning, progress=progress, cancel=cancel
    )
    check(cancel)
    # The encoding above has already said what is damaged.
    quiet = None if on_warning is None else _ignore
    return align_features_for_export(query, match, q, m, options=options, on_warning=quiet)


def _ignore(message: str) -> None:
    """Drop a warning already given."""


def align_features_for_export(
    query: str | os.PathLike[str],
    match: str | os.PathLike[str],
    query_features: FeatureSequence,
    match_features: FeatureSequence,
    *,
    options: AlignmentOptions | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> tuple[FrameMap, TimeMap, Alignment]:
    """:func:`align_for_export` on features already at hand (e.g. a library's).

    Parameters
    ----------
    query, match : path-like
        The video files the features were computed from (their frame times are read).
    query_features, match_features : FeatureSequence
        Features ``[n, d]`` and ``[m, d]`` of the same encoder, any float dtype (stored
        float16 is converted), with the source timestamps of their frames.
    options : AlignmentOptions, optional
    on_warning : callable, optional
        ``on_warning(message)`` for decode warnings while reading the frame times (a
        damaged clip); Python :class:`DecodeWarning` when not given.

    Returns
    -------
    (FrameMap, TimeMap, Alignment)
        As :func:`align_for_export`.
    """
    q, m = query_features, match_features
    # The same columns a library query aligns on (pose-fused / auto: appearance).
    cols = alignment_columns(q.encoder if q.encoder == m.encoder else None)
    # The partial alignment a library query shows (a trimmed query inside a longer
    # clip keeps to the part that matches), defined for every query frame.
    result = shown_alignment(
        alignment_view(q.features, cols), alignment_view(m.features, cols), options, keep_cost=False
    ).alignment
    curve = TimeMap.from_path(result.path, q.timestamps, m.timestamps)
    with (
        FrameReader(query, on_warning=on_warning) as qr,
        FrameReader(match, on_warning=on_warning) as mr,
    ):
        fmap = frame_map(curve, qr.times, mr.times)
    return fmap, curve, result
