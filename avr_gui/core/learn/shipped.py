"""The pose model shipped with AVR Studio (trained on Penn Action, see its model card)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from avr_gui.core.errors import InputError
from avr_gui.core.learn.infer import InferenceModel, load_inference_model

if TYPE_CHECKING:
    from avr_gui.core.learn.store import LearnedModel

#: Stem of the shipped model in ``avr_gui/resources`` (``.npz`` + ``.json`` + ``.md``).
SHIPPED_POSE_MODEL = "lrprop_pose"


def shipped_pose_model_path() -> Path:
    """Where the shipped pose model's files are (``.../resources/lrprop_pose``, no suffix)."""
    return Path(str(resources.files("avr_gui").joinpath("resources", SHIPPED_POSE_MODEL)))


def shipped_pose_model() -> LearnedModel | None:
    """The shipped LRProp pose model, or None when it is not installed or unreadable.

    Returns
    -------
    LearnedModel or None
        Input: :func:`~avr_gui.core.features.pose.motion.motion_features` ``[T, 50]``.
    """
    from avr_gui.core.learn.store import load_model  # torch: for training from it

    try:
        return load_model(shipped_pose_model_path())
    except InputError:
        return None


def shipped_inference_model() -> InferenceModel | None:
    """The shipped pose model read for embedding clips (no torch), or None.

    Returns
    -------
    InferenceModel or None
        None when it is not installed or unreadable.
    """
    try:
        return load_inference_model(shipped_pose_model_path())
    except InputError:
        return None
