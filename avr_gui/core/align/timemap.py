"""Time maps: which frame of one clip plays at each frame of the other.

"Keeping a sequence unwarped" means the output has exactly one entry per frame of the
kept sequence; where the path pairs a kept frame with several frames of the other
sequence, their mean (default) or first index is used.
"""

from __future__ import annotations

import numpy as np

from avr_gui.core.errors import InputError, ShapeError

KEEP = ("query", "candidate")
REDUCE = ("mean", "first")


def _check_path(path: np.ndarray) -> np.ndarray:
    p = np.asarray(path)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
        raise ShapeError(f"a path must have shape [L, 2] with L >= 1, got {p.shape}")
    if not np.issubdtype(p.dtype, np.integer):
        if not np.issubdtype(p.dtype, np.floating) or not np.array_equal(p, np.round(p)):
            raise ShapeError("a path must hold whole frame indices")
    p = p.astype(np.int64, copy=False)
    steps = np.diff(p, axis=0)
    if len(steps) and ((steps < 0).any() or (steps > 1).any() or (steps.sum(axis=1) == 0).any()):
        raise ShapeError("a path must be monotone with moves (0,1), (1,0) or (1,1)")
    return p


def time_map(path: np.ndarray, *, keep: str = "query", reduce: str = "mean") -> np.ndarray:
    """Partner index in the other sequence for every frame of the kept one.

    Parameters
    ----------
    path : array_like, shape (L, 2)
        DTW path of ``[query_index, candidate_index]`` cells.
    keep : {"query", "candidate"}
        The sequence that stays unwarped.
    reduce : {"mean", "first"}
        How to pick one partner among several.

    Returns
    -------
    numpy.ndarray, shape (K,), float64
        For each kept index from the path's first to its last (``K`` of them),
        the (possibly fractional) index in the other sequence.
    """
    p = _check_path(path)
    if keep not in KEEP:
        raise InputError(f"keep must be one of {KEEP}, got {keep!r}")
    if reduce not in REDUCE:
        raise InputError(f"reduce must be one of {REDUCE}, got {reduce!r}")
    kept, other = (p[:, 0], p[:, 1]) if keep == "query" else (p[:, 1], p[:, 0])
    start = kept[0]
    rel = kept - start
    count = int(rel[-1]) + 1
    if reduce == "first":
        first = np.ones(len(rel), dtype=bool)
        first[1:] = rel[1:] != rel[:-1]
        return other[first].astype(np.float64)
    sums = np.bincount(rel, weights=other.astype(np.float64), minlength=count)
    counts = np.bincount(rel, minlength=count)
    return sums / counts


def indices_to_seconds(indices: np.ndarray, timestamps: np.ndarray) -> np.ndarray:
    """Map (fractional) sampled-frame indices to seconds in the original file.

    Parameters
    ----------
    indices : array_like, shape (K,)
        Positions in a sequence of sampled frames; fractions interpolate linearly.
    timestamps : array_like, shape (T,)
        Source time in seconds of each sampled frame, non-decreasing.

    Returns
    -------
    numpy.ndarray, shape (K,), float64
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    idx = np.asarray(indices, dtype=np.float64)
    if ts.ndim != 1 or ts.size == 0:
        raise ShapeError(f"timestamps must be a non-empty 1-D array, got shape {ts.shape}")
    if not np.isfinite(ts).all() or (np.diff(ts) < 0).any():
        raise InputError("timestamps must be finite and non-decreasing")
    if not np.isfinite(idx).all():
        raise InputError("every frame index must be a finite number")
    if idx.size and (idx.min() < 0 or idx.max() > ts.size - 1):
        raise InputError(
            f"frame index out of range: indices span [{idx.min()}, {idx.max()}] but there "
            f"are {ts.size} timestamps"
        )
    return np.interp(idx, np.arange(ts.size, dtype=np.float64), ts)


def time_map_table(
    path: np.ndarray,
    query_times: np.ndarray,
    candidate_times: np.ndarray,
    *,
    keep: str = "query",
    reduce: str = "mean",
) -> dict[str, np.ndarray]:
    """A time map in sampled-frame indices and in seconds of both original files.

    Parameters
    ----------
    path : array_like, shape (L, 2)
    query_times : array_like, shape (n,)
        Source timestamps (s) of the query's sampled frames.
    candidate_times : array_like, shape (m,)
        Source timestamps (s) of the candidate's sampled frames.
    keep, reduce : str
        See :func:`time_map`.

    Returns
    -------
    dict of str to numpy.ndarray, each shape (K,)
        ``query_index``, ``query_time``, ``match_index``, ``match_time``.
    """
    p = _check_path(path)
    partner = time_map(p, keep=keep, reduce=reduce)
    kept_col = 0 if keep == "query" else 1
    kept = np.arange(p[0, kept_col], p[-1, kept_col] + 1, dtype=np.float64)
    q_idx, c_idx = (kept, partner) if keep == "query" else (partner, kept)
    return {
        "query_index": q_idx,
        "query_time": indices_to_seconds(q_idx, query_times),
        "match_index": c_idx,
        "match_time": indices_to_seconds(c_idx, candidate_times),
    }
