"""numba kernels for alignment. Arrays in, arrays out; no validation here.

Callers (the public functions in this package) validate shapes, dtypes and finiteness.
Directions are stored as one byte per cell: 0 = diagonal (i-1, j-1), 1 = up (i-1, j),
2 = left (i, j-1), 3 = start of an open-begin path. On ties the diagonal wins, then up.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Fast-math without "no NaN/Inf" assumptions (banded DTW relies on inf) and without
# reassociation (sums must not depend on the compiler's mood: results are deterministic).
# No "contract" either: a fused multiply-add would make the fused DRAQ sum differ from
# the separate one in the last bit.
FASTMATH = {"nsz", "arcp", "afn"}

DIAG = np.uint8(0)
UP = np.uint8(1)
LEFT = np.uint8(2)
START = np.uint8(3)


@njit(inline="always", fastmath=FASTMATH)
def dtw_step(a, b, left, c):
    # Written as selects, not branches: the winning move on real cost matrices is
    # close to random, and mispredicted branches cost more than the arithmetic.
    up = b < a
    v1 = b if up else a
    lw = left < v1
    v = left if lw else v1
    s = np.uint8(2) if lw else np.uint8(up)
    return v + c, s


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def dtw_full(C, open_begin, S):  # pragma: no cover - compiled
    """Accumulated-cost DTW into the direction matrix ``S`` (uint8 [n, m], overwritten).

    Returns (last row of D, checksum).

    :func:`dtw_window` with every row's window the whole row. Its wavefront ran ~20 %
    faster here than this function's own four-row kernel did (flat unsigned indices,
    an inner loop without window tests), with the same costs, directions and checksum;
    one kernel also keeps the full and the banded DTW from drifting apart.

    ``checksum`` is sum(C) (float32 per row, float64 over rows). NaN or inf there means
    C may hold NaN or inf (or the sum overflowed), which the caller then checks
    properly; one add per cell on the fly costs far less than a separate pass over C.
    """
    n, m = C.shape
    lo = np.zeros(n, np.int64)
    hi = np.full(n, m - 1, np.int64)
    base = np.arange(0, n * m, m)  # row starts of both C and S, flattened
    prev = np.empty(m, np.float32)
    nxt = np.empty(m, np.float32)
    last, _, checksum = dtw_window(
        C.reshape(-1), base, lo, hi, S.reshape(-1), base, prev, nxt, 0, n, open_begin
    )
    return last, checksum


@njit(inline="always")
def _pad(prev, pa, pb, b):
    # The next row reads prev[c - 1] and prev[c] for c in its window: make the cells
    # just left of the previous window and right of it (up to column b) unreachable.
    inf = np.float32(np.inf)
    if pa > 0:
        prev[pa - 1] = inf
    for j in range(pb + 1, b + 1):
        prev[j] = inf


@njit(inline="always", fastmath=FASTMATH)
def _cell(cv, k, S, q, e, diag, up, left):
    # One cell of dtw_window: its cost cv[k + e], its direction stored at S[q + e].
    cc = cv[k + e]
    x, s = dtw_step(diag, up, left, cc)
    S[q + e] = s
    return x, cc


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def dtw_window(cv, cb, lo, hi, S, sb, prev, nxt, i0, i1, open_begin):  # pragma: no cover
    """Rows ``i0 .. i1-1`` of DTW restricted to columns ``lo[i] .. hi[i]`` of row i.

    Costs are read as ``cv[cb[i] + j]`` and directions written to ``S[sb[i] + j]``, so
    one kernel serves a dense matrix (``cb[i] = i * m``) and ragged band storage
    (``cb[i] = offset[i] - lo[i]``). ``lo`` and ``hi`` must be non-decreasing with
    ``lo[i] <= hi[i - 1] + 1``; row 0 starts at column 0 unless ``open_begin``.
    ``prev`` (float32 [m]) holds row ``i0 - 1`` on its window (unused when i0 == 0).

    Returns (buffer holding row i1-1, the other buffer, checksum of the costs read).
    Only the cells inside the windows are read, and the checksum (their sum, float32
    per row, float64 over rows) is NaN or inf if any of them is: callers validate by
    it instead of scanning the costs first.

    Four rows advance together along a skewed wavefront: the dependencies (left, up,
    diagonal) then flow through registers and the four recurrences run as independent
    chains, about twice as fast as a plain row-by-row loop (eight rows measured 6-15 %
    slower than four: more state than registers). Each row computes only inside its
    window; outside it its registers hold +inf, so the row below sees unreachable cells
    there without any per-neighbour test. The steps where all four rows are inside
    their windows (all but a few per block) skip the window tests.
    """
    inf = np.float32(np.inf)
    tot = 0.0
    i = i0
    if i == 0:
        a = lo[0]
        b = hi[0]
        base = cb[0]
        t = np.float32(0.0)
        if open_begin:
            for j in range(a, b + 1):
                cc = cv[base + j]
                prev[j] = cc
                S[sb[0] + j] = 3
                t += cc
        else:
            cc = cv[base]
            prev[0] = cc
            S[sb[0]] = 3
            t += cc
            for j in range(1, b + 1):
                cc = cv[base + j]
                prev[j] = prev[j - 1] + cc
                S[sb[0] + j] = 2
                t += cc
        tot += np.float64(t)
        i = 1
    while i + 4 <= i1:
        # Row r of the block handles column a0 + j - r at step j, so it reads row r-1's
        # values of columns c-1 and c from the two previous steps (w_{r-1}, v_{r-1}).
        # That column is offset j + d_r into the row's window of u_r cells; its costs
        # are at cv[k_r + e], its directions at S[q_r + e]. Flat indices instead of
        # per-block array views: a block of a narrow band is only a few hundred steps
        # long, and the views' setup (and the registers they hold) measured ~5 % of
        # the time there.
        # Indices are unsigned, so an offset left of a window wraps to a huge value:
        # one comparison tests both ends, and the compiler drops negative-index handling.
        a0 = lo[i]
        u0 = np.uint64(hi[i] - a0 + 1)
        u1 = np.uint64(hi[i + 1] - lo[i + 1] + 1)
        u2 = np.uint64(hi[i + 2] - lo[i + 2] + 1)
        u3 = np.uint64(hi[i + 3] - lo[i + 3] + 1)
        d1 = a0 - 1 - lo[i + 1]
        d2 = a0 - 2 - lo[i + 2]
        d3 = a0 - 3 - lo[i + 3]
        k0 = np.uint64(cb[i] + a0)
        k1 = np.uint64(cb[i + 1] + lo[i + 1])
        k2 = np.uint64(cb[i + 2] + lo[i + 2])
        k3 = np.uint64(cb[i + 3] + lo[i + 3])
        q0 = np.uint64(sb[i] + a0)
        q1 = np.uint64(sb[i + 1] + lo[i + 1])
        q2 = np.uint64(sb[i + 2] + lo[i + 2])
        q3 = np.uint64(sb[i + 3] + lo[i + 3])
        p0 = np.uint64(a0)
        p3 = np.uint64(lo[i + 3])
        _pad(prev, lo[i - 1], hi[i - 1], hi[i])
        v0 = inf
        v1 = inf
        v2 = inf
        v3 = inf
        w0 = inf
        w1 = inf
        w2 = inf
        pw = prev[a0 - 1] if a0 > 0 else inf
        t0 = np.float32(0.0)
        t1 = np.float32(0.0)
        t2 = np.float32(0.0)
        t3 = np.float32(0.0)
        # Steps j0 <= j < j1 have all four rows inside their windows. They run in an
        # inner loop of their own, without window tests (nor a test for being in that
        # range): the tests' branches then change direction twice per block, not eight
        # times, and the inner loop measured 5-9 % faster than one loop testing its range.
        j0 = max(-d1, -d2, -d3)
        j1 = min(np.int64(u0), np.int64(u1) - d1, np.int64(u2) - d2, np.int64(u3) - d3)
        steps = hi[i + 3] - a0 + 4
        j = 0
        while j < steps:
            if j == j0 and j0 < j1:
                for js in range(j0, j1):
                    # Rows run bottom-up within a step: each reads its upper neighbour's
                    # values of the two previous steps (w, v) before that row updates them.
                    e0 = np.uint64(js)
                    e1 = np.uint64(js + d1)
                    e2 = np.uint64(js + d2)
                    e3 = np.uint64(js + d3)
                    x, cc = _cell(cv, k3, S, q3, e3, w2, v2, v3)
                    nxt[p3 + e3] = x
                    t3 += cc
                    v3 = x
                    x, cc = _cell(cv, k2, S, q2, e2, w1, v1, v2)
                    t2 += cc
                    w2 = v2
                    v2 = x
                    x, cc = _cell(cv, k1, S, q1, e1, w0, v0, v1)
                    t1 += cc
                    w1 = v1
                    v1 = x
                    pc = prev[p0 + e0]
                    x, cc = _cell(cv, k0, S, q0, e0, pw, pc, v0)
                    t0 += cc
                    pw = pc
                    w0 = v0
                    v0 = x
                j = j1
                continue
            # The same step with window tests. Outside its window a row yields +inf: the
            # row below sees unreachable cells there without any per-neighbour test.
            e0 = np.uint64(j)
            e1 = np.uint64(j + d1)
            e2 = np.uint64(j + d2)
            e3 = np.uint64(j + d3)
            x = inf
            if e3 < u3:
                x, cc = _cell(cv, k3, S, q3, e3, w2, v2, v3)
                nxt[p3 + e3] = x
                t3 += cc
            v3 = x
            x = inf
            if e2 < u2:
                x, cc = _cell(cv, k2, S, q2, e2, w1, v1, v2)
                t2 += cc
            w2 = v2
            v2 = x
            x = inf
            if e1 < u1:
                x, cc = _cell(cv, k1, S, q1, e1, w0, v0, v1)
                t1 += cc
            w1 = v1
            v1 = x
            x = inf
            if e0 < u0:
                pc = prev[p0 + e0]
                x, cc = _cell(cv, k0, S, q0, e0, pw, pc, v0)
                t0 += cc
                pw = pc
            w0 = v0
            v0 = x
            j += 1
        tot += np.float64(t0)
        tot += np.float64(t1)
        tot += np.float64(t2)
        tot += np.float64(t3)
        prev, nxt = nxt, prev
        i += 4
    while i < i1:
        a = lo[i]
        w = hi[i] - a + 1
        ci = cv[cb[i] + a : cb[i] + a + w]
        si = S[sb[i] + a : sb[i] + a + w]
        _pad(prev, lo[i - 1], hi[i - 1], a + w - 1)
        pi = prev[a : a + w]
        ni = nxt[a : a + w]
        pw = prev[a - 1] if a > 0 else inf
        v = inf
        t = np.float32(0.0)
        for e in range(w):
            cc = ci[e]
            pc = pi[e]
            x, s = dtw_step(pw, pc, v, cc)
            pw = pc
            v = x
            si[e] = s
            ni[e] = x
            t += cc
        tot += np.float64(t)
        prev, nxt = nxt, prev
        i += 1
    return prev, nxt, tot


@njit(cache=True, nogil=True)
def window_contract(lo, hi, m, pinned):  # pragma: no cover - compiled
    """Whether windows meet the contract of :func:`dtw_window` for an n x m matrix."""
    n = lo.shape[0]
    if n == 0 or lo[0] < 0 or hi[n - 1] > m - 1:
        return False
    if pinned and (lo[0] != 0 or hi[n - 1] != m - 1):
        return False
    for i in range(n):
        if lo[i] > hi[i]:
            return False
        if i > 0 and (lo[i] < lo[i - 1] or hi[i] < hi[i - 1] or lo[i] > hi[i - 1] + 1):
            return False
    return True


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def dtw_banded(C, lo, hi):  # pragma: no cover - compiled
    """DTW of a dense matrix restricted to columns lo[i]..hi[i] of each row i.

    Returns (D(n-1, m-1), directions [n, W] uint8 stored relative to lo[i]), for
    :func:`backtrack`. Windows meeting the contract of :func:`dtw_window` (every band
    this package builds) run on it; any others on a plain row loop.
    """
    n, m = C.shape
    width = 0
    for i in range(n):
        w = hi[i] - lo[i] + 1
        if w > width:
            width = w
    S = np.full((n, width), np.uint8(255))
    if window_contract(lo, hi, m, True):
        cb = np.empty(n, np.int64)
        sb = np.empty(n, np.int64)
        for i in range(n):
            cb[i] = i * m
            sb[i] = i * width - lo[i]
        prev = np.empty(m, np.float32)
        nxt = np.empty(m, np.float32)
        last, _, _ = dtw_window(
            C.reshape(-1), cb, lo, hi, S.reshape(-1), sb, prev, nxt, 0, n, False
        )
        return last[m - 1], S
    return _dtw_banded_rows(C, lo, hi, S), S


@njit(fastmath=FASTMATH)
def _dtw_banded_rows(C, lo, hi, S):  # pragma: no cover - compiled
    # Any windows at all: one row at a time, each neighbour tested against its row's
    # window (cells outside the band are +inf).
    n, m = C.shape
    inf = np.float32(np.inf)
    prev = np.full(m, inf, np.float32)
    cur = np.full(m, inf, np.float32)
    if lo[0] == 0:
        prev[0] = C[0, 0]
        S[0, 0] = 3
        for j in range(1, hi[0] + 1):
            prev[j] = prev[j - 1] + C[0, j]
            S[0, j] = 2
    plo = lo[0]
    phi = hi[0]
    for i in range(1, n):
        a_lo = lo[i]
        a_hi = hi[i]
        left = inf
        ci = C[i]
        for j in range(a_lo, a_hi + 1):
            a = prev[j - 1] if (j - 1 >= plo and j - 1 <= phi) else inf
            b = prev[j] if (j >= plo and j <= phi) else inf
            x, s = dtw_step(a, b, left, ci[j])
            cur[j] = x
            S[i, j - a_lo] = s
            left = x
        prev, cur = cur, prev
        plo = a_lo
        phi = a_hi
    return prev[m - 1]


@njit(cache=True, nogil=True)
def backtrack_flat(S, sb, i, j):  # pragma: no cover - compiled
    """:func:`backtrack` for directions stored flat: cell (i, j) at ``S[sb[i] + j]``."""
    out = np.empty((i + j + 1, 2), np.int64)
    k = 0
    while True:
        out[k, 0] = i
        out[k, 1] = j
        k += 1
        s = S[sb[i] + j]
        if s == 3:
            break
        if s == 0:
            i -= 1
            j -= 1
        elif s == 1:
            i -= 1
        else:
            j -= 1
    return out[:k][::-1].copy()


@njit(inline="always", fastmath=FASTMATH | {"reassoc"})
def _dot(p, q):
    total = np.float32(0.0)
    for k in range(p.shape[0]):
        total += p[k] * q[k]
    return total


# Reassociation lets the dot products vectorise (the inlined helper takes the flags of
# the kernel it is inlined into); each cost still has one fixed summation order.
@njit(cache=True, nogil=True, fastmath=FASTMATH | {"reassoc"})
def band_costs_features(Q, F, lo, hi, i0, i1, out):  # pragma: no cover - compiled
    """Cosine costs ``clip(1 - Q[i] . F[j], 0, 2)`` of the band rows i0..i1-1.

    Written row after row into ``out`` (ragged: row i's window is contiguous).
    With rows that are means of unit vectors this is the mean of the unit-row costs
    over the pooled block (the dot product is bilinear).
    """
    k = 0
    for i in range(i0, i1):
        q = Q[i]
        for j in range(lo[i], hi[i] + 1):
            x = np.float32(1.0) - _dot(q, F[j])
            out[k] = min(max(x, np.float32(0.0)), np.float32(2.0))
            k += 1
    return k


@njit(cache=True, nogil=True, fastmath=FASTMATH | {"reassoc"})
def band_costs_pooled(C, fa, fb, lo, hi, i0, i1, out):  # pragma: no cover - compiled
    """Mean of the ``fa x fb`` blocks of C for the band cells of rows i0..i1-1 (ragged)."""
    n, m = C.shape
    k = 0
    for i in range(i0, i1):
        r0 = i * fa
        r1 = min(n, r0 + fa)
        for j in range(lo[i], hi[i] + 1):
            c0 = j * fb
            c1 = min(m, c0 + fb)
            total = 0.0
            for r in range(r0, r1):
                total += np.float64(_row_sum(C[r, c0:c1]))
            out[k] = np.float32(total / ((r1 - r0) * (c1 - c0)))
            k += 1
    return k


@njit(cache=True, nogil=True, fastmath=FASTMATH | {"reassoc"})
def random_path_costs_features(Q, F, k, seed):  # pragma: no cover - compiled
    """:func:`random_path_costs` with cosine costs computed from unit rows on the fly.

    Same walk law and seeds, so the same paths as on the dense matrix; only the cells
    a path visits are ever computed (O(k (n + m) d) work, no n x m matrix).
    """
    n = Q.shape[0]
    m = F.shape[0]
    out = np.empty(k, np.float64)
    for p in range(k):
        s = _seed(seed, p)
        i = n - 1
        j = m - 1
        t = 0.0
        while True:
            x = np.float32(1.0) - _dot(Q[i], F[j])
            t += min(max(x, np.float32(0.0)), np.float32(2.0))
            if i == 0 and j == 0:
                break
            s, i, j = _move(s, i, j)
        out[p] = t
    return out


@njit(cache=True, nogil=True)
def backtrack(S, lo, i, j):  # pragma: no cover - compiled
    """Follow directions from (i, j) back to a start cell; returns the path [L, 2].

    ``lo`` holds each row's first stored column for banded storage (zeros otherwise).
    """
    out = np.empty((i + j + 1, 2), np.int64)
    k = 0
    while True:
        out[k, 0] = i
        out[k, 1] = j
        k += 1
        s = S[i, j - lo[i]]
        if s == 3:
            break
        if s == 0:
            i -= 1
            j -= 1
        elif s == 1:
            i -= 1
        else:
            j -= 1
    return out[:k][::-1].copy()


@njit(cache=True, nogil=True)
def path_cost(C, path):  # pragma: no cover - compiled
    """Sum of C over the cells of ``path`` in float64."""
    total = 0.0
    for k in range(path.shape[0]):
        total += C[path[k, 0], path[k, 1]]
    return total


@njit(cache=True, nogil=True)
def visit_probabilities(n, m):  # pragma: no cover - compiled
    """P(a random monotone path visits cell (i, j)) for an n x m matrix, float64 [n, m].

    The walk starts at (n, m) (1-based). At (I, J) with I, J > 1 it draws a row step with
    probability I/(I+J) and, independently, a column step with probability J/(I+J);
    redrawing the empty draw makes the step probabilities proportional to I*J (both),
    I*I (row only) and J*J (column only). On the first row or column only one move
    remains. Probability mass is pushed from each cell to its successors.
    """
    P = np.zeros((n, m), np.float64)
    P[n - 1, m - 1] = 1.0
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            p = P[i, j]
            if p == 0.0 or (i == 0 and j == 0):
                continue
            if i == 0:
                P[0, j - 1] += p
            elif j == 0:
                P[i - 1, 0] += p
            else:
                ii = float(i + 1)
                jj = float(j + 1)
                t = p / (ii * ii + jj * jj + ii * jj)
                P[i - 1, j - 1] += t * ii * jj
                P[i - 1, j] += t * ii * ii
                P[i, j - 1] += t * jj * jj
    return P


@njit(inline="always")
def _row_sum(c):
    total = np.float32(0.0)
    for j in range(c.shape[0]):
        total += c[j]
    return total


@njit(inline="always", fastmath=FASTMATH | {"reassoc"})
def _row_dot(p, c):
    total = np.float32(0.0)
    for j in range(c.shape[0]):
        total += p[j] * c[j]
    return total


@njit(cache=True, nogil=True)
def compact_rows(P, eps):  # pragma: no cover - compiled
    """Keep, per row, the span of cells from the first to the last with P >= eps.

    Returns (values float32 [K], lo int64 [n], offsets int64 [n + 1]): row i's kept
    cells are columns lo[i] .. lo[i] + (offsets[i+1] - offsets[i]) - 1.
    """
    n, m = P.shape
    lo = np.empty(n, np.int64)
    offsets = np.zeros(n + 1, np.int64)
    for i in range(n):
        a = 0
        while a < m - 1 and P[i, a] < eps:
            a += 1
        b = m - 1
        while b > a and P[i, b] < eps:
            b -= 1
        lo[i] = a
        offsets[i + 1] = offsets[i] + (b - a + 1)
    values = np.empty(offsets[n], np.float32)
    for i in range(n):
        k = offsets[i]
        for j in range(lo[i], lo[i] + offsets[i + 1] - offsets[i]):
            values[k] = P[i, j]
            k += 1
    return values, lo, offsets


@njit(cache=True, nogil=True)
def compact_visit_probabilities(n, m, eps):  # pragma: no cover - compiled
    """Visit probabilities of :func:`visit_probabilities` in row-compact form.

    Same law and result as compacting the dense matrix with :func:`compact_rows`, but
    computed row by row (bottom up, each row pulled from the one below, then its
    left moves swept right to left) and only where probability mass remains: mass below
    ``eps * 1e-3`` is dropped, so the work follows the band around the diagonal that
    random paths actually visit (about 3x faster than the dense computation at
    1000 x 1000). Returns (values float32, lo int64 [n], offsets int64 [n + 1]).
    """
    tiny = eps * 1e-3
    below = np.zeros(m, np.float64)
    cur = np.zeros(m, np.float64)
    inv_b = np.zeros(m, np.float64)  # 1/T of the row below, per column
    inv_c = np.zeros(m, np.float64)
    lo = np.empty(n, np.int64)
    hi = np.empty(n, np.int64)
    starts = np.empty(n, np.int64)
    vals = np.empty(n * m, np.float32)
    used = 0
    blo = m - 1
    bhi = m - 1
    for i in range(n - 1, -1, -1):
        ri = float(i + 1)
        if i == n - 1:
            a = m - 1
            cur[a] = 1.0
        else:
            a = blo - 1 if blo > 0 else 0
            rb = ri + 1.0
            for j in range(a, bhi + 1):
                v = 0.0
                if j >= blo:  # up from (i+1, j)
                    if j == 0:
                        v = below[j]  # the first column only moves up
                    else:
                        v = below[j] * (rb * rb) * inv_b[j]
                if j + 1 <= bhi and j + 1 >= blo:  # diagonal from (i+1, j+1)
                    J1 = float(j + 2)
                    v += below[j + 1] * (rb * J1) * inv_b[j + 1]
                cur[j] = v
        top = bhi if i < n - 1 else m - 1
        # Left moves, right to left, continuing past the pulled span while mass remains.
        j = top - 1
        while j >= 0:
            J1 = float(j + 2)
            if i == 0:
                w = 1.0  # the first row only moves left
            else:
                w = (J1 * J1) / (ri * ri + J1 * J1 + ri * J1)
            inc = cur[j + 1] * w
            if j >= a:
                cur[j] += inc
            else:
                if inc < tiny:
                    break
                cur[j] = inc
            j -= 1
        first = j + 1
        # trim ends below eps
        s = first
        while s < top and cur[s] < eps:
            s += 1
        e = top
        while e > s and cur[e] < eps:
            e -= 1
        lo[i] = s
        hi[i] = e
        starts[i] = used
        for k in range(s, e + 1):
            vals[used] = cur[k]
            used += 1
        # this row becomes "below": keep its span of mass >= tiny, precompute 1/T
        while top > first and cur[top] < tiny:
            top -= 1
        for k in range(first, top + 1):
            Jk = float(k + 1)
            inv_c[k] = 1.0 / (ri * ri + Jk * Jk + ri * Jk)
        below, cur = cur, below
        inv_b, inv_c = inv_c, inv_b
        blo = first
        bhi = top
    out = np.empty(used, np.float32)
    offsets = np.zeros(n + 1, np.int64)
    k = 0
    for i in range(n):
        offsets[i] = k
        w = hi[i] - lo[i] + 1
        out[k : k + w] = vals[starts[i] : starts[i] + w]
        k += w
    offsets[n] = k
    return out, lo, offsets


@njit(cache=True, nogil=True, fastmath=FASTMATH | {"reassoc"})
def compact_weighted_sum(values, lo, offsets, C):  # pragma: no cover - compiled
    """sum(P * C) with P in the row-compact form of :func:`compact_rows`."""
    total = 0.0
    for i in range(C.shape[0]):
        a = offsets[i]
        b = offsets[i + 1]
        start = lo[i]
        total += np.float64(_row_dot(values[a:b], C[i, start : start + (b - a)]))
    return total


@njit(inline="always")
def _splitmix64(x):
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = x
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x, z ^ (z >> np.uint64(31))


@njit(inline="always")
def _move(state, i, j):
    """One step of the random walk from 0-based (i, j); returns the new state and cell."""
    if i == 0:
        return state, i, j - 1
    if j == 0:
        return state, i - 1, j
    # xorshift64* step; the top 53 bits make a uniform double in [0, 1).
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    r = np.int64((state * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11))
    ii = float(i + 1)
    jj = float(j + 1)
    both = ii * jj
    u = float(r) * (1.0 / 9007199254740992.0) * (ii * ii + jj * jj + both)
    # The outcomes "both", "row only", "column only" have weights I*J, I*I, J*J:
    # one uniform draw picks among them with no branch (they are near-equally likely,
    # so a branch would mispredict about every other step).
    row_end = both + ii * ii
    i2 = i - np.int64(u < row_end)
    j2 = j - np.int64((u < both) | (u >= row_end))
    return state, i2, j2


@njit(inline="always")
def _seed(seed, p):
    """Independent stream for path p: deterministic whatever the evaluation order."""
    _, s = _splitmix64(np.uint64(seed) * np.uint64(0x100000001B3) + np.uint64(p))
    if s == 0:
        s = np.uint64(0x2545F4914F6CDD1D)
    return s


@njit(cache=True, nogil=True)
def random_path_costs(C, k, seed):  # pragma: no cover - compiled
    """Costs of ``k`` random monotone paths from (n, m) to (1, 1), float64 [k].

    The step law is the one of :func:`visit_probabilities`, drawn in closed form instead
    of by rejection. Four walkers advance together so their dependency chains overlap.
    """
    n, m = C.shape
    out = np.empty(k, np.float64)
    p = 0
    while p < k:
        s0 = _seed(seed, p)
        s1 = _seed(seed, p + 1)
        s2 = _seed(seed, p + 2)
        s3 = _seed(seed, p + 3)
        i0 = i1 = i2 = i3 = n - 1
        j0 = j1 = j2 = j3 = m - 1
        t0 = t1 = t2 = t3 = 0.0
        a0 = True
        a1 = p + 1 < k
        a2 = p + 2 < k
        a3 = p + 3 < k
        while a0 or a1 or a2 or a3:
            if a0:
                t0 += C[i0, j0]
                if i0 == 0 and j0 == 0:
                    a0 = False
                else:
                    s0, i0, j0 = _move(s0, i0, j0)
            if a1:
                t1 += C[i1, j1]
                if i1 == 0 and j1 == 0:
                    a1 = False
                else:
                    s1, i1, j1 = _move(s1, i1, j1)
            if a2:
                t2 += C[i2, j2]
                if i2 == 0 and j2 == 0:
                    a2 = False
                else:
                    s2, i2, j2 = _move(s2, i2, j2)
            if a3:
                t3 += C[i3, j3]
                if i3 == 0 and j3 == 0:
                    a3 = False
                else:
                    s3, i3, j3 = _move(s3, i3, j3)
        out[p] = t0
        if p + 1 < k:
            out[p + 1] = t1
        if p + 2 < k:
            out[p + 2] = t2
        if p + 3 < k:
            out[p + 3] = t3
        p += 4
    return out


@njit(cache=True, nogil=True, fastmath=FASTMATH | {"reassoc"})
def _sumsq(row):  # pragma: no cover - compiled
    # Widened before squaring (float32 squares overflow above ~1.8e19); reassociation
    # lets the sum vectorise, in an order fixed by the compiled code. Not inlined: an
    # inlined helper takes its caller's flags, and without reassociation the sum ran
    # as one serial chain (contextualize_rows 2x and unit_rows 3.5x slower). The
    # squares are exact in float64, so the order only moves the norm's last float64
    # bits, which measured no change in the float32 results over 80,000 random rows.
    total = 0.0
    for k in range(row.shape[0]):
        x = np.float64(row[k])
        total += x * x
    return total


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def contextualize_rows(F, unit):  # pragma: no cover - compiled
    """[F, cumsum(F)/T] minus its column means, optionally scaled to unit rows.

    Returns float32 [T, 2d]. Column sums run in float64 so long clips stay exact.

    Two passes over F: the first finds the column means of both halves (reading F
    only), the second recomputes the same running sums in the same order and writes
    each output row once, finished. Writing the rows first and centring them in a
    second pass over the output measured 1.3-1.5x slower (the output of a 350 x 256
    clip is larger than L2), with the same numbers.
    """
    t, d = F.shape
    out = np.empty((t, 2 * d), np.float32)
    acc = np.zeros(d, np.float64)
    mean_run = np.zeros(d, np.float64)
    inv_t = 1.0 / t
    for r in range(t):
        row = F[r]
        for k in range(d):
            a = acc[k] + row[k]
            acc[k] = a
            mean_run[k] += a * inv_t
    # acc now holds the column sums of F; mean_run the sums of the running part.
    mf = np.empty(d, np.float32)
    mr = np.empty(d, np.float32)
    for k in range(d):
        mf[k] = acc[k] * inv_t
        mr[k] = mean_run[k] * inv_t
        acc[k] = 0.0
    for r in range(t):
        row = F[r]
        o = out[r]
        for k in range(d):
            o[k] = row[k] - mf[k]
        # Each loop writes one array only: LLVM then vectorises the running sums.
        run_out = out[r, d:]
        for k in range(d):
            a = acc[k] + row[k]
            acc[k] = a
            run_out[k] = np.float32(a * inv_t) - mr[k]
        if unit:
            norm = np.sqrt(_sumsq(o))
            if norm > 1e-8:
                inv = np.float32(1.0 / norm)
                for k in range(2 * d):
                    o[k] *= inv
    return out


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def one_minus_clipped(S):  # pragma: no cover - compiled
    """``S = clip(1 - S, 0, 2)`` in place, in one pass (float32 [n, m], C-contiguous).

    The same numbers as ``np.subtract(1, S, out=S); np.clip(S, 0, 2, out=S)``, which
    took two passes over every cost matrix (~4 % of a query); NaN stays NaN.
    """
    flat = S.reshape(-1)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    two = np.float32(2.0)
    for k in range(flat.shape[0]):
        v = one - flat[k]
        # Written as selects that keep NaN (both comparisons are false for it).
        v = zero if v < zero else v
        v = two if v > two else v
        flat[k] = v


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def unit_rows(F):  # pragma: no cover - compiled
    """Rows of F scaled to unit L2 norm (zero rows stay zero), float32 copy."""
    t, d = F.shape
    out = np.empty((t, d), np.float32)
    for r in range(t):
        row = F[r]
        norm = np.sqrt(_sumsq(row))
        inv = np.float32(1.0 / norm) if norm > 1e-8 else np.float32(0.0)
        o = out[r]
        for k in range(d):
            o[k] = row[k] * inv
    return out


@njit(cache=True, nogil=True, fastmath=FASTMATH | {"reassoc"})
def all_finite(X):  # pragma: no cover - compiled
    """Whether every element of a 2-D float32 array is finite."""
    n, m = X.shape
    zero = np.float32(0.0)
    for i in range(n):
        row = X[i]
        acc = zero
        for j in range(m):
            # x * 0 is +-0 for finite x and NaN for NaN or +-inf; NaN survives the sum.
            # As a float sum (reassociation allowed) this vectorises, unlike a count.
            acc += row[j] * zero
        if acc != zero:
            return False
    return True
