"""What exact and multiscale DTW share: the result type and the Sakoe-Chiba band.

It sits below :mod:`~avr_gui.core.align.dtw` and :mod:`~avr_gui.core.align.multiscale`,
which use each other's results: ``dtw`` hands large matrices to ``multiscale``, and
``multiscale`` builds its answer from these two, so neither imports the other back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from avr_gui.core.errors import InputError


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
