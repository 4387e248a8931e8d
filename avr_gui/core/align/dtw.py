"""Dynamic time warping on a given cost matrix."""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

import avr_gui.core.align._kernels as K
import avr_gui.core.align.multiscale as _ms
from avr_gui.core.align._validate import as_cost, check_finite, check_finite_band

# Defined below this module so that multiscale DTW can build them without importing it;
# re-exported here, where callers have always found them.
from avr_gui.core.align.dtw_base import DTWResult, band_limits
from avr_gui.core.errors import InputError, NoPathError

__all__ = ["DTWResult", "band_limits", "dtw"]


def dtw(cost: np.ndarray, *, band: float | None = None, subsequence: bool = False) -> DTWResult:
    """Optimal monotone alignment of a cost matrix.

    Parameters
    ----------
    cost : array_like, shape (n, m)
        Local costs; rows are query frames, columns candidate frames. Every cell the
        alignment reads must be finite: without a band that is the whole matrix; with
        a band only the cells inside it, and cells outside the band are never read
        (they may hold anything, NaN included, without changing the result).
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
        For empty or non-2-D costs, or a band combined with subsequence.
    NonFiniteError
        For a NaN or infinite cost among the cells read, naming the first such cell
        (row-major) of the matrix, or of the band when there is one.
    NoPathError
        When no path of finite cost fits inside the band.

    Notes
    -----
    Without a band, matrices of more than ``MULTISCALE_CELLS`` cells (32 Mi, see
    :mod:`avr_gui.core.align.multiscale`) are aligned coarse to fine, which keeps the
    direction storage O(n + m) but may, on unrelated content, return a path costing
    slightly more than the optimum. Smaller matrices are always aligned exactly.
    """
    return dtw_checked(as_cost(cost, check=False), band, subsequence)


class _Scratch(threading.local):
    buf: np.ndarray | None = None


_SCRATCH = _Scratch()
# Direction matrices up to this many cells reuse one buffer per thread. A fresh large
# allocation is handed back to the OS on free and page-faults in again next call, which
# measured ~0.5 ms per 1000 x 1000 DTW here (a third of the DTW itself).
_SCRATCH_CELLS = 32 * 2**20


def _scratch(cells: int) -> np.ndarray:
    """A flat uint8 buffer of ``cells`` bytes, reused per thread up to the limit."""
    if cells > _SCRATCH_CELLS:
        return np.empty(cells, np.uint8)
    buf = _SCRATCH.buf
    if buf is None or buf.size < cells:
        buf = np.empty(max(cells, 2**20), np.uint8)
        _SCRATCH.buf = buf
    return buf[:cells]


def direction_buffer(n: int, m: int) -> np.ndarray:
    """A reusable ``[n, m]`` uint8 buffer for a DTW's move directions (contents undefined).

    Reused across calls so a query aligning 50 candidates does not allocate 50 matrices.
    """
    return _scratch(n * m).reshape(n, m)


@functools.lru_cache(maxsize=32)
def _band_layout(n: int, m: int, radius: float) -> tuple[np.ndarray, ...]:
    """Band limits and flat-storage bases of a shape, cached (read-only arrays).

    Returns (lo, hi, sb, cb, cells): direction of (i, j) at ``sb[i] + j`` in a buffer
    of ``cells`` bytes, cost at ``cb[i] + j`` of the dense matrix. Re-ranking aligns
    many pairs of one shape; rebuilding these small arrays cost ~10 % of a banded DTW.
    """
    lo, hi = band_limits(n, m, radius)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(hi - lo + 1, out=offsets[1:])
    sb = offsets[:-1] - lo
    cb = np.arange(0, n * m, m, dtype=np.int64)
    out = (lo, hi, sb, cb)
    for arr in out:
        arr.setflags(write=False)
    return (*out, np.int64(offsets[-1]))


def _banded(C: np.ndarray, band: float) -> DTWResult:
    """Sakoe-Chiba banded DTW of a dense matrix; directions stored for the band only.

    Reads (and checks) the cells inside the band only: the kernel's checksum of the
    costs it read is finite unless one of them is NaN/inf (or the sum overflowed), so
    the band is scanned only then, to name the bad cell. Cells outside the band are
    not checked: a caller that reads them (DRAQ's baseline) must check them itself.
    """
    n, m = C.shape
    lo, hi, sb, cb, cells = _band_layout(n, m, float(band))
    S = _scratch(int(cells))
    prev = np.empty(m, np.float32)
    nxt = np.empty(m, np.float32)
    last, _, checksum = K.dtw_window(C.reshape(-1), cb, lo, hi, S, sb, prev, nxt, 0, n, False)
    if not math.isfinite(checksum):
        # Before the no-path test: a NaN in the band is bad input, not a narrow band.
        check_finite_band(C, lo, hi, "cost matrix")
    end_cost = last[m - 1]
    if not math.isfinite(end_cost):
        raise NoPathError("no monotone path fits inside the band; widen it")
    path = K.backtrack_flat(S, sb, n - 1, m - 1)
    return DTWResult(float(end_cost), path, (n, m), False)


def dtw_checked(C: np.ndarray, band: float | None, subsequence: bool) -> DTWResult:
    """:func:`dtw` on a float32 C-contiguous matrix of checked shape.

    Parameters
    ----------
    C : numpy.ndarray, shape (n, m), float32
    band : float or None
    subsequence : bool

    Returns
    -------
    DTWResult
        Without a band, returning proves every cell of ``C`` finite (the full and the
        multiscale passes read them all). With a band only the band's cells are proved
        finite; the rest of ``C`` was not read.
    """
    n, m = C.shape
    if band is not None and subsequence:
        raise InputError("a band and subsequence alignment cannot be combined")
    if band is not None:
        return _banded(C, band)
    # Looked up on the module at each call, so a test patching it is seen here too.
    if _ms.needs_multiscale(n, m):
        return _ms._multiscale_matrix(C, subsequence)[0]
    S = direction_buffer(n, m)
    last, checksum = K.dtw_full(C, subsequence, S)
    if not math.isfinite(checksum):
        check_finite(C, "cost matrix")  # raises, naming the first bad cell
    zeros = np.zeros(n, np.int64)
    end = int(np.argmin(last)) if subsequence else m - 1
    path = K.backtrack(S, zeros, n - 1, end)
    return DTWResult(float(last[end]), path, (n, m), subsequence)
