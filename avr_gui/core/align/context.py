"""Contextualized frame features (Sync from the Sea, Eq. 2-3)."""

from __future__ import annotations

import numpy as np

from avr_gui.core.align._kernels import contextualize_rows
from avr_gui.core.align._validate import as_sequence


def contextualize(features: np.ndarray, *, unit: bool = False) -> np.ndarray:
    """Append the normalised running sum and centre the result on the clip's mean.

    Each frame becomes ``[f_t, (1/T) * sum_{s<=t} f_s]``; the clip mean of that
    concatenation is then subtracted. The second half grows along the clip, so two
    frames that look alike but sit at different moments of the action no longer match.

    Parameters
    ----------
    features : array_like, shape (T, d)
        Per-frame features of one clip.
    unit : bool
        Also scale every row to unit L2 norm (what a cosine cost needs next).

    Returns
    -------
    numpy.ndarray, shape (T, 2 * d), float32
        C-contiguous contextualized features, zero mean over the clip (before the
        optional row scaling).
    """
    return contextualize_rows(as_sequence(features, "features"), unit)
