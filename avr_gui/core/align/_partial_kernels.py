"""numba kernels for partial (open-begin-end) alignment. Arrays in, arrays out.

Callers (:mod:`avr_gui.core.align.partial`) validate shapes, dtypes and finiteness.
Directions use the codes of :mod:`avr_gui.core.align._kernels` (0 diagonal, 1 up,
2 left, 3 start), so :func:`avr_gui.core.align._kernels.backtrack` reads them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from avr_gui.core.align._kernels import FASTMATH, dtw_step


@njit(inline="always", fastmath=FASTMATH)
def _border(cont, c, bonus, may_start, move):
    # A border cell either continues the border path (up in column 0, left in row 0)
    # or starts a new path there, paying the start offset. A tie keeps the longer path.
    v = cont + c
    if may_start:
        s = c + bonus
        if s < v:
            return s, np.uint8(3)
    return v, move


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def obe_dtw(C, lam, row_open, col_open, S, last_col):  # pragma: no cover - compiled
    """Open-begin-end DTW with a start offset, into the direction matrix ``S``.

    Computes ``D'(i, j) = min over paths from a start cell (i0, j0) to (i, j) of
    sum(C over the path) + lam * (i0 + j0)``, where a path may start at ``(0, j0)``
    with ``j0 < row_open`` or at ``(i0, 0)`` with ``i0 < col_open``. Interior moves are
    those of plain DTW (diagonal, up, left; the diagonal wins ties, then up).

    ``S`` (uint8 [n, m]) is overwritten; ``last_col`` (float32 [n]) receives
    ``D'(i, m - 1)``. Returns ``D'(n - 1, j)`` as float32 [m].

    Rows are advanced four at a time along a skewed wavefront (row r of a block is at
    column ``j - r`` at step ``j``), so each row's left, up and diagonal inputs sit in
    registers and the four recurrences run as independent chains: about twice the
    speed of a row-by-row loop, like ``_kernels.dtw_full``.
    """
    n, m = C.shape
    above = np.empty(m, np.float32)
    below = np.empty(m, np.float32)
    lam32 = np.float32(lam)
    s0 = S[0]
    above[0] = C[0, 0]
    s0[0] = 3
    for j in range(1, m):
        v, s = _border(above[j - 1], C[0, j], lam32 * np.float32(j), j < row_open, np.uint8(2))
        above[j] = v
        s0[j] = s
    last_col[0] = above[m - 1]
    i = 1
    while i + 4 <= n:
        c0 = C[i]
        c1 = C[i + 1]
        c2 = C[i + 2]
        c3 = C[i + 3]
        q0 = S[i]
        q1 = S[i + 1]
        q2 = S[i + 2]
        q3 = S[i + 3]
        # Column 0: a chain down the block (continue up, or start a path).
        x0, s = _border(above[0], c0[0], lam32 * np.float32(i), i < col_open, np.uint8(1))
        q0[0] = s
        x1, s = _border(x0, c1[0], lam32 * np.float32(i + 1), i + 1 < col_open, np.uint8(1))
        q1[0] = s
        x2, s = _border(x1, c2[0], lam32 * np.float32(i + 2), i + 2 < col_open, np.uint8(1))
        q2[0] = s
        x3, s = _border(x2, c3[0], lam32 * np.float32(i + 3), i + 3 < col_open, np.uint8(1))
        q3[0] = s
        below[0] = x3
        # x_r: row r's latest value; y_r: the one before it (the next row's diagonal).
        y0 = x0
        y1 = x1
        y2 = x2
        pa = above[0]
        for j in range(1, m + 3):
            c = j - 3
            if c >= 1 and c < m:
                v, s = dtw_step(y2, x2, x3, c3[c])
                x3 = v
                q3[c] = s
                below[c] = v
            c = j - 2
            if c >= 1 and c < m:
                v, s = dtw_step(y1, x1, x2, c2[c])
                y2 = x2
                x2 = v
                q2[c] = s
            c = j - 1
            if c >= 1 and c < m:
                v, s = dtw_step(y0, x0, x1, c1[c])
                y1 = x1
                x1 = v
                q1[c] = s
            c = j
            if c < m:
                ac = above[c]
                v, s = dtw_step(pa, ac, x0, c0[c])
                pa = ac
                y0 = x0
                x0 = v
                q0[c] = s
        # Each row's latest value is now its last column.
        last_col[i] = x0
        last_col[i + 1] = x1
        last_col[i + 2] = x2
        last_col[i + 3] = x3
        above, below = below, above
        i += 4
    while i < n:
        ci = C[i]
        si = S[i]
        v, s = _border(above[0], ci[0], lam32 * np.float32(i), i < col_open, np.uint8(1))
        below[0] = v
        si[0] = s
        for j in range(1, m):
            v, s = dtw_step(above[j - 1], above[j], v, ci[j])
            si[j] = s
            below[j] = v
        last_col[i] = below[m - 1]
        above, below = below, above
        i += 1
    return above


@njit(cache=True, nogil=True)
def best_end(last_row, last_col, lam, k):  # pragma: no cover - compiled
    """The end cell minimising ``D'(i, j) - lam * (i + j + 2)`` among allowed ends.

    Allowed: ``(n - 1, j)`` with ``j >= k - 1`` and ``(i, m - 1)`` with ``i >= k - 1``.
    Sums in float64; a tie goes to the later end (the longer alignment).
    Returns (i, j).
    """
    m = last_row.shape[0]
    n = last_col.shape[0]
    best = np.inf
    bi = n - 1
    bj = m - 1
    for j in range(k - 1, m):
        v = np.float64(last_row[j]) - lam * (n + 1 + j)
        if v <= best:
            best = v
            bj = j
    for i in range(k - 1, n - 1):
        v = np.float64(last_col[i]) - lam * (i + m + 1)
        if v < best or (v == best and i + m - 1 > bi + bj):
            best = v
            bi = i
            bj = m - 1
    return bi, bj
