"""What every frame encoder shares: the interface, its error, the weights-file digest.

This module sits at the bottom of :mod:`avr_gui.core.features`: the appearance encoders,
the pose pipeline and the registry all build on it, and it imports none of them (nor
torch, OpenCV or PyAV), so any of them can use it without an import cycle.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from avr_gui.core.errors import AvrError


class WeightsError(AvrError):
    """A weights or model file could not be loaded; the message says why."""


class Encoder(ABC):
    """Batch frame encoder.

    Attributes
    ----------
    name : str
        Registry name of the backend.
    version : str
        Changes whenever the features would change (weights, size, pooling), so a
        library never mixes features of two versions.
    dim : int
        Length of each feature vector.
    device : str
        Where it runs.
    """

    name: str
    version: str
    dim: int
    device: str = "cpu"
    batch_size: int = 32
    #: Longest side frames need when decoded for this encoder (None: full size).
    #: Decoding straight to it is much cheaper than resizing full frames later.
    decode_side: int | None = None

    @abstractmethod
    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """Encode frames.

        Parameters
        ----------
        frames : sequence of numpy.ndarray, each shape (H, W, 3), uint8 BGR

        Returns
        -------
        numpy.ndarray, shape (T, dim), float32
        """


def file_digest(path: str | os.PathLike[str]) -> str:
    """Short content digest of a weights file, for encoder version strings.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    str
        The first 12 hex digits of the file's SHA-256: enough to tell two weights files
        apart, short enough to read in a version string.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]
