"""Body pose: BlazePose and MoveNet on ai-edge-litert, pose features, pose+appearance fusion.

Landmarks of every backend come in BlazePose's 33-point layout
(:mod:`~avr_gui.core.features.pose.skeleton`); the feature vector is defined once, in
:mod:`~avr_gui.core.features.pose.normalize`, for video and for Penn Action joints.

Importing this package loads none of its modules: each name below is imported from its
module on first use, so that using a light module (``models``, ``skeleton``) never pulls
in the runtimes behind the heavy ones (OpenCV, PyAV, ai-edge-litert).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from avr_gui.core.lazy import lazy_exports

if TYPE_CHECKING:
    from avr_gui.core.features.pose.blazepose import BlazePose, PoseBatch
    from avr_gui.core.features.pose.draw import draw_skeleton, landmarks_at
    from avr_gui.core.features.pose.encoder import (
        FusedEncoder,
        PoseEncoder,
        PoseTrack,
        encode_pose_video,
        load_pose_track,
        save_pose_track,
    )
    from avr_gui.core.features.pose.models import (
        ModelInstallError,
        ModelsMissingError,
        blazepose_model_paths,
        default_model_dir,
        install_pose_models,
        list_models,
    )
    from avr_gui.core.features.pose.movenet import MoveNet
    from avr_gui.core.features.pose.normalize import (
        HAS_POSE_COLUMN,
        POSE_DIM,
        has_pose_mask,
        mirror_features,
        penn_pose_features,
        pose_features,
    )
    from avr_gui.core.features.pose.skeleton import (
        LANDMARK_NAMES,
        NUM_LANDMARKS,
        blazepose_to_penn13,
        skeleton_edges,
    )

# Name -> module that defines it, imported on first access (module __getattr__, PEP 562).
_LAZY: dict[str, str] = {
    **dict.fromkeys(("BlazePose", "PoseBatch"), "avr_gui.core.features.pose.blazepose"),
    **dict.fromkeys(("draw_skeleton", "landmarks_at"), "avr_gui.core.features.pose.draw"),
    **dict.fromkeys(
        (
            "FusedEncoder",
            "PoseEncoder",
            "PoseTrack",
            "encode_pose_video",
            "load_pose_track",
            "save_pose_track",
        ),
        "avr_gui.core.features.pose.encoder",
    ),
    **dict.fromkeys(
        (
            "ModelInstallError",
            "ModelsMissingError",
            "blazepose_model_paths",
            "default_model_dir",
            "install_pose_models",
            "list_models",
        ),
        "avr_gui.core.features.pose.models",
    ),
    **dict.fromkeys(("MoveNet",), "avr_gui.core.features.pose.movenet"),
    **dict.fromkeys(
        (
            "HAS_POSE_COLUMN",
            "POSE_DIM",
            "has_pose_mask",
            "mirror_features",
            "penn_pose_features",
            "pose_features",
        ),
        "avr_gui.core.features.pose.normalize",
    ),
    **dict.fromkeys(
        ("LANDMARK_NAMES", "NUM_LANDMARKS", "blazepose_to_penn13", "skeleton_edges"),
        "avr_gui.core.features.pose.skeleton",
    ),
}

__all__ = [
    "HAS_POSE_COLUMN",
    "LANDMARK_NAMES",
    "NUM_LANDMARKS",
    "POSE_DIM",
    "BlazePose",
    "FusedEncoder",
    "ModelInstallError",
    "ModelsMissingError",
    "MoveNet",
    "PoseBatch",
    "PoseEncoder",
    "PoseTrack",
    "blazepose_model_paths",
    "blazepose_to_penn13",
    "default_model_dir",
    "draw_skeleton",
    "encode_pose_video",
    "has_pose_mask",
    "install_pose_models",
    "landmarks_at",
    "list_models",
    "load_pose_track",
    "mirror_features",
    "penn_pose_features",
    "pose_features",
    "save_pose_track",
    "skeleton_edges",
]


# Heavy re-exports load on first use, so importing the package stays light.
__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
