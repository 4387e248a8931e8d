"""Factories and availability checks of the pose backends.

The registry (:mod:`~avr_gui.core.features.registry`) names these functions as
``"module:function"`` strings and imports this module only to build or check a pose
encoder; building one imports the pose pipeline, lazily again, from inside the factory.
"""

from __future__ import annotations

import os

from avr_gui.core.errors import InputError
from avr_gui.core.features.base import Encoder, WeightsError
from avr_gui.core.features.encoders import (
    DEFAULT_SIZE,
    EfficientNetEncoder,
    check_efficientnet,
)
from avr_gui.core.features.pose.models import blazepose_model_paths
from avr_gui.core.features.registry import BACKENDS, POSE_BACKEND_NAMES, Backend

PathLike = str | os.PathLike[str]


def check_litert() -> None:
    """Raise :class:`WeightsError` unless ai-edge-litert, which runs the models, is here."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError as exc:
        raise WeightsError("ai-edge-litert is not installed (pip install ai-edge-litert)") from exc


def check_blazepose() -> None:
    """Raise :class:`WeightsError` unless BlazePose can run here (runtime and models)."""
    check_litert()
    blazepose_model_paths()


def check_fused() -> None:
    """Raise ImportError or :class:`WeightsError` unless pose + appearance can run here."""
    check_blazepose()
    check_efficientnet()


def make_blazepose(
    weights: PathLike | None = None,
    device: str | None = None,
    *,
    mirror: bool = False,
    num_threads: int | None = None,
) -> Encoder:
    """BlazePose pose encoder; ``weights`` may name a folder holding the two models."""
    from avr_gui.core.features.pose.blazepose import BlazePose
    from avr_gui.core.features.pose.encoder import PoseEncoder

    return PoseEncoder(BlazePose(weights, num_threads=num_threads), mirror=mirror)


def make_movenet(
    weights: PathLike | None = None,
    device: str | None = None,
    *,
    mirror: bool = False,
    num_threads: int | None = None,
) -> Encoder:
    """MoveNet pose encoder from the user's ``.tflite`` (``weights``)."""
    from avr_gui.core.features.pose.encoder import PoseEncoder
    from avr_gui.core.features.pose.movenet import KEYPOINT_SCORE, MoveNet

    if weights is None:
        raise InputError(
            "pose-movenet runs your MoveNet SinglePose .tflite: pass it with --weights"
        )
    return PoseEncoder(
        MoveNet(weights, num_threads=num_threads), mirror=mirror, vis_threshold=KEYPOINT_SCORE
    )


def make_fused(
    weights: PathLike | None = None,
    device: str | None = None,
    *,
    size: int = DEFAULT_SIZE,
    pose_weight: float | None = None,
    mirror: bool = False,
    num_threads: int | None = None,
) -> Encoder:
    """BlazePose fused with EfficientNet-Lite0 appearance (``weights``: model folder)."""
    from avr_gui.core.features.pose.encoder import FUSION_WEIGHT, FusedEncoder

    pose = make_blazepose(weights, mirror=mirror, num_threads=num_threads)
    appearance = EfficientNetEncoder(size=size, device=device)
    w = FUSION_WEIGHT if pose_weight is None else float(pose_weight)
    return FusedEncoder(pose, appearance, pose_weight=w)  # type: ignore[arg-type]


def make_auto(
    weights: PathLike | None = None,
    device: str | None = None,
    *,
    size: int = DEFAULT_SIZE,
    num_threads: int | None = None,
) -> Encoder:
    """Automatic features: appearance for every clip, body pose where a person performs."""
    from avr_gui.core.features.pose.encoder import AutoEncoder

    pose = make_blazepose(weights, num_threads=num_threads)
    return AutoEncoder(pose, EfficientNetEncoder(size=size, device=device))  # type: ignore[arg-type]


#: The registry entries of the pose backends.
POSE_BACKENDS: tuple[Backend, ...] = tuple(BACKENDS[name] for name in POSE_BACKEND_NAMES)
