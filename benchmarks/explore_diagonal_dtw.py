"""Anti-diagonal DTW kernels against ``dtw_full``: bit-identical? faster? (not shipped).

Run: ``python benchmarks/explore_diagonal_dtw.py [--repeats N] [--sizes 1000,2000,4000]
[--json PATH]`` with ``PYTHONPATH`` holding the repository root (a minute or two on 2 cores).

The project's kernel :func:`avr_gui.core.align._kernels.dtw_full` fills the accumulated
cost matrix D row by row (four rows on a skewed wavefront in scalar registers). Cells on
one anti-diagonal ``i + j = k`` depend only on the two previous anti-diagonals, so an
inner loop along an anti-diagonal has no loop-carried dependency and could run as SIMD.
This script measures whether that wins, with the same step (``dtw_step``: the same
selects, the same float32 adds, the same fast-math flags), hence the same bits:

1. Kernels, each returning (last row of D, checksum) and the move directions:

   - ``diag_strided``: D's last two anti-diagonals in small float32 buffers indexed by
     row; the cost of cell (i, k - i) read straight from C and its direction stored
     straight into ``S[i, k - i]`` (strides of m - 1 floats and bytes). An optional
     stripe height ``h`` runs the anti-diagonals over stripes of ``h`` rows, the row
     above a stripe kept in a row buffer, so the cache lines the strided accesses touch
     stay in L1 (``h >= n`` is the plain whole-matrix sweep).
   - ``diag_skewed``: C first copied into a diagonal-major buffer (the copy is timed as
     part of the kernel), directions stored diagonal-major too; the backtrack maps
     (i, j) to its slot (:func:`backtrack_skewed`). Every access in the inner loop is
     then contiguous. ``skew_copy_only`` times the copy alone.
   - ``diag_stripes``: stripes of ``h`` rows (row 0 runs as a plain row), each stripe's
     costs first copied into a small skewed buffer (``Cs[(r + j) * h + r]``, timed),
     then its anti-diagonals swept with contiguous loads and stores only; directions go
     to a stripe-skewed buffer, read back by :func:`backtrack_stripes`.

   Inner-loop indices are unsigned: with numba's signed ``range`` indices the
   negative-index wraparound code alone kept LLVM from vectorising any of them.

2. Correctness on random float32 costs in [0, 2] of several shapes (n != m, n = 1,
   m = 1, 3 x 700, 700 x 3, ...), open-begin off and on: the final cost, the whole last
   row of D, the checksum and the full direction matrix must equal ``dtw_full``'s bit
   for bit (float arrays compared through their uint32 views); the backtracked paths too.

3. Speed at 1000, 2000 and 4000 squared: every kernel interleaved with ``dtw_full`` in
   this one process, best of ``--repeats``, direction buffers allocated once per shape
   outside the timing (as ``bench_align.py`` does); Gcells/s and the ratio new / old.
   The machine is shared and noisy: only ratios from one run mean much.

The script also reports whether LLVM vectorised the kernels (vector min/compare/blend
/gather instructions on ymm/zmm registers in ``inspect_asm``).

Findings (2 cores, shared, load 1.8-3.5; five runs): all variants are bit-identical
to ``dtw_full`` (0.76-0.85 Gcells/s here). The anti-diagonal loops vectorise
(``vminps``/``vcmpltps`` on ymm), but with a symbolic stride LLVM versions the strided
loop for stride 1 and runs the real case scalar or with ``vgatherqps`` plus scalar byte
stores: ``diag_strided`` 0.25-0.8x. The skew copy is a transpose and alone costs about
as much as the whole of ``dtw_full`` (whole-matrix ``diag_skewed`` 0.2-0.55x; its DP
alone would run at ~1.3-2.3 Gcells/s). ``diag_stripes`` with h = 64 (copy about half its
time, per-diagonal overhead on 64-cell diagonals the rest) measured 0.93-1.19x at 1000,
0.99-1.14x at 2000 and 0.95-0.98x at 4000: no reliable win.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

import numpy as np
from numba import njit

from avr_gui.core.align import _kernels as K
from avr_gui.core.align._kernels import FASTMATH, dtw_step

FLAGS = dict(cache=False, nogil=True, fastmath=FASTMATH)


@njit(**FLAGS)
def _row0(Cf, m, open_begin, Sf, row):
    # Row 0 as dtw_window computes it; returns its float32 cost sum.
    t = np.float32(0.0)
    if open_begin:
        for j in range(m):
            cc = Cf[j]
            row[j] = cc
            Sf[j] = 3
            t += cc
    else:
        cc = Cf[0]
        row[0] = cc
        Sf[0] = 3
        t += cc
        for j in range(1, m):
            cc = Cf[j]
            row[j] = row[j - 1] + cc
            Sf[j] = 2
            t += cc
    return t


@njit(**FLAGS)
def diag_strided(C, open_begin, S, h):  # pragma: no cover - compiled
    """DTW along anti-diagonals of stripes of ``h`` rows; costs and directions strided.

    Returns (last row of D, checksum) like ``dtw_full``; ``S`` (uint8 [n, m]) is
    overwritten with the same directions.
    """
    n, m = C.shape
    inf = np.float32(np.inf)
    Cf = C.reshape(-1)
    Sf = S.reshape(-1)
    row = np.empty(m, np.float32)  # D of the row above the current stripe
    tot = np.float64(_row0(Cf, m, open_begin, Sf, row))
    h = max(1, min(h, n - 1))
    # Buffer slot r + 1 holds stripe row r's D on that anti-diagonal; slot 0 the row
    # above the stripe (its column t + 1 on anti-diagonal t).
    b0 = np.empty(h + 1, np.float32)
    b1 = np.empty(h + 1, np.float32)
    b2 = np.empty(h + 1, np.float32)
    acc = np.empty(h, np.float32)
    mm = np.uint64(m - 1)
    i0 = 1
    while i0 < n:
        hh = min(h, n - i0)
        acc[:hh] = 0.0
        b1[0] = row[0]
        for t in range(m + hh - 1):
            if t + 1 < m:
                b2[0] = row[t + 1]
            rlo = max(0, t - m + 1)
            rhi = min(hh - 1, t - 1)  # last row with j >= 1
            w = rhi - rlo + 1
            if w > 0:
                # Unsigned indices: numba then emits no negative-index wraparound, which
                # otherwise keeps LLVM from vectorising the loop.
                ra = np.uint64(rlo)
                rb = np.uint64(rlo + 1)
                # Flat index of cell (i0 + r, t - r) in C and S.
                base = np.uint64(i0 * m + t + rlo * (m - 1))
                for e in range(np.uint64(w)):
                    p = base + e * mm
                    cc = Cf[p]
                    x, s = dtw_step(b0[ra + e], b1[ra + e], b1[rb + e], cc)
                    b2[rb + e] = x
                    Sf[p] = s
                    acc[ra + e] += cc
            if t < hh:  # column 0 of stripe row t
                p = (i0 + t) * m
                cc = Cf[p]
                x, s = dtw_step(inf, b1[t], inf, cc)
                b2[t + 1] = x
                Sf[p] = s
                acc[t] += cc
            if t >= hh - 1:  # the stripe's last row reaches column t - hh + 1
                row[t - hh + 1] = b2[hh]
            b0, b1, b2 = b1, b2, b0
        for r in range(hh):
            tot += np.float64(acc[r])
        i0 += hh
    return row, tot


@njit(cache=False, nogil=True)
def skew_layout(n, m):  # pragma: no cover - compiled
    """Start of each anti-diagonal k in diagonal-major storage, int64 [n + m]."""
    off = np.empty(n + m, np.int64)
    off[0] = 0
    for k in range(n + m - 1):
        off[k + 1] = off[k] + min(n - 1, k) - max(0, k - m + 1) + 1
    return off


@njit(**FLAGS)
def skew_copy(C, Cd, off, blk):  # pragma: no cover - compiled
    """Copy C into diagonal-major order, ``blk`` rows at a time.

    Cell (i, j) goes to ``off[i + j] + i - max(0, i + j - m + 1)``. A block's rows
    stay in L1 while the copy sweeps its anti-diagonals; each diagonal receives up to
    ``blk`` contiguous floats.
    """
    n, m = C.shape
    Cf = C.reshape(-1)
    mm = np.uint64(m - 1)
    for i0 in range(0, n, blk):
        i1 = min(n, i0 + blk)
        for k in range(i0, i1 - 1 + m):
            a = max(i0, k - m + 1)
            b = min(i1 - 1, k)
            q = np.uint64(off[k] - max(0, k - m + 1) + a)
            p = np.uint64(a * (m - 1) + k)  # flat index of (a, k - a)
            for e in range(np.uint64(b - a + 1)):
                Cd[q + e] = Cf[p + e * mm]


@njit(**FLAGS)
def diag_skewed(C, open_begin, Sd, off, Cd, blk):  # pragma: no cover - compiled
    """DTW along whole anti-diagonals over a diagonal-major copy of C.

    Cell (i, j) lives at ``off[i + j] + i - max(0, i + j - m + 1)`` of the flat
    diagonal-major buffers; ``Sd`` (uint8 [n * m]) receives the directions there.
    ``Cd`` (float32 [n * m], a reusable scratch buffer) receives the copy of C made
    here first (:func:`skew_copy`). Returns (last row of D, checksum).
    """
    n, m = C.shape
    inf = np.float32(np.inf)
    skew_copy(C, Cd, off, blk)
    last = np.empty(m, np.float32)
    acc = np.zeros(n, np.float32)
    b0 = np.empty(n, np.float32)
    b1 = np.empty(n, np.float32)
    b2 = np.empty(n, np.float32)
    for k in range(n + m - 1):
        klo = max(0, k - m + 1)
        khi = min(n - 1, k)
        q = off[k] - klo  # slot of row i on this diagonal: q + i
        if klo == 0:  # row 0, column k
            cc = Cd[q]
            if open_begin or k == 0:
                b2[0] = cc
                Sd[q] = 3
            else:
                b2[0] = b1[0] + cc
                Sd[q] = 2
            acc[0] += cc
        if k >= 1 and k < n:  # column 0, row k
            cc = Cd[q + k]
            x, s = dtw_step(inf, b1[k - 1], inf, cc)
            b2[k] = x
            Sd[q + k] = s
            acc[k] += cc
        a = max(1, klo)
        w = min(khi, k - 1) - a + 1
        if w > 0:
            qa = np.uint64(q + a)
            a0 = np.uint64(a - 1)
            a1 = np.uint64(a)
            for e in range(np.uint64(w)):
                cc = Cd[qa + e]
                x, s = dtw_step(b0[a0 + e], b1[a0 + e], b1[a1 + e], cc)
                b2[a1 + e] = x
                Sd[qa + e] = s
                acc[a1 + e] += cc
        if khi == n - 1:
            last[k - n + 1] = b2[n - 1]
        b0, b1, b2 = b1, b2, b0
    tot = 0.0
    for i in range(n):
        tot += np.float64(acc[i])
    return last, tot


@njit(cache=False, nogil=True)
def backtrack_skewed(Sd, off, m, i, j):  # pragma: no cover - compiled
    """``backtrack`` over diagonal-major directions (see :func:`diag_skewed`)."""
    out = np.empty((i + j + 1, 2), np.int64)
    k = 0
    while True:
        out[k, 0] = i
        out[k, 1] = j
        k += 1
        d = i + j
        s = Sd[off[d] + i - max(0, d - m + 1)]
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


@njit(cache=False, nogil=True)
def unskew(Sd, off, n, m):  # pragma: no cover - compiled
    """Diagonal-major directions back to an [n, m] matrix (for the check only)."""
    S = np.empty((n, m), np.uint8)
    for i in range(n):
        for j in range(m):
            d = i + j
            S[i, j] = Sd[off[d] + i - max(0, d - m + 1)]
    return S


@njit(cache=False, nogil=True)
def stripe_layout(n, m, h):  # pragma: no cover - compiled
    """Size of the stripe-skewed direction storage of :func:`diag_stripes`."""
    return m + (n - 1) * (m + h - 1)


@njit(cache=False, nogil=True)
def stripe_slot(n, m, h, i, j):  # pragma: no cover - compiled
    """Slot of cell (i, j) in the direction storage of :func:`diag_stripes`."""
    if i == 0:
        return j
    i0 = 1 + (i - 1) // h * h
    hh = min(h, n - i0)
    r = i - i0
    return m + (i0 - 1) * (m + h - 1) + (r + j) * hh + r


@njit(**FLAGS)
def diag_stripes(C, open_begin, Sd, Cs, h, tile):  # pragma: no cover - compiled
    """DTW along the anti-diagonals of stripes of ``h`` rows, each skewed first.

    Row 0 runs as a plain row. Then for each stripe of ``hh <= h`` rows starting at
    row i0, its costs are copied into ``Cs`` (float32, at least (m + h - 1) * h, reused)
    with cell (i0 + r, j) at ``(r + j) * hh + r`` (``tile`` columns at a time, so the
    lines written stay in cache), and the DP sweeps the stripe's anti-diagonals reading
    ``Cs`` and writing directions to ``Sd`` contiguously (layout: :func:`stripe_slot`).
    All accesses of the inner loop are contiguous; the strided part is the copy.
    Returns (last row of D, checksum).
    """
    n, m = C.shape
    inf = np.float32(np.inf)
    Cf = C.reshape(-1)
    row = np.empty(m, np.float32)
    tot = np.float64(_row0(Cf, m, open_begin, Sd, row))
    h = max(1, min(h, n - 1))
    # The last three anti-diagonals of D in one buffer, rotated by offset (swapping
    # three arrays instead costs six NRT reference-count updates per anti-diagonal,
    # measured 3-8 % slower). Slot r + 1 of a diagonal holds stripe row r; slot 0 the
    # row above the stripe (its column t + 1 on anti-diagonal t).
    L = h + 1
    B = np.empty(3 * L, np.float32)
    acc = np.empty(h, np.float32)
    one = np.uint64(1)
    i0 = 1
    while i0 < n:
        hh = min(h, n - i0)
        hu = np.uint64(hh)
        for jt in range(0, m, tile):
            je = min(m, jt + tile)
            for r in range(hh):
                src = np.uint64((i0 + r) * m)
                dst = np.uint64(r)
                for j in range(np.uint64(jt), np.uint64(je)):
                    Cs[(j + dst) * hu + dst] = Cf[src + j]
        sbase = m + (i0 - 1) * (m + h - 1)
        acc[:hh] = 0.0
        o0 = 0
        o1 = L
        o2 = 2 * L
        B[o1] = row[0]
        for t in range(m + hh - 1):
            if t + 1 < m:
                B[o2] = row[t + 1]
            rlo = max(0, t - m + 1)
            rhi = min(hh - 1, t - 1)
            w = rhi - rlo + 1
            q = t * hh + rlo  # slot of (rlo, t - rlo) in Cs, and past sbase in Sd
            if w > 0:
                pa = np.uint64(o0 + rlo)
                pb = np.uint64(o1 + rlo)
                pc = np.uint64(o2 + rlo + 1)
                ra = np.uint64(rlo)
                qc = np.uint64(q)
                qs = np.uint64(sbase + q)
                for e in range(np.uint64(w)):
                    cc = Cs[qc + e]
                    x, s = dtw_step(B[pa + e], B[pb + e], B[pb + e + one], cc)
                    B[pc + e] = x
                    Sd[qs + e] = s
                    acc[ra + e] += cc
            if t < hh:  # column 0 of stripe row t
                cc = Cs[t * hh + t]
                x, s = dtw_step(inf, B[o1 + t], inf, cc)
                B[o2 + t + 1] = x
                Sd[sbase + t * hh + t] = s
                acc[t] += cc
            if t >= hh - 1:  # the stripe's last row reaches column t - hh + 1
                row[t - hh + 1] = B[o2 + hh]
            o0, o1, o2 = o1, o2, o0
        for r in range(hh):
            tot += np.float64(acc[r])
        i0 += hh
    return row, tot


@njit(cache=False, nogil=True)
def backtrack_stripes(Sd, n, m, h, i, j):  # pragma: no cover - compiled
    """``backtrack`` over the directions of :func:`diag_stripes`."""
    out = np.empty((i + j + 1, 2), np.int64)
    k = 0
    while True:
        out[k, 0] = i
        out[k, 1] = j
        k += 1
        s = Sd[stripe_slot(n, m, h, i, j)]
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


@njit(cache=False, nogil=True)
def unstripe(Sd, n, m, h):  # pragma: no cover - compiled
    """Directions of :func:`diag_stripes` back to an [n, m] matrix (check only)."""
    S = np.empty((n, m), np.uint8)
    for i in range(n):
        for j in range(m):
            S[i, j] = Sd[stripe_slot(n, m, h, i, j)]
    return S


# --- correctness ---------------------------------------------------------------------

SHAPES = [
    (1, 1), (1, 7), (7, 1), (2, 2), (3, 700), (700, 3), (5, 9), (9, 5), (17, 33),
    (64, 64), (100, 37), (37, 100), (257, 129), (300, 1000), (1000, 300), (513, 513),
]  # fmt: skip
STRIPES = (1, 4, 16, 64, 256, 1 << 30)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise equality of two arrays (floats compared through their integer views)."""
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        a = a.view(np.uint32 if a.itemsize == 4 else np.uint64)
        b = b.view(np.uint32 if b.itemsize == 4 else np.uint64)
    return bool(np.array_equal(a, b))


