"""Dynamic time warping on a given cost matrix."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from avr_gui.core.align import _kernels as K
from avr_gui.core.align._validate import as_cost, check_finite
from avr_gui.core.errors import InputError, NoPathError


@dataclass(frozen=True)
class DTWResult:
    """The optimal alignment of the rows (query) and columns (candidate) of a cost matrix.

    Attributes
    ----------
    cost : float
        Accumulated cost of the optimal path: D(n, m), or for subsequence alignment
        the smallest D(n, j) over end columns j.
    path : numpy.ndarray, shape (L, 2), int64
        Cells ``[i, j]`` from the start to the end, moves (0,1), (1,0), (1,1) only.
    shape : tuple of int
        ``(n, m)`` of the cost matrix.
    subsequence : bool
        Whether the path may start and end anywhere along the candidate.
    """

    cost: float
    path: np.ndarray
    shape: tuple[int, int]
    subsequence: bool = False

    @property
    def span(self) -> tuple[int, int]:
        """First and last candidate column the path touches (inclusive)."""
        return int(self.path[0, 1]), int(self.path[-1, 1])


def band_limits(n: int, m: int, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-row column limits of a Sakoe-Chiba band around the matrix diagonal.

    Parameters
    ----------
    n, m : int
        Matrix shape.
    radius : float
        Half-width as a fraction of ``max(n, m)``, in (0, 1]. It is widened where
        needed so that consecutive rows overlap and a monotone path always exists.

    Returns
    -------
    lo, hi : numpy.ndarray, shape (n,), int64
        Inclusive first and last column allowed in each row.
    """
    if not (0.0 < radius <= 1.0) or math.isnan(radius):
        raise InputError(
            f"band radius must be in (0, 1] as a fraction of the longer clip, got {radius}"
        )
    slope = (m - 1) / (n - 1) if n > 1 else 0.0
    r = max(radius * max(n, m), math.ceil(slope), 1.0)
    centre = np.arange(n, dtype=np.float64) * slope
    lo = np.clip(np.floor(centre - r), 0, m - 1).astype(np.int64)
    hi = np.clip(np.ceil(centre + r), 0, m - 1).astype(np.int64)
    lo[0] = 0
    hi[-1] = m - 1
    return lo, hi


def dtw(cost: np.ndarray, *, band: float | None = None, subsequence: bool = False) -> DTWResult:
    """Optimal monotone alignment of a cost matrix.

    Parameters
    ----------
    cost : array_like, shape (n, m)
        Finite local costs; rows are query frames, columns candidate frames.
    band : float, optional
        Sakoe-Chiba band radius as a fraction of ``max(n, m)`` (see :func:`band_limits`).
    subsequence : bool
        Open-begin/open-end alignment: every query row is matched but the path may
        start and end at any candidate column, locating a short query in a long clip.

    Returns
    -------
    DTWResult

    Raises
    ------
    InputError
        For empty, non-2-D or non-finite costs, or a band combined with subsequence.
    """
    return _dtw(as_cost(cost, check=False), band, subsequence)


class _Scratch(threading.local):
    buf: np.ndarray | None = None


_SCRATCH = _Scratch()
# Direction matrices up to this many cells reuse one buffer per thread. A fresh large
# allocation is handed back to the OS on free and page-faults in again next call, which
# measured ~0.5 ms per 1000 x 1000 DTW here (a third of the DTW itself).
_SCRATCH_CELLS = 32 * 2**20


def _directions(n: int, m: int) -> np.ndarray:
    cells = n * m
    if cells > _SCRATCH_CELLS:
        return np.empty((n, m), np.uint8)
    buf = _SCRATCH.buf
    if buf is None or buf.size < cells:
        buf = np.empty(max(cells, 2**20), np.uint8)
        _SCRATCH.buf = buf
    return buf[:cells].reshape(n, m)


def _dtw(C: np.ndarray, band: float | None, subsequence: bool) -> DTWResult:
    """:func:`dtw` on a float32 C-contiguous matrix of checked shape."""
    n, m = C.shape
    if band is not None and subsequence:
        raise InputError("a band and subsequence alignment cannot be combined")
    if band is not None:
        check_finite(C, "cost matrix")
        lo, hi = band_limits(n, m, band)
        end_cost, S = K.dtw_banded(C, lo, hi)
        if not math.isfinite(end_cost):
            raise NoPathError("no monotone path fits inside the band; widen it")
        path = K.backtrack(S, lo, n - 1, m - 1)
        return DTWResult(float(end_cost), path, (n, m), False)
    S = _directions(n, m)
    last, checksum = K.dtw_full(C, subsequence, S)
    if not math.isfinite(checksum):
        check_finite(C, "cost matrix")  # raises, naming the first bad cell
    zeros = np.zeros(n, np.int64)
    end = int(np.argmin(last)) if subsequence else m - 1
    path = K.backtrack(S, zeros, n - 1, end)
    return DTWResult(float(last[end]), path, (n, m), subsequence)
