"""Input checks shared by the public alignment functions."""

from __future__ import annotations

import numpy as np

from avr_gui.core.errors import EmptySequenceError, NonFiniteError, ShapeError


def as_sequence(x: object, name: str = "features", *, check: bool = True) -> np.ndarray:
    """Return ``x`` as a C-contiguous float32 ``[T, d]`` array or raise a typed error.

    Parameters
    ----------
    x : array_like, shape (T, d)
        Per-frame feature vectors.
    name : str
        How the message refers to the array.
    check : bool
        Check finiteness here (callers that detect it more cheaply pass False).

    Returns
    -------
    numpy.ndarray, shape (T, d), float32
    """
    if (
        type(x) is np.ndarray
        and x.dtype == np.float32
        and x.ndim == 2
        and x.shape[0] > 0
        and x.shape[1] > 0
        and x.flags.c_contiguous
    ):
        # Already what is asked for (every aligner's own arrays): the same result as
        # the general path below, without its dtype inspections (~270 calls a query).
        if check:
            check_finite(x, name)
        return x
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{name}: not a numeric array ({exc})") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ShapeError(f"{name}: expected numbers, got an array of {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ShapeError(f"{name}: expected real numbers, got complex values ({arr.dtype})")
    if arr.ndim != 2:
        raise ShapeError(
            f"{name}: expected a 2-D array [frames, dims], got {arr.ndim}-D shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise EmptySequenceError(f"{name}: empty (no frames / rows)")
    if arr.shape[1] == 0:
        raise ShapeError(f"{name}: each frame has zero feature dimensions")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if check:
        check_finite(arr, name)
    return arr


def as_cost(x: object, name: str = "cost matrix", *, check: bool = True) -> np.ndarray:
    """Return ``x`` as a C-contiguous float32 ``[n, m]`` cost matrix or raise.

    Parameters
    ----------
    x : array_like, shape (n, m)
    name : str
    check : bool
        Check finiteness here.

    Returns
    -------
    numpy.ndarray, shape (n, m), float32
    """
    return as_sequence(x, name, check=check)


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise :class:`NonFiniteError` naming the first NaN/inf cell of a 2-D float32 array.

    Parameters
    ----------
    arr : numpy.ndarray, shape (n, m), float32
    name : str
        How the message refers to the array.
    """
    from avr_gui.core.align._kernels import all_finite

    if not all_finite(arr):
        _raise_first(arr, ~np.isfinite(arr), name)


def check_finite_band(arr: np.ndarray, lo: np.ndarray, hi: np.ndarray, name: str) -> None:
    """Raise :class:`NonFiniteError` naming the first NaN/inf cell inside a band.

    Only columns ``lo[i] .. hi[i]`` of each row ``i`` count: values outside the band
    may be anything. Meant for the rare case where a banded kernel's checksum came out
    non-finite, so it is written for clarity, not speed.

    Parameters
    ----------
    arr : numpy.ndarray, shape (n, m), float32
    lo, hi : numpy.ndarray, shape (n,), int64
        Inclusive first and last column of each row's band.
    name : str
        How the message refers to the array.
    """
    cols = np.arange(arr.shape[1])
    inside = (cols >= lo[:, None]) & (cols <= hi[:, None])
    bad = inside & ~np.isfinite(arr)
    if bad.any():
        _raise_first(arr, bad, name)


def _raise_first(arr: np.ndarray, bad: np.ndarray, name: str) -> None:
    """Raise for the first (row-major) True cell of ``bad``, a boolean mask of ``arr``."""
    cell = np.argwhere(bad)[0]
    kind = "NaN" if np.isnan(arr[tuple(cell)]) else "infinity"
    raise NonFiniteError(
        f"{name}: contains {kind} (first at row {cell[0]}, column {cell[1]}); "
        "every value must be a finite number"
    )