def check(seed: int = 0) -> list[str]:
    """Compare every kernel with ``dtw_full`` bit for bit; returns the mismatches."""
    rng = np.random.default_rng(seed)
    bad = []
    for n, m in SHAPES:
        C = (2 * rng.random((n, m), dtype=np.float32)).astype(np.float32)
        off = skew_layout(n, m)
        for ob in (False, True):
            S_ref = np.empty((n, m), np.uint8)
            last_ref, tot_ref = K.dtw_full(C, ob, S_ref)
            end = int(np.argmin(last_ref)) if ob else m - 1
            path_ref = K.backtrack(S_ref, np.zeros(n, np.int64), n - 1, end)
            got = {}
            for h in STRIPES:
                S = np.full((n, m), 255, np.uint8)
                last, tot = diag_strided(C, ob, S, h)
                path = K.backtrack(S, np.zeros(n, np.int64), n - 1, end)
                got[f"diag_strided(h={h})"] = (last, tot, S, path)
            Sd = np.full(n * m, 255, np.uint8)
            last, tot = diag_skewed(C, ob, Sd, off, np.empty(n * m, np.float32), 16)
            path = backtrack_skewed(Sd, off, m, n - 1, end)
            got["diag_skewed"] = (last, tot, unskew(Sd, off, n, m), path)
            for h in STRIPES:
                hs = max(1, min(h, n - 1))
                Sd = np.full(stripe_layout(n, m, hs), 255, np.uint8)
                Cs = np.empty((m + hs - 1) * hs, np.float32)
                last, tot = diag_stripes(C, ob, Sd, Cs, h, 64)
                path = backtrack_stripes(Sd, n, m, hs, n - 1, end)
                got[f"diag_stripes(h={h})"] = (last, tot, unstripe(Sd, n, m, hs), path)
            for name, (last, tot, S, path) in got.items():
                what = []
                if not _same(last[m - 1 : m], last_ref[m - 1 : m]):
                    what.append("final cost")
                if not _same(last, last_ref):
                    what.append("last row")
                if not _same(np.float64(tot), np.float64(tot_ref)):
                    what.append("checksum")
                if not _same(S, S_ref):
                    what.append("directions")
                if not _same(path, path_ref):
                    what.append("path")
                if what:
                    bad.append(f"{name} {n}x{m} open_begin={ob}: " + ", ".join(what))
    return bad


