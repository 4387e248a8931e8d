"""Pose as a frame encoder, pose fused with appearance, and landmark tracks on disk.

``PoseEncoder`` turns frames into the ``[T, 40]`` pose vectors of
:mod:`~avr_gui.core.features.pose.normalize` (last column: the has-pose flag).

``FusedEncoder`` concatenates pose and appearance so that a cosine cost becomes a
weighted sum of the two cosine costs: each block is scaled to unit length and then by
``sqrt(w)`` and ``sqrt(1 - w)``, so for unit blocks
``cos(a, b) = w cos_pose + (1 - w) cos_appearance``. A frame without a person gets
pose 0 and appearance at full weight: alignment falls back to appearance for it.
Appearance can first be standardised with library statistics (all-positive CNN features
are otherwise nearly parallel, and their cosine barely varies).

``encode_pose_video`` makes features and landmarks in one pass; the landmarks are a
:class:`PoseTrack` in source-pixel coordinates (display orientation, full resolution),
stored beside the features with :func:`save_pose_track`.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from avr_gui.core.atomic import atomic_path
from avr_gui.core.errors import InputError, ShapeError, UnsupportedFileError
from avr_gui.core.features.base import Encoder, file_digest
from avr_gui.core.features.pose.blazepose import PoseBatch
from avr_gui.core.features.pose.normalize import (
    HAS_POSE_COLUMN,
    HAS_POSE_VALUE,
    POSE_DIM,
    pose_features,
)
from avr_gui.core.features.pose.skeleton import NUM_LANDMARKS
from avr_gui.core.features.sequence import FeatureSequence
from avr_gui.core.jobs import CancelToken, ProgressCallback, check, no_progress
from avr_gui.core.npyfile import load_npz
from avr_gui.core.video.decode import sample_frames
from avr_gui.core.video.probe import probe

#: Longest side frames are decoded at for pose: the detector sees 224 px and the
#: landmark model a 256 px crop of the person, so more pixels buy nothing.
POSE_DECODE_SIDE = 640
# Share of pose in the fused cosine, chosen on E3 (benchmarks/eval_pose_e3.py): from 0.9 to
# 1.0 a same-action clip came first for 9 of 9 queries by every score, at 0.5 for 4 to 8.
# 0.9 keeps the most appearance on that plateau (9 queries: treat it as a coarse choice).
FUSION_WEIGHT = 0.9
#: Name of the thread that runs the appearance encoder beside the pose model.
APPEARANCE_THREAD = "avr-appearance"


class PoseEstimator(Protocol):
    """What :class:`PoseEncoder` needs of a pose model (BlazePose, MoveNet)."""

    name: str
    files: tuple[Path, ...]

    def estimate(self, frames: Sequence[np.ndarray]) -> PoseBatch:
        """Landmarks of consecutive frames of one clip."""
        ...

    def reset(self) -> None:
        """Forget the tracked person."""
        ...


class PoseEncoder(Encoder):
    """Pose feature vectors from a pose estimator (BlazePose or MoveNet).

    Parameters
    ----------
    estimator : BlazePose or MoveNet
        Anything with ``estimate(frames) -> PoseBatch``, ``reset()``, ``name`` and
        ``files``.
    mirror : bool
        Describe mirrored poses (left-handed vs right-handed).
    vis_threshold : float
        Landmark visibility from which a joint counts as seen.

    Notes
    -----
    The estimator tracks the person from frame to frame, across ``encode`` calls; it
    resets itself at a scene cut or a change of frame size, and :meth:`reset` resets it
    explicitly (``encode_pose_video`` does so for each clip). ``last_batch`` holds the
    landmarks of the latest ``encode`` call, in the pixels of the frames given.
    """

    batch_size = 16
    decode_side = POSE_DECODE_SIDE

    def __init__(
        self, estimator: PoseEstimator, *, mirror: bool = False, vis_threshold: float = 0.5
    ) -> None:
        self.estimator = estimator
        self.mirror = mirror
        self.vis_threshold = vis_threshold
        self.name = f"pose-{estimator.name}"
        self.dim = POSE_DIM
        digest = "-".join(file_digest(Path(f)) for f in estimator.files)
        self.version = f"{self.name}-{digest}-v1{'-mirror' if mirror else ''}"
        self.device = "cpu"
        self.last_batch: PoseBatch | None = None

    def reset(self) -> None:
        """Forget the tracked person."""
        self.estimator.reset()

    def estimate(self, frames: Sequence[np.ndarray]) -> PoseBatch:
        """Landmarks ``[T, 33, 3]`` and has-pose ``[T]`` of frames (a ``PoseBatch``)."""
        return self.estimator.estimate(frames)

    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        batch = self.estimate(frames)
        feats = pose_features(
            batch.landmarks, batch.has_pose, mirror=self.mirror, vis_threshold=self.vis_threshold
        )
        # A person with too few visible body joints has no usable pose: the landmarks stay
        # (an overlay can still show them) but has_pose agrees with the feature flag.
        self.last_batch = PoseBatch(batch.landmarks, feats[:, HAS_POSE_COLUMN] > 0)
        return feats


class FusedEncoder(Encoder):
    """Pose and appearance in one vector (see the module docstring).

    Parameters
    ----------
    pose : PoseEncoder
    appearance : Encoder
    pose_weight : float
        ``w`` in [0, 1]: share of the pose cosine in the fused cosine.
    appearance_mean, appearance_std : numpy.ndarray, shape (d,), optional
        Standardise appearance features with these (library statistics) before scaling.

    Layout: ``[pose block 39, has_pose, appearance d]``; the has-pose column is at the
    same index as in pose features, so :func:`has_pose_mask` works on both.
    """

    def __init__(
        self,
        pose: PoseEncoder,
        appearance: Encoder,
        *,
        pose_weight: float = FUSION_WEIGHT,
        appearance_mean: np.ndarray | None = None,
        appearance_std: np.ndarray | None = None,
    ) -> None:
        if not 0.0 <= pose_weight <= 1.0:
            raise InputError(f"pose_weight must lie in [0, 1], got {pose_weight}")
        self.pose = pose
        self.appearance = appearance
        self.pose_weight = pose_weight
        self._mean = None if appearance_mean is None else np.asarray(appearance_mean, np.float32)
        self._std = None if appearance_std is None else np.asarray(appearance_std, np.float32)
        for a, what in ((self._mean, "appearance_mean"), (self._std, "appearance_std")):
            if a is not None and a.shape != (appearance.dim,):
                raise ShapeError(f"{what} must have shape [{appearance.dim}], got {a.shape}")
        self.name = "pose-fused"  # the registry name, whatever the parts
        self.dim = POSE_DIM + appearance.dim
        std_tag = "-std" if self._mean is not None or self._std is not None else ""
        self.version = f"fused-{pose.version}+{appearance.version}-w{pose_weight:g}{std_tag}"
        self.device = appearance.device
        self.batch_size = min(pose.batch_size, appearance.batch_size)
        sides = (pose.decode_side, appearance.decode_side)
        self.decode_side = None if None in sides else max(sides)  # type: ignore[type-var]
        #: Run the appearance encoder on a worker thread beside the pose model (see
        #: :meth:`encode`); False runs them one after the other.
        self.concurrent = True
        self._worker: ThreadPoolExecutor | None = None

    def reset(self) -> None:
        """Forget the tracked person."""
        self.pose.reset()

    def combine(self, pose: np.ndarray, appearance: np.ndarray) -> np.ndarray:
        """Fuse pose ``[T, 40]`` and appearance ``[T, d]`` features into ``[T, 40 + d]``."""
        p = np.asarray(pose, np.float32)
        a = np.asarray(appearance, np.float32)
        if p.ndim != 2 or p.shape[1] != POSE_DIM or a.shape != (p.shape[0], self.appearance.dim):
            raise ShapeError(f"cannot fuse pose {p.shape} with appearance {a.shape}")
        if self._mean is not None:
            a = a - self._mean
        if self._std is not None:
            a = a / np.maximum(self._std, 1e-6)
        a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        has = p[:, HAS_POSE_COLUMN] > 0
        body = p[:, :HAS_POSE_COLUMN]
        body = body / np.maximum(np.linalg.norm(body, axis=1, keepdims=True), 1e-12)
        w = self.pose_weight
        out = np.zeros((p.shape[0], self.dim), np.float32)
        out[:, :HAS_POSE_COLUMN] = np.sqrt(w) * body
        out[:, HAS_POSE_COLUMN] = np.where(has, HAS_POSE_VALUE, 0.0)
        out[:, POSE_DIM:] = np.where(has[:, None], np.sqrt(1.0 - w), 1.0) * a
        return out

    def encode(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        if len(frames) == 0:
            return np.zeros((0, self.dim), np.float32)
        if not self.concurrent:
            return self.combine(self.pose.encode(frames), self.appearance.encode(frames))
        # The pose model tracks frame by frame (one small inference at a time, which
        # keeps barely more than one core busy), the appearance network runs the whole
        # batch at once: both release the GIL, so running them side by side fills the
        # cores that running them one after the other leaves idle.
        future = self._appearance_worker().submit(self.appearance.encode, frames)
        try:
            pose = self.pose.encode(frames)
        finally:
            wait([future])
        return self.combine(pose, future.result())  # an appearance error is raised here

    def _appearance_worker(self) -> ThreadPoolExecutor:
        """The one thread that runs every batch's appearance encoder, started on first use.

        One long-lived thread rather than a new one per batch: CUDA libraries keep state
        per thread, and EfficientNet-Lite0 on an H200 driven from a fresh thread each
        batch ran at 19 frames/s against 793 from one thread (benchmarks/bench_gpu.py).
        The thread ends when this encoder is garbage-collected.
        """
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix=APPEARANCE_THREAD)
            weakref.finalize(self, self._worker.shutdown, wait=False)
        return self._worker


class AutoEncoder(FusedEncoder):
    """The ``auto`` features: appearance for every clip plus the landmarks of a performer.

    Stored per frame like :class:`FusedEncoder` (pose block, has-pose flag, unit
    appearance at equal weight), and the library keeps each clip's landmarks. What a
    library does with them is decided per clip from the landmarks
    (:func:`~avr_gui.core.features.pose.motion.is_performer`): performer clips are
    compared with other performer clips on how the body moves
    (:mod:`~avr_gui.core.features.pose.motion`), everything else on appearance.

    Parameters
    ----------
    pose : PoseEncoder
    appearance : Encoder
    """

    def __init__(self, pose: PoseEncoder, appearance: Encoder) -> None:
        super().__init__(pose, appearance, pose_weight=0.5)
        self.name = "auto"
        self.version = f"auto-v1-{pose.version}+{appearance.version}"


@dataclass(frozen=True)
class PoseTrack:
    """Landmarks of one clip, frame by frame, for overlays and pose features.

    Attributes
    ----------
    landmarks : numpy.ndarray, shape (T, 33, 3), float32
        ``x, y`` in pixels of the source video as displayed (rotation applied, full
        resolution) and visibility in [0, 1]; zeros where no person was found. Draw
        :data:`~avr_gui.core.features.pose.skeleton.skeleton_edges` between landmarks
        whose visibility is at least 0.5.
    has_pose : numpy.ndarray, shape (T,), bool
        A usable pose: a person was found and at least 4 of the 13 body joints are
        visible (the feature vector's flag). Landmarks of a partly seen person may be
        non-zero where this is False.
    timestamps : numpy.ndarray, shape (T,), float64
        Seconds in the source (the same frames as the features).
    frame_indices : numpy.ndarray, shape (T,), int64
    frame_size : tuple of int
        ``(width, height)`` of the source as displayed.
    backend : str
        Encoder name that made it.
    source : str
    """

    landmarks: np.ndarray
    has_pose: np.ndarray
    timestamps: np.ndarray
    frame_indices: np.ndarray
    frame_size: tuple[int, int]
    backend: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        t = self.landmarks.shape[0]
        if self.landmarks.shape != (t, NUM_LANDMARKS, 3):
            raise ShapeError(f"landmarks must have shape [T, 33, 3], got {self.landmarks.shape}")
        for arr, what in (
            (self.has_pose, "has_pose"),
            (self.timestamps, "timestamps"),
            (self.frame_indices, "frame_indices"),
        ):
            if arr.shape != (t,):
                raise ShapeError(f"{what} must have shape [{t}], got {arr.shape}")


def encode_pose_video(
    path: str | os.PathLike[str],
    encoder: PoseEncoder | FusedEncoder,
    *,
    fps: float = 10.0,
    on_warning: Callable[[str], None] | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[FeatureSequence, PoseTrack]:
    """Features and landmarks of a video in one decoding pass.

    Parameters
    ----------
    path : path-like
    encoder : PoseEncoder or FusedEncoder
    fps : float
    on_warning : callable, optional
        Receives a one-line message for a damaged file.
    progress, cancel
        See :mod:`avr_gui.core.jobs`.

    Returns
    -------
    features : FeatureSequence
    track : PoseTrack
    """
    p = Path(path)
    pose = encoder.pose if isinstance(encoder, FusedEncoder) else encoder
    if not isinstance(pose, PoseEncoder):
        raise InputError(f"{type(encoder).__name__} is not a pose encoder")
    info = probe(p)
    encoder.reset()
    feats: list[np.ndarray] = []
    marks: list[np.ndarray] = []
    flags: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    times: list[float] = []
    indices: list[int] = []
    scale = np.ones(2)

    def flush() -> None:
        feats.append(encoder.encode(batch))
        got = pose.last_batch
        assert got is not None  # set by every encode call
        lm = got.landmarks.copy()
        lm[..., :2] *= scale
        marks.append(lm)
        flags.append(got.has_pose)
        batch.clear()

    frames = sample_frames(
        p,
        fps,
        size=encoder.decode_side,
        prefetch=2 * encoder.batch_size,
        on_warning=on_warning,
        progress=progress,
        cancel=cancel,
    )
    for frame in frames:
        if not times:
            h, w = frame.image.shape[:2]
            scale = np.array([info.width / w, info.height / h], np.float32)
        batch.append(frame.image)
        times.append(frame.time)
        indices.append(frame.index)
        if len(batch) >= encoder.batch_size:
            check(cancel)
            flush()
    if batch:
        flush()
    ts = np.array(times, np.float64)
    idx = np.array(indices, np.int64)
    seq = FeatureSequence(
        np.ascontiguousarray(np.concatenate(feats), dtype=np.float32),
        ts,
        idx,
        str(p),
        encoder.name,
        encoder.version,
    )
    track = PoseTrack(
        np.ascontiguousarray(np.concatenate(marks), dtype=np.float32),
        np.concatenate(flags).astype(bool),
        ts,
        idx,
        (int(info.width), int(info.height)),
        encoder.name,
        str(p),
    )
    return seq, track


def save_pose_track(path: str | os.PathLike[str], track: PoseTrack) -> None:
    """Write a :class:`PoseTrack` as ``.npz`` atomically (no pickled objects).

    Keys: ``landmarks`` (float32 [T, 33, 3]), ``has_pose`` (bool [T]), ``timestamps``,
    ``frame_indices``, ``frame_size`` (int64 [2]), ``backend``, ``source``.
    """
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                landmarks=track.landmarks,
                has_pose=track.has_pose,
                timestamps=track.timestamps,
                frame_indices=track.frame_indices,
                frame_size=np.array(track.frame_size, np.int64),
                backend=np.str_(track.backend),
                source=np.str_(track.source),
            )


def load_pose_track(path: str | os.PathLike[str]) -> PoseTrack:
    """Read a track written by :func:`save_pose_track`.

    Raises
    ------
    UnsupportedFileError
        Not a readable pose track.
    """
    p = Path(path)
    d = load_npz(p, _TRACK_KEYS)
    missing = [k for k in _TRACK_KEYS if k not in d]
    if missing:
        raise UnsupportedFileError(f"{p}: not a pose track (no {', '.join(missing)})")
    numeric = ("landmarks", "has_pose", "timestamps", "frame_indices", "frame_size")
    if any(d[k].dtype.kind not in "biuf" for k in numeric):
        raise UnsupportedFileError(f"{p}: not a pose track (text where numbers belong)")
    try:
        return PoseTrack(
            np.asarray(d["landmarks"], np.float32),
            np.asarray(d["has_pose"], bool),
            np.asarray(d["timestamps"], np.float64),
            np.asarray(d["frame_indices"], np.int64),
            (int(d["frame_size"][0]), int(d["frame_size"][1])),
            str(d["backend"]),
            str(d["source"]),
        )
    except (ValueError, TypeError, IndexError) as exc:
        # Includes PoseTrack's own ShapeError: the message must name the file.
        raise UnsupportedFileError(f"{p}: not a readable pose track ({exc})") from None


# The arrays save_pose_track writes.
_TRACK_KEYS = (
    "landmarks",
    "has_pose",
    "timestamps",
    "frame_indices",
    "frame_size",
    "backend",
    "source",
)
