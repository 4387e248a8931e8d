"""Clip vectors and compact feature storage.

- Clip vector: the mean of a clip's frame features; across a library the vectors are
  standardised per dimension (mean 0, variance 1 over the library) and scaled to unit
  length, so an inner-product index ranks by cosine similarity of standardised vectors.
- Storage: frame features are stored as float16, optionally after a PCA projection
  fitted on the library's frames. Measured on E1 (docs/RESULTS.md): EfficientNet-Lite0
  features projected to 256 dimensions and stored as float16 align as well as the
  original 1280 float32 numbers (median error 0.326 vs 0.327 frames) at a tenth of the
  size; 128 dimensions are still equal on the median, 64 lose 0.06 frames.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avr_gui.core.align._validate import as_sequence
from avr_gui.core.atomic import atomic_path
from avr_gui.core.errors import InputError, UnsupportedFileError
from avr_gui.core.features.half import half_to_single
from avr_gui.core.npyfile import load_npz

#: Projection size chosen by the E1 measurement above.
DEFAULT_DIM = 256


def clip_vector(features: np.ndarray) -> np.ndarray:
    """Mean of a clip's frame features.

    Parameters
    ----------
    features : array_like, shape (T, d)

    Returns
    -------
    numpy.ndarray, shape (d,), float32
    """
    f = as_sequence(features, "features")
    return f.mean(axis=0, dtype=np.float64).astype(np.float32)


@dataclass(frozen=True)
class ClipStandardizer:
    """Per-dimension standardisation of clip vectors, fitted on a library.

    Attributes
    ----------
    mean, scale : numpy.ndarray, shape (d,), float32
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, vectors: np.ndarray) -> ClipStandardizer:
        """Fit on the library's clip vectors ``[N, d]`` (N >= 2)."""
        v = as_sequence(vectors, "clip vectors").astype(np.float64)
        if v.shape[0] < 2:
            raise InputError("standardising needs at least two clips in the library")
        std = v.std(axis=0)
        # A dimension that never varies carries no information; don't blow it up.
        scale = np.where(std > 1e-8, 1.0 / np.maximum(std, 1e-8), 0.0)
        return cls(v.mean(axis=0).astype(np.float32), scale.astype(np.float32))

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Standardise and scale to unit length: ``[N, d]`` -> ``[N, d]`` float32."""
        v = as_sequence(vectors, "clip vectors")
        if v.shape[1] != self.mean.shape[0]:
            raise InputError(
                f"clip vectors have {v.shape[1]} dimensions, the standardiser {self.mean.shape[0]}"
            )
        z = (v - self.mean) * self.scale
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        return np.ascontiguousarray(z / np.maximum(norms, 1e-12), dtype=np.float32)


@dataclass(frozen=True)
class Projection:
    """A PCA projection of frame features, fitted on a library's frames.

    Attributes
    ----------
    mean : numpy.ndarray, shape (d,), float32
    components : numpy.ndarray, shape (k, d), float32
        Orthonormal rows, by decreasing variance.
    explained : float
        Share of the fitted frames' variance the k components keep.
    """

    mean: np.ndarray
    components: np.ndarray
    explained: float

    @property
    def dim(self) -> int:
        """Output dimension k."""
        return int(self.components.shape[0])

    @classmethod
    def fit(cls, frames: np.ndarray, dim: int = DEFAULT_DIM) -> Projection:
        """Fit on frame features ``[N, d]``; keeps ``min(dim, d, N)`` components."""
        x = as_sequence(frames, "frame features").astype(np.float64)
        if dim < 1:
            raise InputError(f"the projection needs at least one dimension, got {dim}")
        k = min(dim, x.shape[1], x.shape[0])
        mean = x.mean(axis=0)
        _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
        total = float(np.sum(s**2))
        explained = float(np.sum(s[:k] ** 2) / total) if total > 0 else 1.0
        return cls(mean.astype(np.float32), vt[:k].astype(np.float32), explained)

    def apply(self, features: np.ndarray) -> np.ndarray:
        """Project ``[T, d]`` -> ``[T, k]`` float32."""
        f = as_sequence(features, "features")
        if f.shape[1] != self.mean.shape[0]:
            raise InputError(
                f"features have {f.shape[1]} dimensions but the projection was fitted on "
                f"{self.mean.shape[0]}: re-fit it for this encoder"
            )
        return np.ascontiguousarray((f - self.mean) @ self.components.T, dtype=np.float32)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write as ``.npz`` atomically (plain arrays, no pickle)."""
        with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh, mean=self.mean, components=self.components, explained=np.float64(self.explained)
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Projection:
        """Read a projection written by :meth:`save`."""
        p = Path(path)
        data = load_npz(p, ("mean", "components", "explained"))
        missing = {"mean", "components", "explained"} - data.keys()
        if missing:
            raise UnsupportedFileError(f"{p}: not a saved projection (no {sorted(missing)})")
        mean, comps, explained = data["mean"], data["components"], data["explained"]
        if not all(a.dtype.kind in "biuf" for a in (mean, comps, explained)):
            raise UnsupportedFileError(f"{p}: a saved projection holds only real numbers")
        if comps.ndim != 2 or mean.shape != (comps.shape[1],) or explained.size != 1:
            raise UnsupportedFileError(f"{p}: inconsistent projection arrays")
        explained = float(explained.reshape(()))
        return cls(mean.astype(np.float32), comps.astype(np.float32), explained)


def to_storage(features: np.ndarray) -> np.ndarray:
    """Frame features as stored on disk: float16 ``[T, d]`` (half the bytes of float32).

    Values beyond float16's range (|x| > 65504) are refused rather than turned to inf.
    """
    f = as_sequence(features, "features")
    if np.abs(f).max() > np.finfo(np.float16).max:
        raise InputError("features exceed the float16 range; store them as float32")
    return f.astype(np.float16)


def from_storage(stored: np.ndarray) -> np.ndarray:
    """Stored features back to C-contiguous float32 ``[T, d]`` for alignment.

    Float16 goes through :func:`~avr_gui.core.features.half.half_to_single` (the same
    numbers, ~3x faster than NumPy's cast); anything else through NumPy.
    """
    if stored.dtype == np.float16:
        return half_to_single(stored)
    return np.ascontiguousarray(stored, dtype=np.float32)
