"""The features a library compares clips by: which it has, which it may switch to, and why.

A library holds the features of one encoder (:mod:`avr_gui.core.features.registry`).
``auto`` decides per clip at indexing time: body pose where a person performs (the clip's
``has_person``), appearance elsewhere. Switching a library to other features re-encodes
every video (a re-index); the body-pose encoders need the BlazePose models, which
:func:`install_pose_job` installs.

Plain data and job factories only: the window shows them and runs the jobs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from avr_gui.core.workspace.jobs import Job

#: The encoders a user can switch a library to from the app, in the order offered
#: (those that run the user's own model file stay on the command line).
SWITCHABLE = ("auto", "effnet-lite0", "pose-blazepose", "pose-fused", "thumb16")
#: Short names of the encoders, as the app shows them.
LABELS = {
    "auto": "Automatic",
    "effnet-lite0": "Appearance",
    "pose-blazepose": "Body pose",
    "pose-fused": "Pose + appearance",
    "thumb16": "Thumbnails (coarse)",
    "torchscript": "Your TorchScript model",
    "onnx": "Your ONNX model",
    "pose-movenet": "Body pose (your MoveNet)",
}
#: What each compares clips by, in a sentence (tooltips).
DESCRIPTIONS = {
    "auto": "Each clip by body pose when a person performs in it (so clips of someone "
    "doing the same movement match, whatever the room, clothes or camera), by how its "
    "frames look otherwise; decided per clip when it is indexed.",
    "effnet-lite0": "Every clip by how its frames look (EfficientNet-Lite0).",
    "pose-blazepose": "Every clip by body pose alone (BlazePose, 33 landmarks); clips "
    "without a person hardly match anything.",
    "pose-fused": "Every clip by body pose and appearance together.",
    "thumb16": "Every clip by 16×16 grey thumbnails: fast, coarse.",
}


@dataclass(frozen=True)
class FeatureChoice:
    """One encoder a library can be switched to.

    Attributes
    ----------
    name : str
        Registry name (``auto``, ``effnet-lite0``, ...).
    label : str
        What the app calls it.
    usable : bool
        Whether it can run on this machine now.
    reason : str
        Why not (or ``"ready"``), one line.
    description : str
        What it compares clips by, in a sentence.
    """

    name: str
    label: str
    usable: bool
    reason: str
    description: str = ""


@dataclass(frozen=True)
class FeatureOptions:
    """What the app offers: the encoders, and whether the pose models are installed.

    Attributes
    ----------
    choices : list of FeatureChoice
    pose_ready : bool
        The BlazePose models are installed and intact.
    pose_message : str
        One line saying so, or what is missing and how to install it.
    """

    choices: list[FeatureChoice]
    pose_ready: bool
    pose_message: str


def label_of(name: str | None) -> str:
    """What the app calls the encoder ``name`` (``"not chosen yet"`` for None)."""
    if name is None:
        return "not chosen yet"
    return LABELS.get(name, name)


def feature_choices(names: Sequence[str] = SWITCHABLE) -> list[FeatureChoice]:
    """The encoders of ``names`` and whether each can run here.

    Checking may import the encoders' runtimes and read the model files (seconds):
    run it as a job (:func:`choices_job`).

    Parameters
    ----------
    names : sequence of str
        Registry names.

    Returns
    -------
    list of FeatureChoice
    """
    from avr_gui.core.features.registry import BACKENDS

    out = []
    for name in names:
        usable, reason = BACKENDS[name].availability()
        out.append(FeatureChoice(name, label_of(name), usable, reason, DESCRIPTIONS.get(name, "")))
    return out


def feature_options(names: Sequence[str] = SWITCHABLE) -> FeatureOptions:
    """:func:`feature_choices` and the state of the pose models (a job's work: seconds).

    Parameters
    ----------
    names : sequence of str

    Returns
    -------
    FeatureOptions
    """
    from avr_gui.core.features.pose.models import pose_models_status

    ready, message = pose_models_status()
    return FeatureOptions(feature_choices(names), ready, message)


def options_job(names: Sequence[str] = SWITCHABLE) -> Job:
    """A job returning :func:`feature_options` (a :class:`FeatureOptions`)."""
    return lambda progress, cancel: feature_options(names)


def features_summary(
    encoder: str | None, entries: Sequence[Any], learned: Any | None = None
) -> str:
    """One line saying what the library compares clips by, as ``avr status`` does.

    Parameters
    ----------
    encoder : str or None
        The library's encoder name.
    entries : sequence of VideoEntry
        Its videos (``status``, ``has_person``).
    learned : LearnedInfo, optional
        The library's learned pose model (``Library.learned_model()``), which body pose
        is compared by in ``auto`` libraries.

    Returns
    -------
    str
        E.g. ``"Features: automatic: 3 by body pose, 2 by appearance, 1 not known yet"``,
        with ``" (learned pose (model of 2026-11-30, 4 labels, 87 clips))"`` after
        "body pose" when a learned model is in use.
    """
    if encoder is None:
        return "Features: not chosen yet (the first index decides)"
    if encoder != "auto":
        return f"Features: {label_of(encoder)}"
    flags = [getattr(e, "has_person", None) for e in entries if e.status == "indexed"]
    pose = f"{flags.count(True)} by body pose"
    if learned is not None:
        pose += f" ({learned.describe()})"
    parts = [pose, f"{flags.count(False)} by appearance"]
    if flags.count(None):
        parts.append(f"{flags.count(None)} not known yet (index again)")
    return "Features: automatic: " + ", ".join(parts)


def reindex_question(current: str | None, new: str, videos: int) -> str:
    """What the app asks before switching a library's features.

    Parameters
    ----------
    current : str or None
    new : str
    videos : int
        Videos in the library.

    Returns
    -------
    str
    """
    return (
        f"Switch this library from {label_of(current)} to {label_of(new)}?\n\n"
        f"All {videos} videos are indexed again with the new features. Until that run "
        "ends, only the videos already re-indexed can be found; cancelling keeps them "
        "and the next Index finishes the rest."
    )


def install_pose_job(
    folder: str | os.PathLike[str] | None = None,
    wheel: str | os.PathLike[str] | None = None,
) -> Job:
    """A job installing the BlazePose models (returns the installed paths).

    Parameters
    ----------
    folder : path-like, optional
        Model folder (default: the ``models.dir`` setting, else the user's).
    wheel : path-like, optional
        A MediaPipe 0.10.21 wheel already on disk; default: downloaded with pip.

    Returns
    -------
    callable
        ``job(progress, cancel) -> list of pathlib.Path``; cancelling stops the
        download (see :func:`~avr_gui.core.features.pose.models.install_pose_models`).
    """

    def job(progress: Any, cancel: Any) -> list[Any]:
        from avr_gui.core.features.pose.models import install_pose_models

        return install_pose_models(folder, wheel=wheel, progress=progress, cancel=cancel)

    return job
