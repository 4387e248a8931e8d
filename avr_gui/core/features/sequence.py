"""Feature sequences with the source timestamps of their frames, loaded from any input."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avr_gui.core.align._validate import as_sequence
from avr_gui.core.atomic import atomic_path
from avr_gui.core.errors import InputError, ShapeError
from avr_gui.core.features.encoders import Encoder, ThumbnailEncoder
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.npyfile import load_npy, load_npz, npz_names
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
    encoder, encoder_version : str
        Which encoder made the features ("" when unknown, e.g. a bare array).
    """

    features: np.ndarray
    timestamps: np.ndarray
    frame_indices: np.ndarray
    source: str
    encoder: str = ""
    encoder_version: str = ""

    def __post_init__(self) -> None:
        t = self.features.shape[0]
        if self.timestamps.shape != (t,) or self.frame_indices.shape != (t,):
            raise ShapeError(
                f"{self.source}: {t} frames but {self.timestamps.shape[0]} timestamps and "
                f"{self.frame_indices.shape[0]} frame indices"
            )


# The arrays of a saved sequence (see save_sequence); other members are not read.
_NPZ_KEYS = ("features", "timestamps", "frame_indices", "encoder", "encoder_version")


def _from_arrays(
    feats: object, times: object | None, indices: object | None, source: str, fps: float
) -> FeatureSequence:
    f = as_sequence(feats, f"{source}")
    t = f.shape[0]
    idx = np.arange(t, dtype=np.int64) if indices is None else _numbers(indices, np.int64, source)
    ts = np.arange(t) / fps if times is None else _numbers(times, np.float64, source)
    return FeatureSequence(f, ts, idx, source)


def _numbers(values: object, dtype: type[np.generic], source: str) -> np.ndarray:
    """``values`` as a ``dtype`` array; text or other non-numbers are the file's fault."""
    arr = np.asarray(values)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ShapeError(f"{source}: timestamps / frame indices must be numbers, not {arr.dtype}")
    return arr.astype(dtype)


def _text(value: np.ndarray, name: str) -> str:
    """A string stored as a 0-d array (encoder names); anything else is not a name."""
    if value.ndim != 0 or value.dtype.kind not in "US":
        raise ShapeError(f"{name}: expected a single string, got {value.dtype} {value.shape}")
    return str(value.item().decode() if value.dtype.kind == "S" else value.item())


def encode_video(
    path: str | os.PathLike[str],
    encoder: Encoder,
    *,
    fps: float = 10.0,
    on_warning: Callable[[str], None] | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> FeatureSequence:
    """Decode ``path`` at ``fps`` and encode the sampled frames in batches.

    A decoder thread runs up to two batches ahead of the encoder, so decoding and
    encoding overlap; frames are shrunk at decode time to what the encoder can use and
    encoded a batch at a time, so a long or huge video never sits in memory whole.

    Parameters
    ----------
    path : path-like
    encoder : Encoder
    fps : float
    on_warning : callable, optional
        Receives a one-line message for a damaged file (the readable part is encoded).
    progress, cancel
        See :mod:`avr_gui.core.jobs`.

    Returns
    -------
    FeatureSequence
    """
    p = Path(path)
    parts: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    times: list[float] = []
    indices: list[int] = []
    frames = sample_frames(
        p,
        fps,
        size=encoder.decode_side,
        prefetch=2 * encoder.batch_size,
        on_warning=on_warning,
        progress=progress,
        cancel=cancel,
    )
    for frame in frames:
        batch.append(frame.image)
        times.append(frame.time)
        indices.append(frame.index)
        if len(batch) >= encoder.batch_size:
            check(cancel)
            parts.append(encoder.encode(batch))
            batch = []
    if batch:
        parts.append(encoder.encode(batch))
    return FeatureSequence(
        np.ascontiguousarray(np.concatenate(parts), dtype=np.float32),
        np.array(times, dtype=np.float64),
        np.array(indices, dtype=np.int64),
        str(p),
        encoder.name,
        encoder.version,
    )


def save_sequence(path: str | os.PathLike[str], seq: FeatureSequence) -> None:
    """Write ``seq`` as an ``.npz`` atomically (no pickled objects inside).

    Keys: ``features`` (float32 [T, d]), ``timestamps`` (float64 [T], seconds),
    ``frame_indices`` (int64 [T]), ``encoder`` and ``encoder_version`` (strings).
    """
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                features=seq.features,
                timestamps=seq.timestamps,
                frame_indices=seq.frame_indices,
                encoder=np.str_(seq.encoder),
                encoder_version=np.str_(seq.encoder_version),
            )


def load_sequence(
    path: str | os.PathLike[str],
    *,
    encoder: Encoder | None = None,
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
        (sampled at ``fps`` and encoded with ``encoder``).
    encoder : Encoder, optional
        For videos; default: the thumbnail descriptor.
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
    if suffix not in (".npy", ".npz"):
        return encode_video(
            p, encoder or ThumbnailEncoder(), fps=fps, progress=progress, cancel=cancel
        )
    if suffix == ".npy":
        return _from_arrays(load_npy(p), None, None, str(p), fps)
    data = load_npz(p, _NPZ_KEYS)
    if "features" not in data:
        raise InputError(f"{p}: the .npz has no 'features' array (has: {npz_names(p)})")
    seq = _from_arrays(
        data["features"], data.get("timestamps"), data.get("frame_indices"), str(p), fps
    )
    if "encoder" not in data:
        return seq
    return FeatureSequence(
        seq.features,
        seq.timestamps,
        seq.frame_indices,
        seq.source,
        _text(data["encoder"], f"{p}: 'encoder'"),
        _text(data["encoder_version"], f"{p}: 'encoder_version'")
        if "encoder_version" in data
        else "",
    )
