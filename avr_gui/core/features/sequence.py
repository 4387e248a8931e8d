"""Feature sequences with the source timestamps of their frames, loaded from any input."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avr_gui.core.align._validate import as_sequence
from avr_gui.core.errors import InputError, ShapeError, UnsupportedFileError
from avr_gui.core.features import thumbnail
from avr_gui.core.jobs import CancelToken, ProgressCallback, no_progress
from avr_gui.core.video.decode import sample_frames


@dataclass(frozen=True)
class FeatureSequence:
    """Per-frame features of one clip and where each frame came from.

    Attributes
    ----------
    features : numpy.ndarray, shape (T, d), float32
    timestamps : numpy.ndarray, shape (T,), float64
        Seconds in the source file.
    frame_indices : numpy.ndarray, shape (T,), int64
        Frame numbers in the source file.
    source : str
        Where the sequence came from.
    """

    features: np.ndarray
    timestamps: np.ndarray
    frame_indices: np.ndarray
    source: str

    def __post_init__(self) -> None:
        t = self.features.shape[0]
        if self.timestamps.shape != (t,) or self.frame_indices.shape != (t,):
            raise ShapeError(
                f"{self.source}: {t} frames but {self.timestamps.shape[0]} timestamps and "
                f"{self.frame_indices.shape[0]} frame indices"
            )


def _from_arrays(feats: object, times: object | None, source: str, fps: float) -> FeatureSequence:
    f = as_sequence(feats, f"{source}")
    t = f.shape[0]
    idx = np.arange(t, dtype=np.int64)
    ts = idx / fps if times is None else np.asarray(times, dtype=np.float64)
    return FeatureSequence(f, ts, idx, source)


def load_sequence(
    path: str | os.PathLike[str],
    *,
    fps: float = 10.0,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> FeatureSequence:
    """Load features from ``.npy`` / ``.npz`` files or compute them from a video.

    Parameters
    ----------
    path : path-like
        ``.npy`` with a ``[T, d]`` array (frames assumed ``1/fps`` s apart), ``.npz``
        with ``features`` and optionally ``timestamps`` / ``frame_indices``, or a video
        (sampled at ``fps`` and described by the built-in thumbnail descriptor).
    fps : float
        Sampling rate for videos; frame spacing for bare ``.npy`` arrays.
    progress, cancel
        See :mod:`avr_gui.core.jobs`.

    Returns
    -------
    FeatureSequence
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".npy", ".npz"):
        if not p.is_file():
            raise UnsupportedFileError(f"{p}: no such file")
        try:
            data = np.load(p, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise UnsupportedFileError(f"{p}: not a readable NumPy file ({exc})") from exc
        if suffix == ".npy":
            return _from_arrays(data, None, str(p), fps)
        with data:
            if "features" not in data.files:
                raise InputError(f"{p}: the .npz has no 'features' array (has: {data.files})")
            seq = _from_arrays(
                data["features"],
                data["timestamps"] if "timestamps" in data.files else None,
                str(p),
                fps,
            )
            if "frame_indices" in data.files:
                seq = FeatureSequence(
                    seq.features,
                    seq.timestamps,
                    np.asarray(data["frame_indices"], dtype=np.int64),
                    seq.source,
                )
            return seq
    # Describe each frame as it is decoded: a long video never sits in memory whole.
    rows, times, indices = [], [], []
    for frame in sample_frames(p, fps, progress=progress, cancel=cancel):
        rows.append(thumbnail.thumbnail_features([frame.image])[0])
        times.append(frame.time)
        indices.append(frame.index)
    return FeatureSequence(
        np.stack(rows),
        np.array(times, dtype=np.float64),
        np.array(indices, dtype=np.int64),
        str(p),
    )
