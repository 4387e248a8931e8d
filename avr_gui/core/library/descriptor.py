"""Clip descriptors for retrieval: mean ⊕ standard deviation of the frame features.

Measured on E2 (EVAL.md) and kept here because it beat the plain mean there: the
spread of the frames says how much a clip moves, which the mean alone cannot.
Across a library the descriptors are standardised per dimension and scaled to unit
length (:class:`~avr_gui.core.features.compact.ClipStandardizer`), so inner product
ranks by cosine similarity.
"""

from __future__ import annotations

import numpy as np

from avr_gui.core.align._validate import as_sequence
from avr_gui.core.features.compact import ClipStandardizer


def clip_descriptor(features: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of a clip's frame features.

    Parameters
    ----------
    features : array_like, shape (T, d)

    Returns
    -------
    numpy.ndarray, shape (2 * d,), float32
    """
    f = as_sequence(features, "features")
    mean = f.mean(axis=0, dtype=np.float64)
    std = f.std(axis=0, dtype=np.float64)
    return np.concatenate([mean, std]).astype(np.float32)


class Standardizer:
    """Standardises descriptors on a library; the identity (plus unit length) below 2 clips.

    Parameters
    ----------
    descriptors : numpy.ndarray, shape (N, D), float32
    """

    def __init__(self, descriptors: np.ndarray) -> None:
        self._fit = ClipStandardizer.fit(descriptors) if descriptors.shape[0] >= 2 else None

    def transform(self, descriptors: np.ndarray) -> np.ndarray:
        """``[N, D]`` -> unit-length ``[N, D]`` float32."""
        d = np.ascontiguousarray(np.atleast_2d(descriptors), dtype=np.float32)
        if self._fit is not None:
            return self._fit.transform(d)
        return d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