# --- vectorisation -------------------------------------------------------------------

_VEC = re.compile(
    r"\b(v(?:min|max|cmp|blendm|blendv)\w*|vgather\w*|vpscatter\w*|vscatter\w*|"
    r"vpcmp\w*|vpmov\w*)\s+[^\n]*%([xyz])mm",
)


def vector_ops(fn) -> dict[str, int]:
    """Counts of vector min/compare/blend/gather instructions by register width."""
    counts: dict[str, int] = {}
    for sig in fn.signatures:
        asm = fn.inspect_asm(sig)
        for op, reg in _VEC.findall(asm):
            key = f"{op}:{reg}mm"
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


# --- timing --------------------------------------------------------------------------


def best_of(fns: dict, repeats: int) -> dict[str, float]:
    """Best wall time (s) of each function, repeats interleaved across functions."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def time_size(
    n: int, repeats: int, strided: tuple[int, ...], stripes: tuple[int, ...]
) -> dict[str, float]:
    """Seconds (best of ``repeats``) of ``dtw_full`` and every variant at n x n."""
    rng = np.random.default_rng(1)
    C = (2 * rng.random((n, n), dtype=np.float32)).astype(np.float32)
    S_old = np.empty((n, n), np.uint8)
    S_new = np.empty((n, n), np.uint8)
    Sd = np.empty(n * n, np.uint8)
    off = skew_layout(n, n)
    fns = {"dtw_full": lambda: K.dtw_full(C, False, S_old)}
    for h in strided:
        fns[f"strided_h{h}"] = lambda h=h: diag_strided(C, False, S_new, h)
    Cd = np.empty(n * n, np.float32)
    fns["skewed"] = lambda: diag_skewed(C, False, Sd, off, Cd, 16)
    fns["skew_copy_only"] = lambda: skew_copy(C, Cd, off, 16)
    for h in stripes:
        hs = max(1, min(h, n - 1))
        Sd_h = np.empty(stripe_layout(n, n, hs), np.uint8)
        Cs = np.empty((n + hs - 1) * hs, np.float32)
        fns[f"stripes_h{h}"] = lambda h=h, Sd_h=Sd_h, Cs=Cs: diag_stripes(C, False, Sd_h, Cs, h, 64)
    for fn in fns.values():
        fn()
    return best_of(fns, repeats)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--sizes", default="1000,2000,4000")
    ap.add_argument("--strided", default="64,100000", help="diag_strided stripe heights")
    ap.add_argument("--stripes", default="32,64,128", help="diag_stripes stripe heights")
    ap.add_argument("--json", metavar="PATH", help="also write the JSON line here")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    strided = tuple(int(s) for s in args.strided.split(","))
    stripes = tuple(int(s) for s in args.stripes.split(","))

    bad = check()
    print("bit-identical to dtw_full:", "yes" if not bad else "NO")
    for line in bad:
        print("  mismatch:", line)
    vec = {
        "diag_strided": vector_ops(diag_strided),
        "diag_skewed": vector_ops(diag_skewed),
        "diag_stripes": vector_ops(diag_stripes),
        "dtw_window": vector_ops(K.dtw_window),
    }
    for name, counts in vec.items():
        print(f"vector ops in {name}: {counts}")

    with open("/proc/loadavg") as fh:
        load_before = fh.read().split()[:3]
    rows = {}
    for n in sizes:
        rows[n] = time_size(n, args.repeats, strided, stripes)
    with open("/proc/loadavg") as fh:
        load_after = fh.read().split()[:3]

    names = list(next(iter(rows.values())))
    print(f"\n{'size':>6} " + " ".join(f"{k:>15}" for k in names) + "   (Gcells/s; ratio)")
    out = {"sizes": {}, "bit_identical": not bad, "mismatches": bad, "vector_ops": vec}
    for n, t in rows.items():
        g = {k: n * n / v / 1e9 for k, v in t.items()}
        ratio = {k: t["dtw_full"] / v for k, v in t.items()}
        print(f"{n:>6} " + " ".join(f"{g[k]:7.3f} ({ratio[k]:4.2f}x)" for k in names))
        out["sizes"][str(n)] = {"gcells_per_s": g, "ratio_new_over_old": ratio}
    out["loadavg_before"] = load_before
    out["loadavg_after"] = load_after
    out["cpu_count"] = os.cpu_count()
    print(f"loadavg before {' '.join(load_before)}, after {' '.join(load_after)}")
    line = json.dumps(out)
    print(line)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(line + "\n")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
