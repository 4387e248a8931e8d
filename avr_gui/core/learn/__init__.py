"""Learned alignment features (LRProp) over frozen per-frame features.

- :mod:`~avr_gui.core.learn.model`: a small temporal encoder without positional encoding.
- :mod:`~avr_gui.core.learn.loss`: pair-wise position propagation and soft-DTW divergence.
- :mod:`~avr_gui.core.learn.train`: the training job (progress, cancel, checkpoints, resume).
- :mod:`~avr_gui.core.learn.store`: models and checkpoints as ``.npz`` + JSON, no pickle.
- :mod:`~avr_gui.core.learn.apply`: embeddings and clip descriptors of a model.
- :mod:`~avr_gui.core.learn.infer`: a model's files read and run with NumPy (queries; no torch).
- :mod:`~avr_gui.core.learn.shipped`: the pose model shipped in ``resources/``.

Importing this package loads none of them (torch loads on first use of a name that
needs it; ``infer`` and ``config`` never do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from avr_gui.core.lazy import lazy_exports

if TYPE_CHECKING:
    from avr_gui.core.learn.apply import clip_descriptor, describe, embed, fit_standardizer
    from avr_gui.core.learn.infer import InferenceModel, load_inference_model
    from avr_gui.core.learn.model import EncoderConfig, TemporalEncoder, build_encoder
    from avr_gui.core.learn.shipped import (
        shipped_inference_model,
        shipped_pose_model,
        shipped_pose_model_path,
    )
    from avr_gui.core.learn.store import LearnedModel, load_model, save_model
    from avr_gui.core.learn.train import (
        LabelledClip,
        TrainConfig,
        TrainResult,
        check_training_set,
        train_lrprop,
    )

_LAZY = {
    "EncoderConfig": "avr_gui.core.learn.model",
    "TemporalEncoder": "avr_gui.core.learn.model",
    "build_encoder": "avr_gui.core.learn.model",
    "LearnedModel": "avr_gui.core.learn.store",
    "load_model": "avr_gui.core.learn.store",
    "save_model": "avr_gui.core.learn.store",
    "embed": "avr_gui.core.learn.apply",
    "describe": "avr_gui.core.learn.apply",
    "clip_descriptor": "avr_gui.core.learn.apply",
    "fit_standardizer": "avr_gui.core.learn.apply",
    "LabelledClip": "avr_gui.core.learn.train",
    "TrainConfig": "avr_gui.core.learn.train",
    "TrainResult": "avr_gui.core.learn.train",
    "check_training_set": "avr_gui.core.learn.train",
    "train_lrprop": "avr_gui.core.learn.train",
    "shipped_pose_model": "avr_gui.core.learn.shipped",
    "shipped_pose_model_path": "avr_gui.core.learn.shipped",
    "shipped_inference_model": "avr_gui.core.learn.shipped",
    "InferenceModel": "avr_gui.core.learn.infer",
    "load_inference_model": "avr_gui.core.learn.infer",
}

__all__ = [
    "EncoderConfig",
    "InferenceModel",
    "LabelledClip",
    "LearnedModel",
    "TemporalEncoder",
    "TrainConfig",
    "TrainResult",
    "build_encoder",
    "check_training_set",
    "clip_descriptor",
    "describe",
    "embed",
    "fit_standardizer",
    "load_inference_model",
    "load_model",
    "save_model",
    "shipped_inference_model",
    "shipped_pose_model",
    "shipped_pose_model_path",
    "train_lrprop",
]

__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
