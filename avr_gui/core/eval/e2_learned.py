"""E2 through a learned pose model: the same protocol on the model's frame embeddings.

``avr eval e2 --learned shipped|MODEL`` runs :func:`~avr_gui.core.eval.e2.run_e2`
unchanged, but each Penn Action sequence's per-frame vectors (for clip retrieval and
for the DTW alignment) are the learned encoder's embeddings of its pose-motion features
(:func:`~avr_gui.core.features.pose.motion.motion_features`) at 10 fps, the rate the
library samples and the model was trained at, instead of the EVAL.md pose vectors.
Frames without a usable pose are left out (their embedding is zero).
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING

import numpy as np

from avr_gui.core.errors import InputError, UnsupportedFileError
from avr_gui.core.eval.e2 import PoseSet
from avr_gui.core.features.pose.motion import motion_features
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.npyfile import load_npz

if TYPE_CHECKING:
    from avr_gui.core.learn import LearnedModel

#: Every 3rd frame of Penn Action's 30 fps: the library's 10 fps.
STRIDE = 3
_KEYS = ("offsets", "x", "y", "visibility", "action")


def resolve_learned(which: str) -> LearnedModel | None:
    """The model ``--learned`` names: ``none``, ``shipped`` or a model path.

    Returns
    -------
    LearnedModel or None
        None for ``none``.

    Raises
    ------
    InputError
        ``shipped`` when no shipped model is installed; an unreadable model file.
    """
    from avr_gui.core.learn import load_model, shipped_pose_model, shipped_pose_model_path

    if which == "none":
        return None
    if which == "shipped":
        model = shipped_pose_model()
        if model is None:
            raise InputError(
                f"the shipped pose model is not installed ({shipped_pose_model_path()}.npz)"
            )
        return model
    return load_model(which)


def learned_pose_set(
    path: str | os.PathLike[str],
    model: LearnedModel,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PoseSet:
    """Penn Action sequences as a learned model's frame embeddings.

    Parameters
    ----------
    path : path-like
        Penn Action joints ``.npz`` (``offsets``, ``x``, ``y``, ``visibility``,
        ``action``).
    model : LearnedModel
        Input: pose-motion features ``[T, 50]``.

    Returns
    -------
    PoseSet
        ``sequences[i]``: ``[T_i, D]`` float32 unit rows (valid frames at 10 fps).
    """
    from avr_gui.core.learn import embed

    d = load_npz(path, _KEYS)
    missing = [k for k in _KEYS if k not in d]
    if missing:
        raise UnsupportedFileError(
            f"{path}: not a Penn Action joints file (no {', '.join(missing)})"
        )
    off = d["offsets"]
    joints = np.stack([d["x"], d["y"], np.asarray(d["visibility"], np.float64)], axis=-1).astype(
        np.float64
    )
    seqs = []
    pairs = list(itertools.pairwise(off))
    for k, (a, b) in enumerate(pairs):
        check(cancel)
        f, v = motion_features(joints[a:b:STRIDE])
        e = embed(model, f, v)
        seqs.append(e[v] if v.any() else e[:1])
        progress(k + 1, len(pairs), "embedding the sequences")
    return PoseSet(seqs, np.asarray(d["action"]))
