"""Registry entries of the pose backends (added to ``encoders.BACKENDS``).

Building an encoder imports the pose pipeline lazily, so listing backends stays cheap.
"""

from __future__ import annotations

import os

from avr_gui.core.errors import InputError
from avr_gui.core.features.encoders import (
    DEFAULT_SIZE,
    Backend,
    EfficientNetEncoder,
    Encoder,
    WeightsError,
    packaged_lite0_weights,
)
from avr_gui.core.features.pose.models import blazepose_model_paths

PathLike = str | os.PathLike[str]


def _litert() -> None:
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError as exc:
        raise WeightsError("ai-edge-litert is not installed (pip install ai-edge-litert)") from exc


class PoseBackend(Backend):
    """A pose backend: usable when ai-edge-litert and its models are present."""

    def availability(self) -> tuple[bool, str]:
        """``(usable, reason)`` on this machine."""
        try:
            _litert()
            if self.name in ("pose-blazepose", "pose-fused", "auto"):
                blazepose_model_paths()
            if self.name in ("pose-fused", "auto"):
                import torch  # noqa: F401

                packaged_lite0_weights()
        except (ImportError, WeightsError) as exc:
            return False, str(exc)
        if self.needs_file:
            return True, "needs a MoveNet SinglePose .tflite (--weights)"
        return True, "ready"


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


POSE_BACKENDS: tuple[PoseBackend, ...] = (
    PoseBackend(
        "auto",
        "automatic (default): body pose where a person performs, appearance for the rest",
        make_auto,
    ),
    PoseBackend(
        "pose-blazepose",
        "BlazePose body pose (33 landmarks), appearance-free; `avr models install pose`",
        make_blazepose,
    ),
    PoseBackend(
        "pose-movenet",
        "your MoveNet SinglePose .tflite (17 keypoints), appearance-free",
        make_movenet,
        needs_file=True,
    ),
    PoseBackend(
        "pose-fused",
        "BlazePose pose + EfficientNet-Lite0 appearance, weighted cosine fusion",
        make_fused,
    ),
)
