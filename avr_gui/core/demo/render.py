"""Pictures of an alignment for people: the cost matrix with the warp path."""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING

import numpy as np

from avr_gui.core.atomic import write_bytes
from avr_gui.core.errors import ShapeError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _edges(times: np.ndarray) -> np.ndarray:
    """Cell edges ``[n + 1]`` around sample times ``[n]`` (midpoints, half steps at the ends)."""
    t = np.asarray(times, dtype=np.float64)
    if len(t) == 1:
        return np.array([t[0] - 0.05, t[0] + 0.05])
    mid = (t[1:] + t[:-1]) / 2
    return np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])


def cost_matrix_figure(
    cost: np.ndarray,
    path: np.ndarray,
    query_times: np.ndarray,
    match_times: np.ndarray,
    *,
    title: str = "",
    query_name: str = "query",
    match_name: str = "match",
) -> Figure:
    """The cost matrix and its warp path as a matplotlib figure, axes in seconds.

    Rows are query samples (time runs down, as in the app's alignment view), columns
    match samples; each cell sits at its samples' times in the source files, so the
    axes read seconds of each clip even when the samples are unevenly spaced. The
    colour bar gives the cosine cost (dark = similar); the optimal path is white.

    Parameters
    ----------
    cost : numpy.ndarray, shape (n, m)
    path : numpy.ndarray, shape (L, 2)
        ``[query_index, match_index]`` cells.
    query_times : numpy.ndarray, shape (n,)
        Seconds of each query sample in the query file.
    match_times : numpy.ndarray, shape (m,)
        Seconds of each match sample in the match file.
    title : str
        Line above the matrix (e.g. the two file names).
    query_name, match_name : str
        Names in the axis labels.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas (no GUI backend): the matrix's axes and its colour bar's.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cost = np.asarray(cost, dtype=np.float32)
    n, m = cost.shape
    qt, mt = np.asarray(query_times, dtype=np.float64), np.asarray(match_times, dtype=np.float64)
    if len(qt) != n or len(mt) != m:
        raise ShapeError(f"cost is {n}x{m} but there are {len(qt)} query and {len(mt)} match times")
    # The matrix's aspect in seconds, within bounds that keep the labels readable.
    aspect = float(np.clip((mt[-1] - mt[0] + 1e-9) / (qt[-1] - qt[0] + 1e-9), 0.6, 1.8))
    fig = Figure(figsize=(4.2 * aspect + 1.8, 5.0), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    mesh = ax.pcolormesh(_edges(mt), _edges(qt), cost, cmap="viridis", shading="flat",
                         rasterized=True)  # fmt: skip
    p = np.asarray(path, dtype=np.int64).reshape(-1, 2)
    ax.plot(mt[p[:, 1]], qt[p[:, 0]], color="white", lw=1.6, label="warp path")
    ax.invert_yaxis()  # query time runs down, as in the app
    ax.set_xlabel(f"{match_name} time (s)")
    ax.set_ylabel(f"{query_name} time (s)")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(loc="lower left", fontsize=8, framealpha=0.7)
    fig.colorbar(mesh, ax=ax, label="cosine cost (dark = similar)")
    fig.tight_layout()
    return fig


def write_cost_matrix_png(
    target: str | os.PathLike[str],
    cost: np.ndarray,
    path: np.ndarray,
    query_times: np.ndarray,
    match_times: np.ndarray,
    **labels: str,
) -> None:
    """Write :func:`cost_matrix_figure` as a PNG file, atomically.

    Parameters
    ----------
    target : path-like
    cost : numpy.ndarray, shape (n, m)
    path : numpy.ndarray, shape (L, 2)
    query_times : numpy.ndarray, shape (n,)
    match_times : numpy.ndarray, shape (m,)
    **labels : str
        ``title``, ``query_name``, ``match_name`` of :func:`cost_matrix_figure`.
    """
    fig = cost_matrix_figure(cost, path, query_times, match_times, **labels)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    write_bytes(target, buf.getvalue())
