"""Apply a learned encoder: per-frame embeddings and clip descriptors of them.

The clip descriptor of a learned block follows the product's pose descriptor
(:func:`~avr_gui.core.features.pose.motion.clip_pose_descriptor`): the mean and
standard deviation of the valid frames' embeddings, each frame weighted by how much
its *input* pose moves (:func:`~avr_gui.core.features.pose.motion.motion_weights`), so
idle stretches before and after the action count little. The weights come from the
input, not from the embeddings, so a model cannot make frames important by moving its
own output. Descriptors are standardised with statistics stored in the model and
compared by the mirror-invariant cosine, like the pose descriptors.

A model read for inference (:class:`~avr_gui.core.learn.infer.InferenceModel`, what
queries use) embeds with NumPy; a torch module (training, ``load_model``) with torch,
which is imported only then.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from avr_gui.core.errors import ShapeError
from avr_gui.core.features.pose.motion import DescriptorStandardizer, motion_weights
from avr_gui.core.learn.infer import InferenceModel, NumpyEncoder

if TYPE_CHECKING:
    from avr_gui.core.learn.model import TemporalEncoder
    from avr_gui.core.learn.store import LearnedModel

#: Anything that embeds: a torch encoder or model, or one read for inference.
Embedder: TypeAlias = "TemporalEncoder | LearnedModel | InferenceModel | NumpyEncoder"


def _encoder(model: Embedder) -> TemporalEncoder | NumpyEncoder:
    if isinstance(model, InferenceModel):
        return model.encoder
    if isinstance(model, NumpyEncoder):
        return model
    # A torch model: torch is loaded already, so this import costs nothing more.
    from avr_gui.core.learn.store import LearnedModel

    return model.encoder if isinstance(model, LearnedModel) else model


def embed(model: Embedder, features: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Embed one clip's frames.

    Parameters
    ----------
    model : TemporalEncoder, LearnedModel, InferenceModel or NumpyEncoder
    features : numpy.ndarray, shape (T, input_dim)
        Frozen per-frame features (e.g. :func:`~avr_gui.core.features.pose.motion.motion_features`).
    valid : numpy.ndarray, shape (T,), bool
        Frames with a usable feature.

    Returns
    -------
    numpy.ndarray, shape (T, output_dim), float32
        Unit rows; zero rows where ``valid`` is False.

    Raises
    ------
    ShapeError
        If the shapes do not fit each other or the model.
    """
    enc = _encoder(model)
    f = np.asarray(features, np.float32)
    v = np.asarray(valid, bool)
    if f.ndim != 2 or v.shape != (f.shape[0],) or f.shape[1] != enc.config.input_dim:
        raise ShapeError(
            f"features [T, {enc.config.input_dim}] and valid [T] expected, "
            f"got {f.shape} and {v.shape}"
        )
    if f.shape[0] == 0:
        return np.zeros((0, enc.config.output_dim), np.float32)
    if isinstance(enc, NumpyEncoder):
        out = enc(f, v)
        out[~v] = 0.0
        return out
    import torch

    device = next(enc.parameters()).device
    was_training = enc.training
    enc.eval()
    with torch.no_grad():
        e = enc(torch.from_numpy(f)[None].to(device), torch.from_numpy(v)[None].to(device))[0]
    enc.train(was_training)
    out = e.cpu().numpy().astype(np.float32)
    out[~v] = 0.0
    return out


def clip_descriptor(embeddings: np.ndarray, features: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Motion-weighted mean and standard deviation of a clip's embeddings.

    Parameters
    ----------
    embeddings : numpy.ndarray, shape (T, D)
    features : numpy.ndarray, shape (T, d)
        The input features (they set the motion weights).
    valid : numpy.ndarray, shape (T,), bool

    Returns
    -------
    numpy.ndarray, shape (2 * D,), float32
        Zeros when no frame is valid.
    """
    e = np.asarray(embeddings, np.float64)
    f = np.asarray(features, np.float64)
    v = np.asarray(valid, bool)
    if e.ndim != 2 or f.ndim != 2 or v.shape != (e.shape[0],) or f.shape[0] != e.shape[0]:
        raise ShapeError(f"embeddings {e.shape}, features {f.shape}, valid {v.shape} do not fit")
    if not v.any():
        return np.zeros(2 * e.shape[1], np.float32)
    w = motion_weights(f[v])
    g = e[v]
    mean = w @ g
    std = np.sqrt(np.maximum(w @ (g - mean) ** 2, 0.0))
    return np.concatenate([mean, std]).astype(np.float32)


def describe(model: Embedder, features: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """:func:`clip_descriptor` of :func:`embed`: a clip's learned descriptor ``[2 * D]``."""
    return clip_descriptor(embed(model, features, valid), features, valid)


def fit_standardizer(
    model: Embedder, clips: Iterable[tuple[np.ndarray, np.ndarray]]
) -> DescriptorStandardizer:
    """Descriptor statistics of a model over clips (pass both orientations of each).

    Parameters
    ----------
    model : TemporalEncoder, LearnedModel, InferenceModel or NumpyEncoder
    clips : iterable of (features [T, d], valid [T])
        Clips with fewer than two valid frames are skipped.

    Returns
    -------
    DescriptorStandardizer
    """
    enc = _encoder(model)
    rows = [describe(enc, f, v) for f, v in clips if np.asarray(v, bool).sum() >= 2]
    if not rows:
        return DescriptorStandardizer(np.zeros((0, 2 * enc.config.output_dim)))
    return DescriptorStandardizer(np.stack(rows).astype(np.float64))
