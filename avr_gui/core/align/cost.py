"""Cosine-distance cost matrices, for one pair or one query against many candidates."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from avr_gui.core.align._kernels import one_minus_clipped, unit_rows
from avr_gui.core.align._validate import as_sequence
from avr_gui.core.device import resolve_device
from avr_gui.core.errors import DimensionMismatchError

_EPS = 1e-8


def cost_matrix(
    query: np.ndarray, candidate: np.ndarray, *, device: str | None = None
) -> np.ndarray:
    """Cosine distance ``1 - cos(q_i, c_j)`` between every query and candidate frame.

    Parameters
    ----------
    query : array_like, shape (n, d)
    candidate : array_like, shape (m, d)
    device : str, optional
        ``"cuda"`` multiplies on the GPU, ``"cpu"`` and ``"auto"`` on the CPU; ``None``
        follows the ``device`` setting, whose ``auto`` means the CPU here
        (:func:`resolve_device` with ``gpu_when_auto=False``).

    Returns
    -------
    numpy.ndarray, shape (n, m), float32
        Values in [0, 2].
    """
    return cost_matrices(query, [candidate], device=device)[0]


def cost_matrices(
    query: np.ndarray,
    candidates: Sequence[np.ndarray],
    *,
    device: str | None = None,
    unit: bool = False,
    checked: bool = False,
) -> list[np.ndarray]:
    """Cosine-distance matrices of one query against many candidates in one product.

    On a GPU the candidates are stacked into one matrix product. On the CPU each
    candidate gets its own product written straight into its result: stacking would
    copy the whole batch once more, which costs more than the products gain.
    A zero frame (e.g. a contextualized frame equal to the clip mean) has no direction:
    it gets cosine 0, i.e. cost 1, against everything.

    Parameters
    ----------
    query : array_like, shape (n, d)
    candidates : sequence of array_like, each shape (m_k, d)
    device : str, optional
        Where to multiply, as in :func:`cost_matrix`; results always come back as NumPy
        arrays.
    unit : bool
        The rows are already unit length (skips normalisation).
    checked : bool
        The caller has already proved every value finite (the aligners check their
        inputs once; a second scan of every candidate cost ~5 % of a query).

    Returns
    -------
    list of numpy.ndarray, each shape (n, m_k), float32, C-contiguous
    """
    q = as_sequence(query, "query features", check=not checked)
    cands = [
        as_sequence(c, f"candidate {k} features", check=not checked)
        for k, c in enumerate(candidates)
    ]
    for k, c in enumerate(cands):
        if c.shape[1] != q.shape[1]:
            raise DimensionMismatchError(
                f"candidate {k} has {c.shape[1]} feature dimensions but the query has "
                f"{q.shape[1]}: both must come from the same encoder and settings"
            )
    if not cands:
        return []
    dev = resolve_device(device, gpu_when_auto=False)
    if dev != "cpu":
        sims = _similarities_torch(q, cands, dev)
        bounds = np.cumsum([0] + [c.shape[0] for c in cands])
        out = [np.ascontiguousarray(sims[:, a:b]) for a, b in itertools.pairwise(bounds)]
    else:
        qn = q if unit else unit_rows(q)
        out = []
        for c in cands:
            cn = c if unit else unit_rows(c)
            out.append(np.matmul(qn, cn.T))
    for sims in out:
        one_minus_clipped(sims)
    return out


def _similarities_torch(q: np.ndarray, cands: list[np.ndarray], device: str) -> np.ndarray:
    import torch

    with torch.no_grad():
        tq = torch.from_numpy(q).to(device)
        tc = torch.from_numpy(np.concatenate(cands)).to(device)
        tq = torch.nn.functional.normalize(tq, dim=1, eps=_EPS)
        tc = torch.nn.functional.normalize(tc, dim=1, eps=_EPS)
        return (tq @ tc.T).float().cpu().numpy()
