"""Search among performer clips by how the body moves (libraries with ``auto`` features).

An ``auto`` library stores appearance features and landmarks for every clip, and marks
each clip a *performer* clip when a person is seen performing in most of its frames
(:func:`~avr_gui.core.features.pose.motion.is_performer`). A query showing a performer
is compared with the library's performer clips on their pose descriptors
(:mod:`~avr_gui.core.features.pose.motion`: limb directions and body-relative joint
positions, mean and spread over the clip, mirror-invariant, compared on the limbs both
clips show), standardised with statistics shipped from Penn Action. Every other pair is
compared on appearance, which both have.

With the shipped learned model (the default) the similarity is a blend, ``w`` times the
model's cosine plus ``1 - w`` times the hand-made descriptor's
(:func:`~avr_gui.core.features.pose.motion.blended_similarity`, ``w`` from
``resources/pose_blend.json``, chosen on small libraries of Penn actions the model never
saw: ``benchmarks/eval_small_libraries.py``): alone, the model ranks clips of actions it
never saw worse than the hand-made descriptor (``benchmarks/eval_unseen_actions.py``).

Why clip-level pose similarity ranks, and DTW does not re-rank performer pairs: on
Penn Action sequences made to look like library clips (repeated, cut, re-timed, with
idle stretches, jittered), leave-one-out top-1 was 0.916 by clip similarity and 0.884
after a DTW re-rank of the top 10 (``benchmarks/fit_pose_motion.py``); the alignment is still
computed for every match shown (the cost matrix, DRAQ, the time map).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from avr_gui.core.features.pose.encoder import PoseTrack
from avr_gui.core.features.pose.motion import (
    DESCRIPTOR_DIM,
    DescriptorStandardizer,
    blended_similarity,
    is_performer,
    landmark_motion_features,
    mirror_invariant_similarity,
    observed_descriptor,
    shipped_standardizer,
)

if TYPE_CHECKING:
    from avr_gui.core.learn import InferenceModel, LearnedModel

#: :attr:`PoseIndex.model` without a learned model: the hand-made pose descriptor.
DEFAULT_MODEL = "default"


@dataclass(frozen=True)
class PoseDescriptor:
    """A clip's pose descriptors, as seen and mirrored, and whether it shows a performer.

    Attributes
    ----------
    descriptor, mirrored : numpy.ndarray, shape (100,), float32
    performer : bool
    valid_share : float
        Share of frames with a usable pose.
    hand, hand_mirrored : numpy.ndarray, shape (100,), float32, or None
        With a learned model: the hand-made descriptors too (the product blends the
        two similarities, :func:`~avr_gui.core.features.pose.motion.blended_similarity`).
    hand_seen, hand_mirrored_seen : numpy.ndarray, shape (100,), bool, or None
        Which dimensions of the hand-made descriptors (``descriptor`` / ``mirrored``
        without a model, ``hand`` / ``hand_mirrored`` with one) the clip shows
        (:func:`~avr_gui.core.features.pose.motion.observed_descriptor`); None: all.
    """

    descriptor: np.ndarray
    mirrored: np.ndarray
    performer: bool
    valid_share: float
    hand: np.ndarray | None = None
    hand_mirrored: np.ndarray | None = None
    hand_seen: np.ndarray | None = None
    hand_mirrored_seen: np.ndarray | None = None

    def seen_masks(self) -> tuple[np.ndarray, np.ndarray]:
        """``(hand_seen, hand_mirrored_seen)``, all True where not given."""
        full = np.ones(DESCRIPTOR_DIM, bool)
        a = full if self.hand_seen is None else np.asarray(self.hand_seen, bool)
        b = full if self.hand_mirrored_seen is None else np.asarray(self.hand_mirrored_seen, bool)
        return a, b


def describe_track(
    track: PoseTrack,
    window: tuple[float, float] | None = None,
    model: InferenceModel | LearnedModel | None = None,
) -> PoseDescriptor:
    """Pose descriptors of a clip's landmarks, optionally of a time window only.

    Parameters
    ----------
    track : PoseTrack
        ``landmarks [T, 33, 3]``, ``has_pose [T]``, ``timestamps [T]``.
    window : (float, float), optional
        In and out points in seconds (a trimmed query).
    model : InferenceModel or LearnedModel, optional
        A learned pose model (:mod:`avr_gui.core.library.learned`): the descriptors are
        its motion-weighted mean and spread of the embeddings ``[2 * D]`` instead of the
        hand-made ``[100]``, which are kept in ``hand`` / ``hand_mirrored`` for the
        blend. Whether the clip shows a performer does not depend on it.

    Returns
    -------
    PoseDescriptor
    """
    lm, hp = track.landmarks, track.has_pose
    if window is not None:
        keep = (track.timestamps >= window[0]) & (track.timestamps <= window[1])
        lm, hp = lm[keep], hp[keep]
    size = track.frame_size
    f, valid = landmark_motion_features(lm, hp, frame_size=size)
    fm, vm = landmark_motion_features(lm, hp, mirror=True, frame_size=size)
    share = float(valid.mean()) if valid.size else 0.0
    (h, hs), (hm, hms) = observed_descriptor(f, valid), observed_descriptor(fm, vm)
    if model is None:
        return PoseDescriptor(
            h, hm, is_performer(valid), share, hand_seen=hs, hand_mirrored_seen=hms
        )
    from avr_gui.core.learn import describe

    d, dm = describe(model, f, valid), describe(model, fm, vm)
    return PoseDescriptor(d, dm, is_performer(valid), share, h, hm, hs, hms)


@dataclass
class PoseIndex:
    """Pose descriptors of a library's performer clips, for one catalog generation.

    Attributes
    ----------
    generation : int
    paths : list of str
    descriptors : numpy.ndarray, shape (N, K), float64
        Standardised (``K = 100`` by default, ``2 * D`` with a learned model).
    standardizer : DescriptorStandardizer
        The shipped statistics (augmented Penn Action); fitted on the library's
        performer clips and their mirror images only if those are missing; a learned
        model's own statistics.
    model : str
        Which descriptors: :data:`DEFAULT_MODEL` or the learned model's name (a new or
        reverted model makes the index stale).
    learned_weight : float
        1: rank by the descriptors alone. Below 1 (a learned model blended with the
        hand-made descriptor): ``w * learned + (1 - w) * hand-made`` cosine.
    hand : numpy.ndarray, shape (N, 100), float64, or None
        The hand-made descriptors, standardised with ``hand_standardizer``, when
        ``learned_weight < 1``.
    hand_standardizer : DescriptorStandardizer or None
        The hand-made descriptor's shipped statistics (read once, at build).
    hand_seen : numpy.ndarray, shape (N, 100), bool, or None
        Which hand-made dimensions each clip shows (``descriptors`` with
        :data:`DEFAULT_MODEL`, ``hand`` in a blend); pairs are compared on the
        dimensions both show. None with a learned model alone.
    """

    generation: int
    paths: list[str]
    descriptors: np.ndarray
    standardizer: DescriptorStandardizer
    model: str = DEFAULT_MODEL
    learned_weight: float = 1.0
    hand: np.ndarray | None = None
    hand_standardizer: DescriptorStandardizer | None = None
    hand_seen: np.ndarray | None = None
    _rows: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        generation: int,
        performers: Sequence[str],
        describe: Callable[[str], PoseDescriptor | None],
        *,
        standardizer: DescriptorStandardizer | None = None,
        model: str = DEFAULT_MODEL,
        learned_weight: float = 1.0,
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
        standardizer : DescriptorStandardizer, optional
            The statistics to use (a learned model's); default: the shipped ones.
        model : str
            Recorded as :attr:`model`.
        learned_weight : float
            Recorded as :attr:`learned_weight`; below 1 the descriptors must carry
            their hand-made part (:func:`describe_track` with a model).

        Returns
        -------
        PoseIndex
        """
        paths: list[str] = []
        desc: list[np.ndarray] = []
        hand: list[np.ndarray] = []
        seen: list[np.ndarray] = []
        both: list[np.ndarray] = []
        blend = learned_weight < 1.0
        for p in performers:
            d = describe(p)
            if d is None:
                continue
            paths.append(p)
            desc.append(d.descriptor)
            seen.append(d.seen_masks()[0])
            if blend:
                if d.hand is None:
                    raise ValueError("a blended index needs the hand-made descriptors")
                hand.append(d.hand)
            both.extend((d.descriptor, d.mirrored))
        width = standardizer.mean.size if standardizer is not None else DESCRIPTOR_DIM
        raw = np.stack(desc) if desc else np.zeros((0, width), np.float32)
        # Shipped statistics: a similarity means the same in a library of 3 clips as in
        # one of 30,000, which the calibrated verdict relies on.
        std = (
            standardizer
            or shipped_standardizer()
            or DescriptorStandardizer(np.stack(both) if both else raw)
        )
        seen_all = np.stack(seen) if seen else np.zeros((0, DESCRIPTOR_DIM), bool)
        if not blend:
            masks = seen_all if model == DEFAULT_MODEL else None
            return cls(generation, paths, std.transform(raw), std, model, hand_seen=masks)
        hs = shipped_standardizer()
        if hs is None:
            raise ValueError("the hand-made descriptor's statistics are not installed")
        hand_z = hs.transform(np.stack(hand) if hand else np.zeros((0, DESCRIPTOR_DIM)))
        return cls(
            generation, paths, std.transform(raw), std, model, learned_weight, hand_z, hs, seen_all
        )

    def seen_of(self, path: str) -> np.ndarray | None:
        """Which hand-made descriptor dimensions an indexed clip shows (``[100]`` bool),
        or None (not indexed, or a learned model alone)."""
        if self.hand_seen is None:
            return None
        if self._rows is None:  # a dict once: a query asks for each of its matches
            self._rows = {p: i for i, p in enumerate(self.paths)}
        row = self._rows.get(path)
        return None if row is None else self.hand_seen[row]

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
        learned = (
            self.standardizer.transform(query.descriptor),
            self.standardizer.transform(query.mirrored),
            self.descriptors,
        )
        hs = self.hand_standardizer
        masks = None if self.hand_seen is None else (*query.seen_masks(), self.hand_seen)
        if self.hand is None or hs is None:
            sim = mirror_invariant_similarity(*learned, seen=masks)
        else:
            if query.hand is None or query.hand_mirrored is None:
                raise ValueError("a blended index needs the query's hand-made descriptors")
            hand = (hs.transform(query.hand), hs.transform(query.hand_mirrored), self.hand)
            sim = blended_similarity(learned, hand, self.learned_weight, masks)
        order = np.argsort(-sim, kind="stable")
        out = [(self.paths[i], float(sim[i])) for i in order if self.paths[i] != exclude]
        return out[:k]
