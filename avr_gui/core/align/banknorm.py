"""Bank-normalised clip similarity: the column step of Sinkhorn, with the library as bank.

UCoFiA normalises its similarity matrix with Sinkhorn so that no candidate can be
everybody's nearest neighbour ("hubs"). A product query arrives alone, so there is no
query batch to normalise over; instead the library's own clips act as the bank of
queries (as in querybank normalisation). One column step of Sinkhorn then divides each
candidate's ``exp(similarity / T)`` by its total mass over the bank, which only needs one
number per library clip, computed once at indexing time.
"""

from __future__ import annotations

import numpy as np

from avr_gui.core.errors import InputError

# Fitted on the E2 library only (leave-one-out recall@1 over T in 0.02..0.5):
# benchmarks/fit_ranking.py prints the sweep.
DEFAULT_TEMPERATURE = 0.2
_BLOCK = 4096


def bank_log_mass(
    bank: np.ndarray,
    library: np.ndarray,
    *,
    temperature: float = DEFAULT_TEMPERATURE,
    exclude_self: bool = False,
) -> np.ndarray:
    """Log of each library clip's similarity mass over the bank.

    Parameters
    ----------
    bank : numpy.ndarray, shape (B, d)
        Unit clip vectors acting as queries (the library itself, or a sample of it).
    library : numpy.ndarray, shape (N, d)
        Unit clip vectors of the candidates.
    temperature : float
    exclude_self : bool
        ``bank`` is ``library`` (same rows): leave each clip's similarity to itself out.

    Returns
    -------
    numpy.ndarray, shape (N,), float64
        ``log Σ_b exp(<bank_b, library_n> / T)``.
    """
    b = np.asarray(bank, dtype=np.float32)
    lib = np.asarray(library, dtype=np.float32)
    if b.ndim != 2 or lib.ndim != 2 or b.shape[1] != lib.shape[1] or len(b) == 0:
        raise InputError(f"bank {b.shape} and library {lib.shape} must be [*, d] with equal d")
    if exclude_self and b.shape != lib.shape:
        raise InputError("exclude_self needs the bank to be the library itself")
    if not temperature > 0:
        raise InputError(f"temperature must be positive, got {temperature}")
    out = np.empty(len(lib), np.float64)
    # Blocks of library columns bound memory at 4096 x B floats.
    for a in range(0, len(lib), _BLOCK):
        s = (b @ lib[a : a + _BLOCK].T).astype(np.float64) / temperature
        if exclude_self:
            idx = np.arange(a, min(a + _BLOCK, len(lib)))
            s[idx, idx - a] = -np.inf
        top = s.max(axis=0)
        out[a : a + _BLOCK] = top + np.log(np.exp(s - top).sum(axis=0))
    return out


def normalize(
    similarity: np.ndarray, log_mass: np.ndarray, *, temperature: float = DEFAULT_TEMPERATURE
) -> np.ndarray:
    """Bank-normalised similarity of one query with its candidates (higher = closer).

    Parameters
    ----------
    similarity : numpy.ndarray, shape (K,) or (Q, K)
        Cosine similarities.
    log_mass : numpy.ndarray, shape (K,)
        :func:`bank_log_mass` of the same candidates.
    temperature : float

    Returns
    -------
    numpy.ndarray, same shape as ``similarity``
        ``similarity / T - log_mass``: the log of the column-normalised Sinkhorn kernel.
    """
    s = np.asarray(similarity, dtype=np.float64)
    m = np.asarray(log_mass, dtype=np.float64)
    if s.shape[-1] != m.shape[-1]:
        raise InputError(f"{s.shape[-1]} similarities but {m.shape[-1]} bank masses")
    return s / temperature - m
