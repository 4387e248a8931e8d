"""Search among performer clips by how the body moves (libraries with ``auto`` features).

An ``auto`` library stores appearance features and landmarks for every clip, and marks
each clip a *performer* clip when a person is seen performing in most of its frames
(:func:`~avr_gui.core.features.pose.motion.is_performer`). A query showing a performer
is compared with the library's performer clips on their pose descriptors
(:mod:`~avr_gui.core.features.pose.motion`: limb directions and body-relative joint
positions, mean and spread over the clip, mirror-invariant), standardised over the
library's performer clips. Every other pair is compared on appearance, which both have.

Why clip-level pose similarity ranks, and DTW does not re-rank performer pairs: on
Penn Action sequences made to look like library clips (repeated, cut, re-timed, with
idle stretches, jittered), leave-one-out top-1 was 0.916 by clip similarity and 0.884
after a DTW re-rank of the top 10 (``benchmarks/fit_pose_motion.py``); the alignment is still
computed for every match shown (the cost matrix, DRAQ, the time map).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from avr_gui.core.features.pose.encoder import PoseTrack
from avr_gui.core.features.pose.motion import (
    DESCRIPTOR_DIM,
    DescriptorStandardizer,
    clip_pose_descriptor,
    is_performer,
    landmark_motion_features,
    mirror_invariant_similarity,
    shipped_standardizer,
)


@dataclass(frozen=True)
class PoseDescriptor:
    """A clip's pose descriptors, as seen and mirrored, and whether it shows a performer.

    Attributes
    ----------
    descriptor, mirrored : numpy.ndarray, shape (100,), float32
    performer : bool
    valid_share : float
        Share of frames with a usable pose.
    """

    descriptor: np.ndarray
    mirrored: np.ndarray
    performer: bool
    valid_share: float


def describe_track(track: PoseTrack, window: tuple[float, float] | None = None) -> PoseDescriptor:
    """Pose descriptors of a clip's landmarks, optionally of a time window only.

    Parameters
    ----------
    track : PoseTrack
        ``landmarks [T, 33, 3]``, ``has_pose [T]``, ``timestamps [T]``.
    window : (float, float), optional
        In and out points in seconds (a trimmed query).

    Returns
    -------
    PoseDescriptor
    """
    lm, hp = track.landmarks, track.has_pose
    if window is not None:
        keep = (track.timestamps >= window[0]) & (track.timestamps <= window[1])
        lm, hp = lm[keep], hp[keep]
    f, valid = landmark_motion_features(lm, hp)
    fm, vm = landmark_motion_features(lm, hp, mirror=True)
    share = float(valid.mean()) if valid.size else 0.0
    return PoseDescriptor(
        clip_pose_descriptor(f, valid), clip_pose_descriptor(fm, vm), is_performer(valid), share
    )


@dataclass
class PoseIndex:
    """Pose descriptors of a library's performer clips, for one catalog generation.

    Attributes
    ----------
    generation : int
    paths : list of str
    descriptors : numpy.ndarray, shape (N, 100), float64
        Standardised.
    standardizer : DescriptorStandardizer
        The shipped statistics (augmented Penn Action); fitted on the library's
        performer clips and their mirror images only if those are missing.
    """

    generation: int
    paths: list[str]
    descriptors: np.ndarray
    standardizer: DescriptorStandardizer

    @classmethod
    def build(
        cls,
        generation: int,
        performers: Sequence[str],
        describe: Callable[[str], PoseDescriptor | None],
    ) -> PoseIndex:
        """Index the descriptors of every performer clip.

        Parameters
        ----------
        generation : int
            The catalog generation this index is valid for.
        performers : sequence of str
            Paths of the library's performer clips.
        describe : callable
            ``path -> PoseDescriptor`` (e.g. :func:`describe_track` of its stored
            landmarks, cached); None when the clip has no stored track: skipped.

        Returns
        -------
        PoseIndex
        """
        paths: list[str] = []
        desc: list[np.ndarray] = []
        both: list[np.ndarray] = []
        for p in performers:
            d = describe(p)
            if d is None:
                continue
            paths.append(p)
            desc.append(d.descriptor)
            both.extend((d.descriptor, d.mirrored))
        raw = np.stack(desc) if desc else np.zeros((0, DESCRIPTOR_DIM), np.float32)
        # Shipped statistics: a similarity means the same in a library of 3 clips as in
        # one of 30,000, which the calibrated verdict relies on.
        std = shipped_standardizer() or DescriptorStandardizer(np.stack(both) if both else raw)
        return cls(generation, paths, std.transform(raw), std)

    def search(
        self, query: PoseDescriptor, k: int, exclude: str | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` performer clips whose movement is most like the query's.

        Parameters
        ----------
        query : PoseDescriptor
        k : int
        exclude : str, optional
            A path never returned (the query's own clip).

        Returns
        -------
        list of (path, similarity)
            Best first; similarity is the mirror-invariant cosine of the standardised
            descriptors, in [-1, 1].
        """
        if not self.paths:
            return []
        sim = mirror_invariant_similarity(
            self.standardizer.transform(query.descriptor),
            self.standardizer.transform(query.mirrored),
            self.descriptors,
        )
        order = np.argsort(-sim, kind="stable")
        out = [(self.paths[i], float(sim[i])) for i in order if self.paths[i] != exclude]
        return out[:k]
