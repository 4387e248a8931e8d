"""Alignments forced through user-pinned cells, and random paths to draw.

Pure NumPy on top of :mod:`avr_gui.core.align`: the workspace model
(:meth:`~avr_gui.core.workspace.model.Workspace.pin`) and the alignment view pin cells
through it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from avr_gui.core.align import dtw, expected_random_cost
from avr_gui.core.errors import InputError


class AnchorError(InputError):
    """Pinned cells that no monotone path can pass through, or lie outside the matrix."""


@dataclass(frozen=True)
class AnchoredAlignment:
    """An optimal path constrained to pass through given cells.

    Attributes
    ----------
    path : numpy.ndarray, shape (L, 2), int64
        Cells from (0, 0) to (n - 1, m - 1), moves (0,1), (1,0), (1,1).
    dtw_cost : float
        Sum of the cost over the path's cells.
    draq : float
        ``dtw_cost`` over the expected random-path cost of the whole matrix.
    anchors : tuple of (int, int)
        The pinned cells, sorted.
    """

    path: np.ndarray
    dtw_cost: float
    draq: float
    anchors: tuple[tuple[int, int], ...]


def check_anchors(anchors: Sequence[tuple[int, int]], shape: tuple[int, int]) -> list:
    """Sort pinned cells and check that one monotone path can visit them all.

    Parameters
    ----------
    anchors : sequence of (int, int)
        ``(query_index, match_index)`` cells.
    shape : tuple of int
        ``(n, m)`` of the cost matrix.

    Returns
    -------
    list of (int, int)
        Sorted, duplicates removed.

    Raises
    ------
    AnchorError
        If a cell is outside the matrix or two cells cross (one is later in the query
        but earlier in the match).
    """
    n, m = shape
    cells = sorted({(int(i), int(j)) for i, j in anchors})
    for i, j in cells:
        if not (0 <= i < n and 0 <= j < m):
            raise AnchorError(f"pinned cell ({i}, {j}) lies outside the {n} x {m} cost matrix")
    for (i0, j0), (i1, j1) in itertools.pairwise(cells):
        if j1 < j0:
            raise AnchorError(
                f"pins ({i0}, {j0}) and ({i1}, {j1}) cross: a later query frame cannot match "
                "an earlier frame of the match; remove one of them"
            )
    return cells


def align_through(cost: np.ndarray, anchors: Sequence[tuple[int, int]]) -> AnchoredAlignment:
    """Optimal DTW path through every pinned cell.

    The matrix is cut at each pin into blocks (start to first pin, pin to pin, last pin
    to end); each block is aligned with :func:`avr_gui.core.align.dtw` and the paths are
    joined, each pin counted once.

    Parameters
    ----------
    cost : numpy.ndarray, shape (n, m)
    anchors : sequence of (int, int)

    Returns
    -------
    AnchoredAlignment

    Raises
    ------
    AnchorError
        See :func:`check_anchors`.
    """
    C = np.ascontiguousarray(cost, dtype=np.float32)
    n, m = C.shape
    cells = check_anchors(anchors, (n, m))
    stops = [(0, 0), *cells, (n - 1, m - 1)]
    parts: list[np.ndarray] = []
    for (i0, j0), (i1, j1) in itertools.pairwise(stops):
        if (i0, j0) == (i1, j1):
            continue
        block = dtw(C[i0 : i1 + 1, j0 : j1 + 1]).path + np.array([i0, j0], np.int64)
        parts.append(block if not parts else block[1:])
    path = np.concatenate(parts) if parts else np.zeros((1, 2), np.int64)
    total = float(C[path[:, 0], path[:, 1]].sum(dtype=np.float64))
    baseline = expected_random_cost(C)
    return AnchoredAlignment(
        path, total, total / baseline if baseline > 0 else float("nan"), tuple(cells)
    )


def random_paths(n: int, m: int, count: int, seed: int = 0) -> list[np.ndarray]:
    """Random monotone paths as DRAQ's baseline draws them (DESIGN.md), for display.

    From (n-1, m-1) each step moves up with probability i/(i+j) and, independently,
    left with probability j/(i+j); a draw of neither is redrawn; on the first row or
    column only the remaining move is possible.

    Parameters
    ----------
    n, m : int
        Matrix shape.
    count : int
        Number of paths.
    seed : int

    Returns
    -------
    list of numpy.ndarray, each shape (L, 2), int64
        Paths from (0, 0) to (n - 1, m - 1).
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        i, j = n - 1, m - 1
        cells = [(i, j)]
        while i > 0 or j > 0:
            if i == 0:
                j -= 1
            elif j == 0:
                i -= 1
            else:
                while True:
                    di = rng.random() < i / (i + j)
                    dj = rng.random() < j / (i + j)
                    if di or dj:
                        break
                i -= int(di)
                j -= int(dj)
            cells.append((i, j))
        out.append(np.array(cells[::-1], dtype=np.int64))
    return out
